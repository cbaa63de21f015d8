"""Primary passwords checked by upstream RADIUS servers (a client whose primary is
``radius``), with pyrad's client: MFA Server's "RADIUS target".

The servers are asked in their order. The first that answers decides: Access-Accept is a
match, Access-Reject (or an Access-Challenge, which Twostep cannot relay) a wrong password,
and final: the next server is not asked, or a reject would turn into a retry elsewhere. A
server that does not answer within its timeout (one attempt each: the NAS retransmits the
whole request if it must) moves to the next; when none answers the check fails closed
(``unavailable``: the sign-in answers ``directory_unavailable``, counted against no one).

Requests carry Message-Authenticator (BlastRADIUS); pyrad keeps only a reply whose
Response Authenticator verifies with the server's secret, so a forged one is no answer.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from pathlib import Path

from pyrad import packet as pyrad_packet
from pyrad.client import Client, Timeout
from pyrad.dictionary import Dictionary

from twostep.domain.entities import RadiusUpstream, Tenant, User
from twostep.domain.ports.users import PasswordCheck, Verdict

log = logging.getLogger("twostep.radius")

MAX_PASSWORD_OCTETS = 128  # RFC 2865 5.2
_DICTIONARY: list[Dictionary] = []  # parsed once per process


def dictionary() -> Dictionary:
    if not _DICTIONARY:
        _DICTIONARY.append(Dictionary(str(Path(__file__).with_name("dictionary"))))
    return _DICTIONARY[0]


class UpstreamPasswords:
    """Implements ``PrimaryPasswords`` for one request: the user name as the NAS sent it
    (an unknown user is asked about too: that is what "require user match" off needs)."""

    def __init__(
        self,
        servers: Sequence[tuple[RadiusUpstream, bytes]],
        user_name: str,
        nas_identifier: str = "twostep",
    ) -> None:
        self.servers = servers
        self.user_name = user_name
        self.nas_identifier = nas_identifier

    def check(
        self, tenant: Tenant, user: User | None, stored: str | None, password: str
    ) -> PasswordCheck:
        raw = password.encode("utf-8")
        if not raw or len(raw) > MAX_PASSWORD_OCTETS:
            return PasswordCheck(Verdict.WRONG)  # nothing an upstream server could accept
        silent: list[str] = []
        for upstream, secret in self.servers:
            code = self._ask(upstream, secret, raw)
            if code is None:
                silent.append(f"{upstream.address}:{upstream.port}")
                continue
            return PasswordCheck(
                Verdict.MATCH if code == pyrad_packet.AccessAccept else Verdict.WRONG
            )
        detail = "no upstream RADIUS server answered: " + ", ".join(silent)
        log.warning("RADIUS primary for %r: %s", tenant.name, detail)
        return PasswordCheck(Verdict.UNAVAILABLE, detail)

    def _ask(self, upstream: RadiusUpstream, secret: bytes, password: bytes) -> int | None:
        """The answer's code, or None when the server did not answer in time."""
        client = Client(
            server=upstream.address, authport=upstream.port, secret=secret, dict=dictionary()
        )
        client.timeout = upstream.timeout
        client.retries = 1
        try:
            request = client.CreateAuthPacket(
                code=pyrad_packet.AccessRequest,
                authenticator=secrets.token_bytes(16),
            )
            request["User-Name"] = self.user_name
            request["User-Password"] = request.PwCrypt(password)
            request["NAS-Identifier"] = self.nas_identifier
            request.add_message_authenticator()
            reply = client.SendPacket(request)
        except Timeout:
            return None
        except OSError as exc:  # unreachable, refused: no answer either
            log.info("upstream RADIUS %s:%d: %s", upstream.address, upstream.port, exc)
            return None
        finally:
            client._CloseSocket()
        return int(reply.code)
