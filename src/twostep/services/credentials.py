"""API keys for integrations and administrators.

A key is ``<prefix>_<key id>_<secret>``: the key id finds the row, the secret is
checked against its SHA-256 in constant time. The secret has 256 bits of entropy,
so a fast hash is enough (a slow password hash would only cost every request time);
only the hash is stored and the key is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from twostep.domain.entities import AdminKey, Integration
from twostep.domain.errors import IntegrationNotActivated
from twostep.domain.ports.credentials import IntegrationRepo
from twostep.domain.ports.storage import Transaction
from twostep.domain.ports.subjects import Keyed

INTEGRATION_PREFIX = "tsi"
ADMIN_PREFIX = "tsa"


@dataclass(frozen=True, slots=True)
class NewKey:
    key: str  # shown once
    key_id: str
    key_hash: bytes


def new_key(prefix: str) -> NewKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewKey(f"{prefix}_{key_id}_{secret}", key_id, _hash(secret))


def split_key(key: str, prefix: str) -> tuple[str, str] | None:
    """The key id and secret of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != prefix or len(parts[1]) != 16 or not parts[2]:
        return None
    return parts[1], parts[2]


def secret_matches(secret: str, stored_hash: bytes | None) -> bool:
    # A missing row is compared against a dummy so a wrong key id costs the same time.
    return hmac.compare_digest(_hash(secret), stored_hash or b"\0" * 32) and stored_hash is not None


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).digest()


class IntegrationKeys(Protocol):
    @property
    def integrations(self) -> IntegrationRepo: ...


def find_integration(tx: IntegrationKeys, key: str) -> Integration | None:
    """The active integration whose key this is, else None (same work either way). A
    right key of an integration its provider's replacement left pending raises
    IntegrationNotActivated: only the key's holder learns it."""
    found = _find(tx.integrations.by_key_id, key, INTEGRATION_PREFIX)
    if found is not None and found.pending_since is not None:
        raise IntegrationNotActivated("this integration must be activated again")
    return found


def find_keyed(read: Callable[[str], Keyed | None], key: str) -> Keyed | None:
    """``find_integration`` for the validation's read, which brings the key's row with the
    subject (``SubjectRepo.load_by_key``): the same checks, the same work either way."""
    found = _find(lambda key_id: _with_hash(read(key_id)), key, INTEGRATION_PREFIX)
    if found is not None and found.integration.pending_since is not None:
        raise IntegrationNotActivated("this integration must be activated again")
    return found


def _with_hash(keyed: Keyed | None) -> tuple[Keyed, bytes] | None:
    return None if keyed is None else (keyed, keyed.key_hash)


def find_admin_key(tx: Transaction, key: str) -> AdminKey | None:
    """The active admin API key this is, else None (same work either way)."""
    return _find(tx.admin_keys.by_key_id, key, ADMIN_PREFIX)


_Keyed = TypeVar("_Keyed", Integration, AdminKey, Keyed)


def _find(
    lookup: Callable[[str], tuple[_Keyed, bytes] | None], key: str, prefix: str
) -> _Keyed | None:
    parts = split_key(key, prefix)
    if parts is None:
        return None
    found = lookup(parts[0])
    if not secret_matches(parts[1], found[1] if found else None) or found is None:
        return None
    return None if found[0].revoked_at is not None else found[0]
