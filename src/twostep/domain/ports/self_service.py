"""The self-service portal's stores: enrollment links and "not me" reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twostep.domain.audit import AuditEvent
from twostep.domain.self_service import EnrollmentLink, SignInReport


class EnrollmentLinkRepo(Protocol):
    def add(self, link: EnrollmentLink, token_hash: str) -> None: ...

    def by_token(self, token_hash: str) -> EnrollmentLink | None: ...

    def for_user(self, user_id: int) -> Sequence[EnrollmentLink]:
        """Newest first."""
        ...

    def use(self, link_id: str, now: float) -> bool:
        """Spend the link: one conditional update (not used, not revoked, not expired);
        False when another request spent it first, or it cannot be spent."""
        ...

    def revoke_open(self, user_id: int, now: float) -> int:
        """Revoke the user's links not used nor revoked yet; how many."""
        ...


class SignInReportRepo(Protocol):
    def event(self, tenant_id: int, user_name: str, event_id: str) -> AuditEvent | None:
        """The audit event ``event_id`` if it is of this user (by display name)."""
        ...

    def add(self, report: SignInReport) -> bool:
        """Record the report once: False when the event was reported already."""
        ...

    def reported(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these events were reported."""
        ...
