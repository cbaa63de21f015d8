"""Adding or changing a phone at the self-service portal. An admin vouches for a number
they enroll; a user adding their own proves it: the method's own challenge goes to the
number through the tenant's gateways (the outbox in development), as at a sign-in: a
texted code typed back (``sms``), a reply to a text (``sms_reply``), a call answered with
# (``voice``).

1. ``start``: a pending method of the kind for the number (EnrollService, ``pending``) and
   its challenge sent (DeliveredChallenges: the delivery limits, the number's country and
   type, one audit event of integration ``portal``, interface ``web``).
2. ``confirm``: the code typed, or for a reply or a call the challenge's outcome so far.
   The challenge is decided once (its conditional update); an accepted one activates the
   method (a conditional update too: two answers activate it once), which becomes the
   default if the user had none. A number it replaces is then deleted, its default moved
   to the new one.
3. ``resend``: the text once more, with a new code (the sign-in's limits apply).

A pending number that is never confirmed expires with ``pending_method_seconds``, as a
pending authenticator app does.
"""

from __future__ import annotations

from dataclasses import dataclass

from twostep.domain.challenges import Parties
from twostep.domain.delivery import Channel
from twostep.domain.entities import Method, MethodKind, MethodStatus
from twostep.domain.errors import InvalidInput, MethodNotFound, TransactionNotFound
from twostep.domain.results import Decision, Result
from twostep.factors import registry
from twostep.factors.base import Family
from twostep.services import admin_log
from twostep.services.audit import new_event
from twostep.services.challenges import ChallengeService, StartRequest
from twostep.services.context import Deps
from twostep.services.delivered import DeliveredChallenges
from twostep.services.enroll import EnrollService
from twostep.services.page_signin import INTERFACE, PORTAL
from twostep.services.self_service import Me, SelfService, portal_integration, self_actor

PHONE_CHANNELS = (Channel.SMS, Channel.VOICE)


def phone_kinds() -> tuple[MethodKind, ...]:
    """The kinds a number is registered for (texts or calls), from the registry."""
    return tuple(
        k.kind
        for k in registry.of_family(Family.CHALLENGE)
        if k.challenge is not None and k.challenge.channel in PHONE_CHANNELS
    )


@dataclass(frozen=True, slots=True)
class PhoneStarted:
    method: Method  # pending until the challenge is answered
    decision: Decision  # challenge: its transaction and prompt; reject: why nothing went out


class PhoneChange:
    def __init__(
        self,
        deps: Deps,
        portal: SelfService,
        enroll: EnrollService,
        challenges: ChallengeService,
        delivered: DeliveredChallenges,
    ) -> None:
        self.deps = deps
        self.portal = portal
        self.enroll = enroll
        self.challenges = challenges
        self.delivered = delivered

    def start(
        self,
        me: Me,
        kind: MethodKind,
        phone: str,
        label: str | None = None,
        replaces: str | None = None,
    ) -> PhoneStarted:
        """A pending method for ``phone`` and its challenge sent. ``replaces``: one of the
        user's numbers, deleted once the new one is confirmed."""
        if kind not in phone_kinds():
            raise InvalidInput(f"{kind.value} is not a phone method", field="kind")
        if replaces is not None:
            self.replaced(me, replaces)
        values = {"phone": phone, "label": label}
        done = self.enroll.enroll(self_actor(me), me.tenant, me.user, kind, values, pending=True)
        return PhoneStarted(done.method, self._send(me, done.method))

    def confirm(
        self,
        me: Me,
        method_id: str,
        transaction_id: str,
        code: str | None,
        replaces: str | None = None,
    ) -> Decision:
        """The answer to the number's challenge; accepted, the number is active."""
        parties = self._challenge(me, method_id, transaction_id)
        rules = registry.kind(parties.challenge.kind).challenge
        if rules is not None and rules.typed:
            decision = self.delivered.answer_code(parties, code or "")
        else:  # a reply or a call: answered on the phone
            decision = self.challenges.outcome(portal_integration(me.tenant_id), transaction_id)[0]
        if decision.result is Result.ACCEPT:
            self._activate(me, method_id, replaces)
        return decision

    def resend(self, me: Me, method_id: str, transaction_id: str) -> Decision:
        self._challenge(me, method_id, transaction_id)
        return self.delivered.resend(portal_integration(me.tenant_id), transaction_id)

    def replaced(self, me: Me, method_id: str) -> Method:
        """The user's number ``method_id`` that a new one is to replace."""
        method = self.enroll.get(self_actor(me), me.tenant, me.user, method_id)
        if method.kind not in phone_kinds() or method.status is not MethodStatus.ACTIVE:
            raise MethodNotFound(f"no active phone method {method_id!r}")
        return method

    # -- internals ---------------------------------------------------------------------

    def _send(self, me: Me, method: Method) -> Decision:
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            tenant = tx.tenants.by_id(me.tenant_id)
            user = tx.users.by_id(me.user_id)
        if tenant is None or user is None:
            raise MethodNotFound("this user no longer exists")
        event = new_event(
            self.deps.node,
            now,
            tenant.name,
            tenant.settings,
            user.name,
            user,
            integration=PORTAL,
            client_ip=me.source,
            interface=INTERFACE,
            method=method.kind.value,
            request_id=self.deps.request_ids.current(),
        )
        return self.delivered.start(StartRequest(tenant, user, method, event, methods=()))

    def _challenge(self, me: Me, method_id: str, transaction_id: str) -> Parties:
        """The challenge sent to the user's pending number; another's is unknown."""
        parties = self.challenges.find(transaction_id)
        if (
            parties is None
            or parties.user.id != me.user_id
            or parties.challenge.method_id != method_id
        ):
            raise TransactionNotFound(f"no transaction {transaction_id[:64]!r} for this number")
        return parties

    def _activate(self, me: Me, method_id: str, replaces: str | None) -> None:
        now = self.deps.clock.now()
        actor = self_actor(me)
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tx.tenants.by_id(me.tenant_id)
            method = tx.methods.by_id(me.user_id, method_id)
            if tenant is None or method is None:
                raise MethodNotFound("the number's enrollment expired: add it again")
            if not tx.methods.activate(method.id, now):  # another answer activated it
                return
            tx.users.registered(me.user_id, method.id)
            tx.enrollment_links.revoke_open(me.user_id, now)
            changed = {"status": [MethodStatus.PENDING.value, MethodStatus.ACTIVE.value]}
            target = f"{me.user}/{method.id}"
            admin_log.record(tx, self.deps, actor, tenant, "method.confirm", target, changed)
            user = tx.users.by_id(me.user_id)
        if replaces is None or replaces == method_id:
            return
        old = self.replaced(me, replaces)
        if user is not None and user.default_method_id == old.id:
            self.enroll.set_default(actor, me.tenant, me.user, method_id)
        self.enroll.delete(actor, me.tenant, me.user, old.id)
