"""The pages' stores: admin grants and page sessions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twostep.domain.entities import Role
from twostep.domain.pages import AdminGrant, PageSession


class AdminGrantRepo(Protocol):
    def add(self, grant: AdminGrant) -> None: ...

    def by_id(self, grant_id: str) -> AdminGrant | None: ...

    def for_user(self, user_id: int) -> Sequence[AdminGrant]: ...

    def find(self, user_id: int, role: Role, scope_tenant_id: int | None) -> AdminGrant | None: ...

    def list(self, scope_tenant_id: int | None = None) -> Sequence[AdminGrant]:
        """Every grant (None), or those over one tenant or of its users."""
        ...

    def delete(self, grant_id: str) -> bool: ...


class PageSessionRepo(Protocol):
    def add(self, session: PageSession) -> None: ...

    def by_id(self, session_id: str) -> PageSession | None:
        """With the user's and tenant's names and the user's language."""
        ...

    def touch(self, session_id: str, now: float) -> None: ...

    def set_data(self, session_id: str, data: str | None) -> None: ...

    def revoke(self, session_id: str, now: float) -> bool: ...

    def revoke_user(self, user_id: int, now: float) -> int:
        """Revoke every live session of the user; how many."""
        ...

    def delete_expired(self, now: float, limit: int) -> int: ...
