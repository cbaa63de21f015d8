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


def parse_address(text: str) -> tuple[str, int, float]:
    """``ADDRESS[:PORT[:TIMEOUT]]`` (an IPv6 address in brackets: ``[::1]:1812:5``) as the
    CLI and the management page take an upstream server; port 1812 and 5 s by default."""
    value = text.strip()
    if value.startswith("["):
        address, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise InvalidInput(f"{text!r}: expected [IPv6]:PORT:TIMEOUT", field="upstreams")
        rest = rest[1:]
    elif value.count(":") > 2:  # a bare IPv6 address
        address, rest = value, ""
    else:
        address, _, rest = value.partition(":")
    port, _, timeout = rest.partition(":")
    try:
        return address, int(port or 1812), float(timeout or DEFAULT_TIMEOUT)
    except ValueError:
        raise InvalidInput(
            f"{text!r}: expected ADDRESS[:PORT[:TIMEOUT]]", field="upstreams"
        ) from None


def parse_lines(text: str) -> tuple[NewUpstream, ...]:
    """Upstream servers one a line, ``ADDRESS[:PORT[:TIMEOUT]] SECRET`` (the management
    page's field); blank lines are skipped."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        where, _, secret = line.strip().partition(" ")
        if not secret.strip():
            raise InvalidInput(
                "each upstream server needs its secret: ADDRESS[:PORT[:TIMEOUT]] SECRET",
                field="upstreams",
            )
        address, port, timeout = parse_address(where)
        found.append(NewUpstream(address, secret.strip(), port, timeout))
    return tuple(found)
