"""The hosted sign-in (``/signin``): an application sends its user to Twostep's page with a
signed request, and gets them back with a signed, short-lived, single-use result
(docs/hosted-signin.md). This service checks a request, runs the second factor through
the one sign-in flow (interface ``web``), issues the result, and redeems it once; and it
keeps each integration's signing secret and return URLs (the admin side).

A request is trusted only once its MAC verifies under its integration's own secret; until
then nothing it says is used, and its ``redirect_uri`` is never followed unless it is one
of the integration's return URLs. Request and result jtis are recorded in the database,
so a request link starts one sign-in and a result is redeemed once, across nodes.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from twostep.domain import return_urls, signed_tokens
from twostep.domain.entities import AdminKey, Integration, MethodKind, Tenant
from twostep.domain.errors import (
    IntegrationNotActivated,
    IntegrationNotFound,
    ReturnUrlNotAllowed,
    SigninRequestExpired,
    SigninRequestInvalid,
    SigninRequestReplayed,
    SigninRequestSignature,
    SigninResultNotFound,
    SigninResultRedeemed,
)
from twostep.domain.ports.hosted_signin import SigninSettings, TokenKind
from twostep.domain.ports.storage import Transaction
from twostep.domain.results import Decision, Result
from twostep.domain.sealing import signin_context
from twostep.domain.text import first_refused
from twostep.services import admin_log
from twostep.services.admin import tenant_for
from twostep.services.context import Deps
from twostep.services.signin import SignIn
from twostep.services.signin_request import SignInRequest

log = logging.getLogger("twostep.signin")

AUDIENCE = "twostep:signin"  # a request's aud: a token made for anything else is refused
ISSUER = "twostep"  # a result's iss
INTERFACE = "web"
MAX_REQUEST_LIFETIME = 600  # seconds from iat to exp
CLOCK_SKEW = 30  # seconds an application's clock may run ahead of ours
RESULT_LIFETIME = 60
MAX_USER = 256
MAX_STATE = 512
MAX_JTI = 128
SECRET_BYTES = 32  # 256 bits
SECRET_PREFIX = "tss_"  # noqa: S105 - a prefix, not a secret
_JTI = re.compile(r"^[!-~]+$")  # printable ASCII, no space


@dataclass(frozen=True, slots=True)
class SigninConfig:
    """What an admin sees of an integration's hosted sign-in: never the secret."""

    integration: str
    key_id: str
    return_urls: tuple[str, ...]
    secret_issued_at: float | None


@dataclass(frozen=True, slots=True)
class HostedRequest:
    """A request that verified: whose it is, for whom, and where its result goes."""

    integration: Integration
    user: str  # as the application sent it (the result's sub)
    redirect_uri: str  # the listed return URL it names, normalised: the only place we send
    state: str
    jti: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class IssuedResult:
    token: str
    jti: str
    url: str  # redirect_uri?result=...&state=...


class HostedSignIn:
    def __init__(self, deps: Deps, signin: SignIn) -> None:
        self.deps = deps
        self.signin = signin

    # -- admin -------------------------------------------------------------------------

    def config(self, actor: AdminKey, tenant_name: str, name: str) -> SigninConfig:
        with self.deps.storage.transaction() as tx:
            integration = _integration(tx, tenant_for(tx, actor, tenant_name), name)
            return _config(integration, tx.signin.settings(integration.id))

    def set_return_urls(
        self, actor: AdminKey, tenant_name: str, name: str, urls: list[str]
    ) -> SigninConfig:
        listed = return_urls.normalise_all(urls)
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            integration = _integration(tx, tenant, name)
            before = tx.signin.settings(integration.id)
            old = list(before.return_urls) if before is not None else []
            tx.signin.set_return_urls(integration.id, listed, now)
            changed = admin_log.changes({"return_urls": old}, {"return_urls": listed})
            admin_log.record(tx, self.deps, actor, tenant, "integration.signin_urls", name, changed)
            return _config(integration, tx.signin.settings(integration.id))

    def issue_secret(
        self, actor: AdminKey, tenant_name: str, name: str
    ) -> tuple[SigninConfig, str]:
        """A new signing secret (the first, or one replacing the old at once): returned
        only now. Requests signed with the old secret are refused from this moment."""
        secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            integration = _integration(tx, tenant, name)
            before = tx.signin.settings(integration.id)
            had = before is not None and before.sealed_secret is not None
            sealed = self.deps.secrets.seal(
                secret.encode("ascii"), signin_context(str(integration.id))
            )
            tx.signin.set_secret(integration.id, sealed, now)
            # Recorded as set ("***"), never its value; a rotation shows the old one as set.
            changed = admin_log.changes(
                {"secret": "old" if had else None}, {"secret": secret}, secret=["secret"]
            )
            admin_log.record(
                tx, self.deps, actor, tenant, "integration.signin_secret", name, changed
            )
            return _config(integration, tx.signin.settings(integration.id)), secret

    # -- the sign-in -------------------------------------------------------------------

    def open(self, token: str) -> HostedRequest:
        """Check a request token and start its one sign-in: its jti is recorded, so the
        same request is refused from now on (``signin_request_replayed``)."""
        request = self.check(token)
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tx.signin.sweep(now)
            if not tx.signin.record(
                request.integration.id, TokenKind.REQUEST, request.jti, request.expires_at
            ):
                raise SigninRequestReplayed("this request already started a sign-in")
        return request

    def check(self, token: str) -> HostedRequest:
        """Check a request token without starting anything (the page's first view): the
        algorithm and signature first, then the time, the claims, the return URL."""
        parsed = signed_tokens.parse(token)
        claims = parsed.claims
        key_id = claims.get("iss")
        if not isinstance(key_id, str) or parsed.kid != key_id:
            raise SigninRequestSignature(
                "the request's kid must be its iss (the integration key id)"
            )
        with self.deps.storage.transaction() as tx:
            found = tx.integrations.by_key_id(key_id) if len(key_id) <= 64 else None
            integration = found[0] if found is not None else None
            settings = tx.signin.settings(integration.id) if integration is not None else None
        if (
            integration is None
            or integration.revoked_at is not None
            or settings is None
            or settings.sealed_secret is None
        ):
            raise SigninRequestSignature("no integration with a signing secret has this key id")
        key = self.deps.secrets.open(settings.sealed_secret, signin_context(str(integration.id)))
        parsed.verify(key)
        if integration.pending_since is not None:  # told only to a correctly signed request
            raise IntegrationNotActivated("this integration must be activated again")
        now = self.deps.clock.now()
        iat, exp = _time(claims, "iat"), _time(claims, "exp")
        if exp <= now or iat > now + CLOCK_SKEW or exp <= iat or exp - iat > MAX_REQUEST_LIFETIME:
            raise SigninRequestExpired(
                f"the request is expired, from the future, or lives over {MAX_REQUEST_LIFETIME} s"
            )
        return _claims(integration, claims, settings, exp)

    def sign_in(
        self,
        request: HostedRequest,
        *,
        code: str | None = None,
        method: MethodKind | None = None,
        client_ip: str | None = None,
        prompt_for_code: bool = False,
        remembered_device: bool = False,
    ) -> Decision:
        """One step of the sign-in, through the one flow: a code, or a method to start.
        No password: the application checked it before sending the user here. The page's
        first step asks ``prompt_for_code`` (a code method answers a prompt to fill in);
        ``remembered_device``: the page recognised this user's remembered browser."""
        return self.signin.sign_in(
            SignInRequest(
                user=request.user,
                integration=request.integration,
                code=code,
                method=method,
                client_ip=client_ip,
                interface=INTERFACE,
                prompt_for_code=prompt_for_code,
                remembered_device=remembered_device,
            )
        )

    def active_integration(self, key_id: str) -> Integration | None:
        """The integration of this key id while it is not revoked nor waiting to be activated
        again (a sign-in in progress at the page stops when either happens)."""
        if not key_id or len(key_id) > 64:
            return None
        with self.deps.storage.transaction() as tx:
            found = tx.integrations.by_key_id(key_id)
        if found is None or found[0].revoked_at is not None or found[0].pending_since is not None:
            return None
        return found[0]

    def issue(self, request: HostedRequest, decision: Decision, method: str | None) -> IssuedResult:
        """The result of a finished sign-in (accept or reject), recorded for its one
        redeem, and the URL that takes the user back with it."""
        if decision.result is Result.CHALLENGE:
            raise ValueError("a challenge is not a result: wait for its outcome")
        now = self.deps.clock.now()
        issued_at = math.floor(now)
        jti = secrets.token_urlsafe(16)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": request.integration.key_id,
            "sub": request.user,
            "result": decision.result.value,
            "reason": decision.reason.value if decision.reason is not None else None,
            "method": method,
            "state": request.state,
            "iat": issued_at,
            "exp": issued_at + RESULT_LIFETIME,
            "jti": jti,
        }
        with self.deps.storage.transaction(write=True) as tx:
            settings = tx.signin.settings(request.integration.id)
            if settings is None or settings.sealed_secret is None:  # removed meanwhile
                raise SigninRequestSignature("the integration no longer has a signing secret")
            tx.signin.record(request.integration.id, TokenKind.RESULT, jti, claims["exp"])
        key = self.deps.secrets.open(
            settings.sealed_secret, signin_context(str(request.integration.id))
        )
        token = signed_tokens.encode(claims, key, request.integration.key_id)
        query = urlencode({"result": token, "state": request.state})
        return IssuedResult(token, jti, f"{request.redirect_uri}?{query}")

    def redeem(self, integration: Integration, jti: str) -> None:
        """Spend a result once (one conditional update decides between nodes)."""
        now = self.deps.clock.now()
        if not jti or len(jti) > MAX_JTI or not _JTI.match(jti):
            raise SigninResultNotFound("no such result")
        with self.deps.storage.transaction(write=True) as tx:
            won = tx.signin.redeem(integration.id, jti, now)
        if won is None:
            raise SigninResultNotFound("no result of this integration with this jti to redeem")
        if not won:
            raise SigninResultRedeemed("this result was already redeemed")

    def sweep(self) -> int:
        """Forget request and result jtis past their expiry (they are refused by then)."""
        with self.deps.storage.transaction(write=True) as tx:
            return tx.signin.sweep(self.deps.clock.now())


def _integration(tx: Transaction, tenant: Tenant, name: str) -> Integration:
    integration = tx.integrations.by_name(tenant.id, name)
    if integration is None:
        raise IntegrationNotFound(f"no integration {name!r}")
    return integration


def _config(integration: Integration, settings: SigninSettings | None) -> SigninConfig:
    return SigninConfig(
        integration=integration.name,
        key_id=integration.key_id,
        return_urls=settings.return_urls if settings is not None else (),
        secret_issued_at=settings.secret_issued_at if settings is not None else None,
    )


def _text(claims: Mapping[str, Any], name: str, limit: int, *, empty: bool = False) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or len(value) > limit or (not value and not empty):
        raise SigninRequestInvalid(f"the request's {name} must be a string of at most {limit}")
    if first_refused(value) is not None:
        raise SigninRequestInvalid(f"the request's {name} holds a control character")
    return value


def _time(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SigninRequestInvalid(f"the request's {name} must be a number (seconds since 1970)")
    return float(value)


def _claims(
    integration: Integration, claims: Mapping[str, Any], settings: SigninSettings, exp: float
) -> HostedRequest:
    if claims.get("aud") != AUDIENCE:
        raise SigninRequestInvalid(f"the request's aud must be {AUDIENCE!r}")
    user = _text(claims, "sub", MAX_USER)
    state = _text(claims, "state", MAX_STATE, empty=True)
    jti = _text(claims, "jti", MAX_JTI)
    if not _JTI.match(jti):
        raise SigninRequestInvalid("the request's jti must be printable ASCII")
    redirect = _text(claims, "redirect_uri", return_urls.MAX_LENGTH)
    listed = return_urls.allowed(redirect, list(settings.return_urls))
    if listed is None:
        log.warning(
            "hosted sign-in request of integration %r refused: its redirect_uri is not listed",
            integration.name,
        )
        raise ReturnUrlNotAllowed("the redirect_uri is not one of the integration's return URLs")
    return HostedRequest(integration, user, listed, state, jti, exp)
