"""Secrets at rest: the box that seals and opens them, the keyring's rotation, and
every sealed value for re-encryption."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from twostep.domain.sealing import SealedValue


class SecretBox(Protocol):
    """Authenticated encryption of secrets at rest, bound to a context string."""

    def seal(self, plaintext: bytes, context: str) -> bytes: ...

    def open(self, sealed: bytes, context: str) -> bytes: ...

    def needs_rotation(self, sealed: bytes) -> bool:
        """True when ``sealed`` is not under the current key."""
        ...

    def digest(self, data: bytes, context: str) -> bytes:
        """A keyed digest of a short-lived secret (a one-time code): a copy of the
        database alone cannot try the million codes against it."""
        ...

    def digest_matches(self, digest: bytes, data: bytes, context: str) -> bool:
        """Compare in constant time; False for a digest under a key no longer held."""
        ...


class KeyManager(Protocol):
    """Owns the keyring; rotation is two-phase so a crash never strands a secret."""

    def begin_rotation(self) -> SecretBox:
        """Make a new current key (old ones still open) and return a box over all of them."""
        ...

    def finish_rotation(self) -> str:
        """Retire the old keys; returns a note for the operator."""
        ...


class SealedRepo(Protocol):
    """Every secret at rest (seeds, PINs, gateway credentials, RADIUS secrets, push
    channels), for re-encryption under a new key."""

    def each(self) -> Iterator[SealedValue]: ...

    def replace(self, value: SealedValue, sealed: bytes) -> None:
        """Store ``sealed`` in the place ``value`` came from."""
        ...

    def any(self) -> bool: ...
