"""The sign-in's one read: a tenant with the user and the user's methods."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from twostep.domain.entities import (
    Integration,
    Method,
    Tenant,
    User,
)


@dataclass(frozen=True, slots=True)
class Subject:
    """Everything a validation needs to know about one user, read in one go."""

    tenant: Tenant
    user: User | None  # None: no such user in the tenant
    methods: tuple[Method, ...]
    sealed: Mapping[str, bytes]  # sealed seeds by method id
    password_hash: str | None = None  # the user's local primary password (argon2id), if set
    # The asking integration waits to be activated again (its provider was replaced): read
    # in the same statement, for callers that hold no key (RADIUS clients, hosted sign-in).
    integration_pending: bool = False


@dataclass(frozen=True, slots=True)
class Keyed:
    """The validation read by an integration key's id: the key's integration and its stored
    hash (the secret is checked by the caller), with the subject (None: no such tenant)."""

    integration: Integration
    key_hash: bytes
    subject: Subject | None

    @property
    def revoked_at(self) -> float | None:
        return self.integration.revoked_at


class SubjectRepo(Protocol):
    def load(
        self,
        user_name: str,
        *,
        tenant_id: int | None = None,
        tenant_name: str | None = None,
        integration_id: int | None = None,
    ) -> Subject | None:
        """The tenant (by id or name) with the user and their methods; None if no tenant.
        With ``integration_id``: whether that integration waits to be activated again."""
        ...

    def load_by_key(
        self, user_name: str, key_id: str, *, tenant_name: str | None = None
    ) -> Keyed | None:
        """The integration of the key id ``key_id`` with, in the same statement, its tenant
        (or the tenant named ``tenant_name``), the user and their methods; None if no such
        key id."""
        ...
