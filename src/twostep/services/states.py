"""RADIUS States: a challenge as the State of an Access-Challenge. A State is bound to the
user and the client it was issued to, single use, and expires; every refusal is audited
like every RADIUS decision. A code method's prompt is a challenge of its own (120 s)."""

from __future__ import annotations

import logging
from typing import Protocol

from twostep.domain.challenges import Challenge, ChallengeState, Parties
from twostep.domain.entities import Integration
from twostep.domain.ports.audit import AuditSink
from twostep.domain.ports.challenges import ChallengeRepo
from twostep.domain.ports.storage import Storage
from twostep.domain.ports.tenants import TenantRepo
from twostep.domain.ports.users import Lockout, UserFinder
from twostep.domain.results import Decision, Reason, Result
from twostep.services.audit import new_event
from twostep.services.challenges import (
    ChallengeService,
    StartRequest,
    decided,
    is_transaction_id,
    new_transaction_id,
)
from twostep.services.context import Deps
from twostep.services.lockout import count_failure

log = logging.getLogger("twostep.radius")

CODE_PROMPT_SECONDS = 120  # a RADIUS State asking for a code lives this long
INTERFACE = "radius"


class UserLookup(Lockout, UserFinder, Protocol):
    """A State is checked against the user named; a refused one counts a failure."""


class StatesWork(Protocol):
    @property
    def tenants(self) -> TenantRepo: ...

    @property
    def users(self) -> UserLookup: ...

    @property
    def challenges(self) -> ChallengeRepo: ...

    @property
    def audit(self) -> AuditSink: ...


class States:
    def __init__(self, deps: Deps, ledger: ChallengeService) -> None:
        self.deps = deps
        self.storage: Storage[StatesWork] = deps.storage
        self.ledger = ledger

    def prompt_code(self, request: StartRequest, timeout: int = CODE_PROMPT_SECONDS) -> Decision:
        """Challenge mode for a code method: a single-use State, bound to the user and the
        client, that the next Access-Request answers with the code."""
        now = self.deps.clock.now()
        challenge_id = new_transaction_id()
        decision = Decision(
            Result.CHALLENGE,
            transaction_id=challenge_id,
            methods=request.methods,
            prompt="Enter your verification code",
        )
        with self.storage.transaction(write=True) as tx:
            tx.challenges.add(
                Challenge(
                    id=challenge_id,
                    tenant_id=request.tenant.id,
                    user_id=request.user.id,
                    method_id=request.method.id,
                    kind=request.method.kind,
                    state=ChallengeState.PENDING,
                    max_attempts=1,
                    created_at=now,
                    expires_at=now + timeout,
                    last_sent_at=now,
                    interface=request.event.interface,
                    integration=request.event.integration,
                    client_ip=request.event.client_ip,
                )
            )
            tx.audit.add(request.tenant.id, decided(request.event, decision))
        return decision

    def resume(
        self,
        integration: Integration,
        state: str,
        user_name: str,
        client_ip: str | None,
        interface: str = INTERFACE,
    ) -> Parties | Decision:
        """The challenge a State names, won for this one request; otherwise the rejection,
        audited (a forged, crossed or replayed State) with the interface that sent it (a
        RADIUS State, or a page continuing its challenge)."""
        now = self.deps.clock.now()
        with self.storage.transaction(write=True) as tx:
            tenant = tx.tenants.by_id(integration.tenant_id)
            if tenant is None:
                return Decision(Result.REJECT, Reason.INVALID_CODE)
            user = tx.users.by_name(tenant.id, user_name)
            found = tx.challenges.with_parties(state) if is_transaction_id(state) else None
            challenge = found.challenge if found is not None else None
            refused: tuple[Reason, str] | None = None
            if found is None or found.tenant.id != tenant.id:
                refused = Reason.INVALID_CODE, "RADIUS State not issued by Twostep"
            elif found.challenge.integration != integration.name:
                refused = Reason.INVALID_CODE, "RADIUS State issued to another client"
            elif user is None or user.id != found.user.id:
                refused = Reason.INVALID_CODE, "RADIUS State issued for another user"
            elif not tx.challenges.use_state(found.challenge.id, now):
                refused = Reason.CODE_REPLAYED, "RADIUS State used again"
            if refused is None and found is not None:
                return found
            reason, detail = refused or (Reason.INVALID_CODE, "")
            decision = Decision(Result.REJECT, reason)
            event = new_event(
                self.deps.node,
                now,
                tenant.name,
                tenant.settings,
                user_name,
                user,
                integration=integration.name,
                client_ip=client_ip,
                interface=interface,
                request_id=self.deps.request_ids.current(),
                method=challenge.kind.value if challenge is not None else None,
            )
            tx.audit.add(tenant.id, decided(event, decision, detail))
            if user is not None and reason is Reason.INVALID_CODE:
                count_failure(tx, user, now, tenant.settings)
        label = "RADIUS" if interface == INTERFACE else interface
        log.info("refused a %s State from %s: %s", label, integration.name, detail)
        return decision

    def spend(self, parties: Parties) -> bool:
        """Use up a pending code prompt or switch away from a challenge (the user typed
        another method): False if it was decided or has expired."""
        now = self.deps.clock.now()
        challenge = parties.challenge
        if challenge.expired(now):
            return False
        with self.storage.transaction(write=True) as tx:
            return tx.challenges.finish(
                challenge.id, ChallengeState.REJECTED, Reason.SUPERSEDED.value, now
            )

    def expired(self, parties: Parties) -> Decision:
        """A code prompt's State came back after its 120 s: rejected and audited."""
        now = self.deps.clock.now()
        decision = Decision(Result.REJECT, Reason.TIMEOUT)
        event = decided(self.ledger.event(parties, now), decision, "RADIUS State expired")
        with self.storage.transaction(write=True) as tx:
            tx.audit.add(parties.tenant.id, event)
        return decision

    def ask_again(self, challenge_id: str) -> None:
        """The same challenge goes out once more (a push still pending): its State may come
        back once more."""
        with self.storage.transaction(write=True) as tx:
            tx.challenges.release_state(challenge_id)
