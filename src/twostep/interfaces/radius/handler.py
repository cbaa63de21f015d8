"""One Access-Request, from datagram to reply.

``receive`` runs for every datagram, on the event loop, and is cheap: it finds the client
by source address, checks the framing and the Message-Authenticator (BlastRADIUS
mitigations), answers duplicates from the reply cache, and decodes the attributes. What
passes becomes ``Work``; ``decide`` then makes one call to the sign-in flow
(services/signin.py: the password, the code, the challenge, the wait for a push all live
there) and signs the reply, which the cache keeps for the duplicates to come. What a mode
means is only how User-Password and State are read (``sign_in_request``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from twostep.adapters.logs import new_request_id, reset_request_id, set_request_id
from twostep.adapters.ratelog import LimitedLog
from twostep.bootstrap import App
from twostep.domain.entities import MethodKind, RadiusMode, RadiusPrimary
from twostep.domain.ports.users import PrimaryPasswords
from twostep.domain.results import Decision, Reason, Result
from twostep.factors import registry
from twostep.interfaces.radius import packet
from twostep.interfaces.radius.attributes import AccessRequest, decode
from twostep.interfaces.radius.clients import ClientTable
from twostep.interfaces.radius.dedupe import PENDING, Key, ReplyCache
from twostep.interfaces.radius.packet import Frame, Malformed
from twostep.interfaces.radius.upstream import UpstreamPasswords
from twostep.services.primary import DirectoryPasswords
from twostep.services.radius_clients import LoadedClient
from twostep.services.signin_request import Entry, SignInRequest

log = logging.getLogger("twostep.radius")

INTERFACE = "radius"

_REJECT_MESSAGES = {
    Reason.USER_LOCKED: "Too many failed attempts: try again later",
    Reason.NO_METHOD_REGISTERED: "No verification method is registered for this account",
    Reason.TOKEN_EXPIRED: "Your hardware token has expired: ask your help desk for a new one",
    Reason.METHOD_NOT_REGISTERED: "That verification method is not registered for this account",
    Reason.METHOD_NOT_SUPPORTED: "That verification method is not available here",
    Reason.USER_DISABLED: "This account is disabled",
    Reason.DIRECTORY_UNAVAILABLE: "The password cannot be checked now: try again later",
    Reason.REGISTRATION_REQUIRED: "Register a verification method for this account first",
    Reason.REGISTRATION_POLICY: "Register the verification method your organisation requires",
    Reason.METHOD_DISABLED: "That verification method is turned off: choose another",
    Reason.DEFAULT_METHOD_DISABLED: (
        "Your usual verification method is turned off: choose another, or register one"
    ),
}


class _Drop(Exception):
    """Drop the datagram, with a (rate-limited) log line."""

    def __init__(self, key: str, message: str, *args: object) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
        self.args = args


@dataclass(frozen=True, slots=True)
class Work:
    """A checked, decoded Access-Request waiting for its decision."""

    key: Key
    loaded: LoadedClient
    frame: Frame
    request: AccessRequest
    request_id: str = field(default_factory=new_request_id)  # in its logs and audit event

    @property
    def slow(self) -> bool:
        """Needs a thread whatever the database: argon2 takes tens of milliseconds."""
        mode = self.loaded.client.mode
        if mode in (RadiusMode.PASSWORD_AND_CODE, RadiusMode.PASSWORD_ONLY):
            return True
        if self.loaded.client.primary is not RadiusPrimary.NONE and self.request.state is None:
            return True  # a bind, or a round trip to an upstream RADIUS server
        # Challenge mode's first request may carry the password the NAS forwards.
        return mode is RadiusMode.CHALLENGE and self.request.state is None and self.forwarded

    @property
    def forwarded(self) -> bool:
        """User-Password holds something other than a method's name: in challenge mode's
        first request, that is the primary password (OpenVPN's radiusplugin, pfSense)."""
        code, _method = code_or_method(self.request.password)
        return code is not None

    @property
    def blocking(self) -> bool:
        """May wait on something other than the database: a gateway delivering a text or
        a call, or the user approving a push. Only a typed code is decided inline."""
        code, _method = code_or_method(self.request.password)
        return self.request.state is not None or code is None


def code_or_method(text: str | None) -> tuple[str | None, MethodKind | None]:
    """What the user typed: a code, a method's name (``push``, ``sms``...) or nothing."""
    value = (text or "").strip()
    if not value:
        return None, None
    picked = registry.by_word(value)
    return (None, picked.kind) if picked is not None else (value, None)


def primary_of(work: Work, directory: PrimaryPasswords) -> PrimaryPasswords | None:
    """Who checks the primary password for this request: the client's own choice, or None
    (the tenant's, as the mode reads it)."""
    client = work.loaded.client
    if client.primary is RadiusPrimary.LDAP:
        return directory
    if client.primary is RadiusPrimary.RADIUS:
        assert work.request.user is not None
        servers = list(zip(client.upstreams, work.loaded.upstream_secrets, strict=True))
        return UpstreamPasswords(servers, work.request.user)
    return None


def sign_in_request(work: Work, primary: PrimaryPasswords | None = None) -> SignInRequest:
    """What the Access-Request asks, in the sign-in flow's terms: User-Password is the one
    field, holding what the client's mode says; State continues a challenge. With a primary
    of the client's own, the first request's User-Password is the primary password (in
    ``password_and_code``, followed by the code), always checked."""
    request, client = work.request, work.loaded.client
    assert request.user is not None
    challenges = client.mode is RadiusMode.CHALLENGE
    entry = {
        RadiusMode.SECOND_FACTOR: Entry.CODE,
        RadiusMode.PASSWORD_AND_CODE: Entry.PASSWORD_AND_CODE,
        RadiusMode.CHALLENGE: Entry.CODE if request.state else Entry.PASSWORD_OR_WORD,
        RadiusMode.PASSWORD_ONLY: Entry.PASSWORD_ONLY,
    }[client.mode]
    asked = SignInRequest(
        user=request.user,
        integration=work.loaded.integration,
        typed=request.password,
        entry=entry,
        state=request.state.decode("ascii", "replace") if request.state is not None else None,
        client_ip=request.client_ip,
        interface=INTERFACE,
        prompt_for_code=challenges,
        can_prompt=challenges,
        wait=client.push_wait_seconds,
        primary=primary,
        require_user_match=client.require_user_match,
        oath_fallback=client.oath_fallback,
    )
    if primary is None or request.state is not None or entry is Entry.PASSWORD_AND_CODE:
        return asked
    # The whole field is the password: never read as a method's word or a code.
    return replace(asked, typed=None, entry=Entry.CODE, password=request.password or "")


def reject_message(reason: Reason | None, mode: RadiusMode) -> str:
    if reason in _REJECT_MESSAGES:
        return _REJECT_MESSAGES[reason]
    if reason is Reason.CODE_REQUIRED:
        if mode is RadiusMode.PASSWORD_AND_CODE:
            return "Enter your password followed by your verification code"
        return "Enter your verification code"
    if mode is RadiusMode.PASSWORD_AND_CODE:
        return "Invalid password or verification code"
    if mode is RadiusMode.PASSWORD_ONLY:
        return "Invalid password"
    return "Invalid verification code"


class RadiusHandler:
    def __init__(
        self,
        app: App,
        clients: Callable[[], ClientTable],
        cache: ReplyCache,
        limited: LimitedLog,
    ) -> None:
        self.app = app
        self.clients = clients
        self.cache = cache
        self.limited = limited
        self.dropped = 0
        self.answered = 0
        self.on_drop: Callable[[str], None] = lambda _cause: None  # the metrics, when served
        # A client's ``ldap`` primary: binds to the users' directories, pooled per process.
        self.directory_passwords = DirectoryPasswords(app.directories, app.directory_connector)

    # -- on the event loop, for every datagram -----------------------------------------

    def receive(self, data: bytes, addr: tuple[str, int]) -> bytes | Work | None:
        """The cached reply to resend, the work to decide, or None (dropped)."""
        try:
            return self._receive(data, addr)
        except _Drop as drop:
            self.dropped += 1
            self.on_drop(drop.key.partition(":")[0])
            self.limited.warning(drop.key, drop.message, *drop.args)
            return None

    def _receive(self, data: bytes, addr: tuple[str, int]) -> bytes | Work | None:
        host, port = addr[0], addr[1]
        loaded = self.clients().match(host)
        if loaded is None:
            raise _Drop(f"unknown:{host}", "dropped a datagram from %s: not a RADIUS client", host)
        client = loaded.client
        try:
            frame = packet.parse(data)
        except Malformed as exc:
            raise _Drop(
                f"malformed:{host}",
                "dropped a malformed packet from %s (%s): %s",
                host,
                client.name,
                exc,
            ) from None
        if frame.code not in (packet.ACCESS_REQUEST, packet.STATUS_SERVER):
            raise _Drop(
                f"code:{host}",
                "dropped a packet of code %d from %s (%s)",
                frame.code,
                host,
                client.name,
            )
        if frame.ma_offset is not None:
            if not packet.message_authenticator_valid(frame, loaded.secret):
                raise _Drop(
                    f"ma:{host}",
                    "dropped a packet from %s (%s): wrong Message-Authenticator (is the shared "
                    "secret the same on both sides?)",
                    host,
                    client.name,
                )
        elif frame.code == packet.STATUS_SERVER or client.require_message_authenticator:
            raise _Drop(
                f"no-ma:{host}",
                "dropped a packet from %s (%s) without Message-Authenticator (BlastRADIUS "
                "mitigation: configure the NAS to send it)",
                host,
                client.name,
            )
        elif client.limit_proxy_state and frame.first(packet.PROXY_STATE) is not None:
            raise _Drop(
                f"proxy-state:{host}",
                "dropped a packet from %s (%s) with Proxy-State but no Message-Authenticator",
                host,
                client.name,
            )
        key: Key = (host, port, frame.id, frame.authenticator)
        cached = self.cache.lookup(key)
        if cached is PENDING:
            self.dropped += 1
            self.on_drop("pending")
            return None  # the first copy is still being decided
        if isinstance(cached, bytes):
            log.debug("duplicate request %d from %s:%d: the cached reply", frame.id, host, port)
            return cached
        if frame.code == packet.STATUS_SERVER:  # RFC 5997: alive
            reply = packet.sign_reply(
                packet.ACCESS_ACCEPT, frame.id, frame.authenticator, [], loaded.secret
            )
            self.cache.finish(key, reply)
            return reply
        try:
            request = decode(frame, loaded.secret)
        except Malformed as exc:
            raise _Drop(
                f"malformed:{host}",
                "dropped a malformed packet from %s (%s): %s",
                host,
                client.name,
                exc,
            ) from None
        self.cache.begin(key)
        return Work(key, loaded, frame, request)

    # -- the decision (on the loop for SQLite, else in a thread) -------------------------

    def decide(self, work: Work) -> bytes:
        """The signed reply, also kept for duplicates. If a service raises, nothing is
        cached and the exception propagates: no reply, so the NAS retries or fails over."""
        token = set_request_id(work.request_id)  # in this thread (or inline on the loop)
        try:
            code, attributes = self._answer(work)
            reply = packet.sign_reply(
                code,
                work.frame.id,
                work.frame.authenticator,
                attributes
                + [(packet.PROXY_STATE, v) for v in work.frame.values(packet.PROXY_STATE)],
                work.loaded.secret,
            )
        except BaseException:
            self.cache.abandon(work.key)
            raise
        finally:
            reset_request_id(token)
        self.cache.finish(work.key, reply)
        self.answered += 1
        return reply

    def _answer(self, work: Work) -> tuple[int, list[tuple[int, bytes]]]:
        """Decode, one call to the sign-in flow, encode."""
        request, mode = work.request, work.loaded.client.mode
        if request.eap:
            return _reject("EAP is not supported: configure the NAS for PAP")
        if request.chap:
            return _reject("CHAP is not supported: configure the NAS for PAP")
        if request.refused_user is not None:  # control characters: refused, and audited
            self.app.signin.refuse(
                None,
                request.refused_user,
                client_ip=request.client_ip,
                integration=work.loaded.integration,
                interface=INTERFACE,
            )
            return _reject("Invalid user name")
        if request.user is None:
            return _reject("A user name is required")
        primary = primary_of(work, self.directory_passwords)
        return self._reply(self.app.signin.sign_in(sign_in_request(work, primary)), mode)

    def _reply(self, decision: Decision, mode: RadiusMode) -> tuple[int, list[tuple[int, bytes]]]:
        if decision.result is Result.ACCEPT:
            return packet.ACCESS_ACCEPT, []
        if decision.result is Result.CHALLENGE:
            prompt = decision.prompt or "Enter your verification code"
            attributes = packet.text_attributes(packet.REPLY_MESSAGE, prompt)
            if decision.transaction_id:
                attributes.append((packet.STATE, decision.transaction_id.encode("ascii")))
            return packet.ACCESS_CHALLENGE, attributes
        return _reject(decision.message or reject_message(decision.reason, mode))


def _reject(message: str) -> tuple[int, list[tuple[int, bytes]]]:
    return packet.ACCESS_REJECT, packet.text_attributes(packet.REPLY_MESSAGE, message)
