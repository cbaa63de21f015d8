"""The one sign-in flow. Every interface calls it (the HTTP API, RADIUS; the pages and
OpenID Connect to come), so every one gives the same reasons, audit events and lockout.

1. resolve the integration's tenant and the user, with their methods (one short read); an
   integration waiting to be activated again (its provider was replaced) stops here
2. an unknown user costs the work of a real one and answers like a wrong code (or password)
3. the primary password, when one is sent: checked first; a wrong one starts nothing
4. policy: MFA disabled, locked, re-registration asked, then the second factor skipped (a
   vouched client address in a trusted network, or the user's one-time bypass, claimed in
   one conditional update with its audit event), then nothing registered
5. the second factor: the asked-for kind (or a word the user typed) and the code
   * a code: matched (CPU only) then claimed in one write (one-time across nodes)
   * no code, an out-of-band kind: its challenge starts (a text, a call, an email, a push)
   * no code, a code kind: a prompt for it (RADIUS challenge mode), else code_required
6. a challenge the client cannot show is waited for here, up to the client's wait
7. one audit event for the attempt (a challenge's answers write their own)

A RADIUS State continues a challenge (``continue_``): its code, a word switching to
another method, or nothing after approving on the phone.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Protocol

from twostep.domain.audit import AuditEvent
from twostep.domain.entities import Integration, Method, Tenant
from twostep.domain.errors import Forbidden, TenantNotFound, Unauthenticated
from twostep.domain.ports.audit import AuditSink
from twostep.domain.ports.challenges import Waits
from twostep.domain.ports.credentials import IntegrationRepo
from twostep.domain.ports.methods import OneTimeClaims
from twostep.domain.ports.storage import Storage
from twostep.domain.ports.subjects import Subject, SubjectRepo
from twostep.domain.ports.tenants import TenantRepo
from twostep.domain.ports.users import PasswordCheck, PrimaryPasswords, SignInUsers, Verdict
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.domain.text import printable_escape
from twostep.factors import registry
from twostep.factors.base import Family
from twostep.services import codes, credentials, outcome, policy, signin_options
from twostep.services.audit import new_event
from twostep.services.challenges import ChallengeService, StartRequest, decided
from twostep.services.context import Deps
from twostep.services.delivered import DeliveredChallenges
from twostep.services.legacy import LegacySignIn
from twostep.services.passwords import CODE_LENGTHS, split_candidates
from twostep.services.push import PushService
from twostep.services.signin_request import (
    Asked,
    SignInRequest,
    read,
    registering,
    remembered,
    word_or_code,
)
from twostep.services.states import States

ASK_AGAIN = "Approve the sign-in, then press Enter"
# A RADIUS client or a hosted sign-in's application whose integration waits to be activated
# again (an API key's holder hears 403 integration_not_activated before this: credentials).
NOT_ACTIVATED = Decision(
    Result.REJECT,
    Reason.INTEGRATION_NOT_ACTIVATED,
    message="This sign-in service must be activated again: ask your administrator",
)


class SignInWork(Protocol):
    """The unit of work a sign-in needs, and all it may touch: the one read of the user,
    the integration's key, the one-time claims, the lockout counters, the audit log."""

    @property
    def subjects(self) -> SubjectRepo: ...

    @property
    def integrations(self) -> IntegrationRepo: ...

    @property
    def tenants(self) -> TenantRepo: ...

    @property
    def methods(self) -> OneTimeClaims: ...

    @property
    def users(self) -> SignInUsers: ...

    @property
    def audit(self) -> AuditSink: ...


class SignIn:
    def __init__(
        self,
        deps: Deps,
        primary: PrimaryPasswords,
        challenges: ChallengeService,
        states: States,
        delivered: DeliveredChallenges,
        push: PushService,
        waits: Waits,
        legacy: LegacySignIn,
    ) -> None:
        self.deps = deps
        self.legacy = legacy
        self.storage: Storage[SignInWork] = deps.storage
        self.primary = primary
        self.challenges = challenges
        self.states = states
        self.delivered = delivered
        self.push = push
        self.waits = waits

    def sign_in(self, request: SignInRequest) -> Decision:
        if request.state is not None:
            return self.continue_(request)
        now = self.deps.clock.now()
        subject, integration = self._load(request)  # step 1
        event = self._event(request, subject, integration, now)
        asked = read(request)
        user = subject.user
        if (stopped := _stopped(subject)) is not None:  # nothing is checked, bound or sent
            return self._finish(subject, event, stopped)
        if asked.legacy is not None or (
            integration.legacy and asked.password is not None and asked.code is None
        ):
            return self.legacy.sign_in(subject, event, asked.legacy or asked.password or "", now)
        checked = False  # the primary password matched (see signin_options)
        if asked.password is not None or asked.combined is not None:  # step 3
            if user is not None and user.is_locked(now):
                return self._finish(subject, event, Decision(Result.REJECT, Reason.USER_LOCKED))
            check, asked = self._primary(request.primary or self.primary, subject, asked)
            if check.verdict is Verdict.UNAVAILABLE:
                return outcome.unavailable(self.storage, subject, event, check)
            if check.verdict is not Verdict.MATCH and not (
                check.verdict is Verdict.NONE and not asked.required
            ):
                return outcome.wrong_password(self.storage, subject, event, now)
            checked = check.verdict is Verdict.MATCH
        unmatched = signin_options.accepts_unmatched(
            request.require_user_match, request.primary is not None, checked
        )
        if user is None and unmatched:
            return self._finish(subject, event, signin_options.UNMATCHED)
        if user is None:  # step 2: unknown users answer exactly like a wrong code
            codes.spend_like_a_code(asked.code or "", now)
            return self._finish(subject, event, Decision(Result.REJECT, Reason.INVALID_CODE))

        has_code = asked.code is not None
        skipped = policy.skip(subject, integration, request.sent_ip, now, remembered(request))
        offer = policy.second_factor(  # step 4
            subject, now, asked.method, has_code, skipped, registering(request)
        )
        if isinstance(offer, Decision) and skipped is not None and offer is skipped.decision:
            if self._skipped(subject, event, skipped, now):
                return offer
            # Another sign-in used the bypass first (or a lock came): the factor is asked.
            offer = policy.second_factor(
                subject, now, asked.method, has_code, registering=registering(request)
            )
        if isinstance(offer, Decision):
            if unmatched and signin_options.unenrolled(offer):
                offer = signin_options.UNMATCHED
            kind = asked.method.value if asked.method else None
            return self._finish(subject, replace(event, method=kind), offer)
        active, listed = offer.methods, offer.listed
        settings = subject.tenant.settings

        found = codes.candidates(user, active, asked.method, asked.code is not None)  # step 5
        if not found:
            decision = Decision(Result.REJECT, Reason.METHOD_NOT_REGISTERED, methods=listed)
            kind = asked.method.value if asked.method else None
            return self._finish(subject, replace(event, method=kind), decision)
        first = found[0]
        if asked.code is None:
            event = replace(event, method=first.kind.value, device=_device(first, settings))
            spec = registry.kind(first.kind)
            start = StartRequest(subject.tenant, user, first, event, listed, request.can_prompt)
            if spec.family is Family.PUSH:
                started = self._settle(request, integration, self.push.start(start))
                return self._or_fallback(request, started)
            if spec.family is Family.CHALLENGE:
                started = self._settle(request, integration, self.delivered.start(start))
                return self._or_fallback(request, started)
            if request.prompt_for_code:
                return self.states.prompt_code(start)
            decision = Decision(Result.REJECT, Reason.CODE_REQUIRED, methods=listed)
            return self._finish(subject, event, decision)

        method, matched = codes.match(
            self.deps.secrets, found, subject.sealed, asked.code, now, settings
        )
        with self.storage.transaction(write=True) as tx:
            decision = codes.record(tx, user, method, matched, now, settings, listed)
            tx.audit.add(subject.tenant.id, _coded(event, decision, method or first, settings))
        return decision

    def continue_(self, request: SignInRequest) -> Decision:
        """A request answering a challenge (its RADIUS State): the code, a word for another
        method, or nothing after approving on the phone. A State is single use."""
        assert request.integration is not None and request.state is not None
        integration, states = request.integration, self.states
        found = states.resume(
            integration, request.state, request.user, request.client_ip, request.interface
        )
        if isinstance(found, Decision):  # forged, crossed or replayed: refused and audited
            return found
        if (held := self._held_back(request)) is not None:  # its provider replaced since
            states.spend(found)
            return held
        code, method = word_or_code(request.typed)
        if method is not None:  # "sms", "push"...: this sign-in goes on another way
            states.spend(found)
            return self.sign_in(replace(request, state=None, typed=None, method=method))
        spec = registry.kind(found.challenge.kind)
        if spec.challenge is not None and spec.challenge.typed:  # a texted or emailed code
            return self.delivered.answer_code(found, code or "")
        if spec.family is Family.CODE:  # the prompt for an app's or a token's code
            if not states.spend(found):  # older than its 120 s
                return states.expired(found)
            return self.sign_in(replace(request, state=None, typed=None, code=code or ""))
        # Answered on the phone (a push, a call, a text back): wait for it a little.
        return self._or_fallback(request, self._await(request, integration, found.challenge.id))

    def refuse(
        self,
        integration_key: str | None,
        user: str,
        *,
        client_ip: str | None = None,
        integration: Integration | None = None,
        interface: str = "http",
    ) -> Decision:
        """A sign-in refused before it started, by the text rule (a control character in
        its user, code or tenant: domain/text.py). The key is checked first, as for any
        sign-in (a RADIUS client is its own ``integration``); the refusal is audited in the
        integration's own tenant as ``reject`` / ``invalid_request``, with the user as
        sent, its control characters escaped."""
        now = self.deps.clock.now()
        with self.storage.transaction(write=True) as tx:
            if integration is None:
                integration = credentials.find_integration(tx, integration_key or "")
            if integration is None:
                raise Unauthenticated("an active integration key is required")
            tenant = tx.tenants.by_id(integration.tenant_id)
            if tenant is None:
                raise TenantNotFound()
            event = new_event(
                self.deps.node,
                now,
                tenant.name,
                tenant.settings,
                printable_escape(user),
                None,
                integration=integration.name,
                client_ip=client_ip,
                interface=interface,
                request_id=self.deps.request_ids.current(),
            )
            decision = Decision(Result.REJECT, Reason.INVALID_REQUEST)
            tx.audit.add(tenant.id, decided(event, decision))
        return decision

    # -- steps -------------------------------------------------------------------------

    def _held_back(self, request: SignInRequest) -> Decision | None:
        """A challenge continued after its integration was held back (its tenant's provider
        replaced since the challenge began, e.g. a texted code typed after): refused and
        audited as a new sign-in would be. One more read, on continuations only."""
        subject, integration = self._load(request)
        if not subject.integration_pending:
            return None
        event = self._event(request, subject, integration, self.deps.clock.now())
        return self._finish(subject, event, NOT_ACTIVATED)

    def _load(self, request: SignInRequest) -> tuple[Subject, Integration]:
        user, tenant = request.user, request.tenant
        with self.storage.transaction() as tx:
            integration = request.integration
            if integration is None:  # the caller's key is checked in this same statement
                keyed = credentials.find_keyed(
                    lambda key_id: tx.subjects.load_by_key(user, key_id, tenant_name=tenant),
                    request.integration_key or "",
                )
                if keyed is None:
                    raise Unauthenticated("an active integration key is required")
                integration, found = keyed.integration, keyed.subject
            elif tenant is None:
                found = tx.subjects.load(
                    user, tenant_id=integration.tenant_id, integration_id=integration.id
                )
            else:
                found = tx.subjects.load(user, tenant_name=tenant, integration_id=integration.id)
        own = integration.tenant_id
        if found is None or found.tenant.id != own:
            if request.tenant is None:
                raise TenantNotFound()
            # Same answer whether or not the other tenant exists.
            raise Forbidden("this integration may only validate users of its own tenant")
        return found, integration

    def _primary(
        self, primary: PrimaryPasswords, subject: Subject, asked: Asked
    ) -> tuple[PasswordCheck, Asked]:
        """Check the primary password; a combined value is tried split every way it may
        be (``password,code``, the password with the code's digits after it, alone),
        stopping at the first match or at a directory that does not answer."""
        tenant, user, stored = subject.tenant, subject.user, subject.password_hash
        if asked.combined is None:
            assert asked.password is not None
            return primary.check(tenant, user, stored, asked.password), asked
        lengths = {m.otp.digits for m in subject.methods if m.otp is not None}
        check = PasswordCheck(Verdict.WRONG)
        for password, rest in split_candidates(asked.combined, lengths or CODE_LENGTHS):
            check = primary.check(tenant, user, stored, password)
            if check.verdict is Verdict.MATCH:
                code, method = word_or_code(rest)
                return check, replace(asked, code=code, method=method or asked.method)
            if check.verdict is Verdict.UNAVAILABLE:
                return check, asked
        return PasswordCheck(Verdict.WRONG), asked

    def _or_fallback(self, request: SignInRequest, decision: Decision) -> Decision:
        """The client's OATH fallback: the method failed, so ask for the user's OATH code."""
        if not request.oath_fallback or not signin_options.falls_back(decision):
            return decision
        subject, integration = self._load(request)
        now = self.deps.clock.now()
        event = self._event(request, subject, integration, now)
        return signin_options.oath_prompt(self.states, subject, event, now) or decision

    def _settle(
        self, request: SignInRequest, integration: Integration, decision: Decision
    ) -> Decision:
        """A challenge just started, for a client that cannot show it: wait for its answer
        on the phone here (a push, a call, a text back), up to the client's wait."""
        if decision.result is not Result.CHALLENGE or request.can_prompt:
            return decision
        if decision.transaction_id is None:
            return Decision(Result.REJECT, Reason.METHOD_NOT_SUPPORTED)
        return self._await(request, integration, decision.transaction_id)

    def _await(self, request: SignInRequest, integration: Integration, tx: str) -> Decision:
        """The challenge's outcome once decided, within ``request.wait`` seconds. Still
        pending then: asked again where the client shows challenges, else rejected (and
        closed, so a late approval cannot contradict the answer the client already has)."""
        deadline = time.monotonic() + request.wait
        while True:
            outcome, _expires = self.challenges.outcome(integration, tx)
            left = deadline - time.monotonic()
            if outcome.result is not Result.CHALLENGE or left <= 0:
                break
            self.waits.wait(tx, left)
        if outcome.result is not Result.CHALLENGE:
            return outcome
        if request.can_prompt:
            self.states.ask_again(tx)
            return Decision(Result.CHALLENGE, transaction_id=tx, prompt=ASK_AGAIN)
        return self.challenges.time_out(integration, tx)

    def _skipped(
        self, subject: Subject, event: AuditEvent, skipped: policy.Skip, now: float
    ) -> bool:
        """Write the accepting audit event (no method: none was used); a bypass is first
        claimed in the same transaction, and without the claim nothing is written."""
        assert subject.user is not None
        user, decision = subject.user, skipped.decision
        with self.storage.transaction(write=True) as tx:
            if decision.reason is Reason.BYPASS and not tx.users.claim_bypass(
                user.id, subject.tenant.id, now
            ):
                return False
            accepted = replace(decided(event, decision, skipped.detail), method=None)
            tx.audit.add(subject.tenant.id, accepted)
        return True

    def _finish(self, subject: Subject, event: AuditEvent, decision: Decision) -> Decision:
        return outcome.audited(self.storage, subject, event, decision)

    def _event(
        self, request: SignInRequest, subject: Subject, integration: Integration, now: float
    ) -> AuditEvent:
        tenant: Tenant = subject.tenant
        return new_event(
            self.deps.node,
            now,
            tenant.name,
            tenant.settings,
            request.user,
            subject.user,
            integration=integration.name,
            client_ip=request.client_ip,
            interface=request.interface,
            request_id=self.deps.request_ids.current(),
            method=request.method.value if request.method else None,
        )


def _stopped(subject: Subject) -> Decision | None:
    """A sign-in refused before anything: its integration waits to be activated again (its
    provider was replaced), or its user is disabled."""
    if subject.integration_pending:
        return NOT_ACTIVATED
    if subject.user is not None and subject.user.disabled:
        return Decision(Result.REJECT, Reason.USER_DISABLED)
    return None


def _coded(
    event: AuditEvent, decision: Decision, method: Method, settings: TenantSettings
) -> AuditEvent:
    """``decided(event, decision)`` for a code tried against ``method`` (the one it matched,
    else the first tried): one copy of the event rather than three (each costs ~5 us)."""
    return replace(
        event,
        method=method.kind.value,
        device=_device(method, settings),
        result=decision.result.value,
        reason=decision.reason.value if decision.reason else None,
        detail=None,
    )


def _device(method: Method, settings: TenantSettings) -> str | None:
    if "device" not in settings.audit.audit_fields:
        return None
    return method.serial or method.id
