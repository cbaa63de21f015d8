"""What a sealed value is bound to: the authenticated data (context) of each kind of
secret at rest, so a ciphertext copied to another row or column does not open there."""

from __future__ import annotations

from dataclasses import dataclass


def method_context(method_id: str) -> str:
    """A method's seed, or a voice method's PIN."""
    return f"method:{method_id}"


def gateway_context(gateway_id: str) -> str:
    """A gateway's credentials."""
    return f"gateway:{gateway_id}"


def device_context(device_id: str) -> str:
    """A device's push channel."""
    return f"device:{device_id}"


def radius_client_context(client_id: str) -> str:
    """A RADIUS client's shared secret."""
    return f"radius_client:{client_id}"


def radius_upstream_context(client_id: str, position: int) -> str:
    """The shared secret of a RADIUS client's upstream server, at its place in the order."""
    return f"radius_upstream:{client_id}:{position}"


def directory_context(directory_id: str) -> str:
    """A directory's bind password (its reading account's)."""
    return f"directory:{directory_id}"


def signin_context(integration_id: str) -> str:
    """An integration's hosted sign-in signing secret."""
    return f"signin:{integration_id}"


@dataclass(frozen=True, slots=True)
class SealedValue:
    """One secret at rest: where it lives, what it is bound to, its ciphertext."""

    place: str  # "table.column", e.g. "methods.seed"
    row_id: str
    context: str
    sealed: bytes
