"""A RADIUS client's MFA Server options, checked: require user match, the OATH fallback,
who checks the primary password, and the upstream RADIUS servers it may proxy to.

The rules, and why:

* ``require_user_match`` off needs a primary of the client's own (``ldap`` or ``radius``):
  without one, an unknown user would be accepted on nothing at all.
* a primary of its own (``ldap``, ``radius``) reads User-Password as the primary password,
  so it goes with ``second_factor`` (then the user's default method, waited for),
  ``challenge`` (then a challenge) or ``password_and_code``; never with ``password_only``,
  whose field is an app password.
* ``radius`` needs 1 to ``MAX_UPSTREAMS`` upstream servers, each an IP address (no name to
  resolve), a port, a timeout and a shared secret (sealed at rest, never shown again).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from twostep.domain.entities import RadiusClient, RadiusMode, RadiusPrimary, RadiusUpstream
from twostep.domain.errors import InvalidInput

MAX_UPSTREAMS = 8
MIN_TIMEOUT, MAX_TIMEOUT = 0.5, 30.0
DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class NewUpstream:
    """An upstream RADIUS server as an admin gives it (the secret in the clear, once)."""

    address: str
    secret: str
    port: int = 1812
    timeout: float = DEFAULT_TIMEOUT


def primary_of(value: RadiusPrimary | str) -> RadiusPrimary:
    try:
        return RadiusPrimary(value)
    except ValueError as exc:
        choices = ", ".join(p.value for p in RadiusPrimary)
        raise InvalidInput(f"primary must be one of {choices}", field="primary") from exc


def upstream_of(new: NewUpstream) -> RadiusUpstream:
    """The server's settings, checked (its secret is checked by the caller)."""
    try:
        address = ipaddress.ip_address(new.address.strip())
    except ValueError as exc:
        raise InvalidInput(
            "an upstream server's address must be an IP address", field="upstreams"
        ) from exc
    if not 1 <= new.port <= 65535:
        raise InvalidInput("an upstream server's port must be 1-65535", field="upstreams")
    if not MIN_TIMEOUT <= new.timeout <= MAX_TIMEOUT:
        raise InvalidInput(
            f"an upstream server's timeout must be {MIN_TIMEOUT}-{MAX_TIMEOUT} s",
            field="upstreams",
        )
    return RadiusUpstream(address=str(address), port=new.port, timeout=float(new.timeout))


def check(client: RadiusClient) -> None:
    """Refuse options that do not go together (see the module's docstring)."""
    own = client.primary is not RadiusPrimary.NONE
    if not client.require_user_match and not own:
        raise InvalidInput(
            "require_user_match may be off only with a primary of the client's own "
            "(ldap or radius): else an unknown user would be accepted on nothing",
            field="require_user_match",
        )
    if own and client.mode is RadiusMode.PASSWORD_ONLY:
        raise InvalidInput(
            "a primary of the client's own does not go with password_only mode", field="primary"
        )
    if client.primary is RadiusPrimary.RADIUS and not 1 <= len(client.upstreams) <= MAX_UPSTREAMS:
        raise InvalidInput(
            f"primary radius needs 1-{MAX_UPSTREAMS} upstream servers", field="upstreams"
        )
    if client.primary is not RadiusPrimary.RADIUS and client.upstreams:
        raise InvalidInput("upstream servers are for primary radius only", field="upstreams")


def described(upstreams: Sequence[RadiusUpstream]) -> list[str]:
    """The upstreams as the admin trail records them (no secret)."""
    return [f"{u.address}:{u.port} ({u.timeout:g} s)" for u in upstreams]
