"""The validate use case: is this really the user? One explicit, ordered list of steps.

1. resolve the tenant (an integration reaches only its own)
2. load the user and their methods (one short read)
3. policy: MFA disabled, locked out, nothing registered
4. pick the candidate methods (asked-for kind, else default first)
   (out-of-band methods, when no code came: start a challenge, see services/challenges.py)
5. match the code (CPU only, outside any transaction)
6. record the outcome in one short write transaction: claim the code (conditional
   update: one-time across nodes), reset or count failures, write the audit event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from twostep.domain.audit import AuditEvent
from twostep.domain.entities import (
    Integration,
    Method,
    MethodKind,
    MethodStatus,
    MfaState,
    OtpParams,
    Tenant,
    User,
)
from twostep.domain.errors import Forbidden, TenantNotFound, Unauthenticated
from twostep.domain.ports import Transaction
from twostep.domain.results import Decision, Reason, Result
from twostep.domain.settings import TenantSettings
from twostep.domain.text import printable_escape
from twostep.factors import otp, registry
from twostep.factors.base import CodeMatch, Family
from twostep.services import credentials
from twostep.services.audit import new_event
from twostep.services.challenges import ChallengeService, StartRequest
from twostep.services.context import Deps, method_context
from twostep.services.lockout import count_failure
from twostep.services.phone_challenges import PhoneChallenges
from twostep.services.push import PushService

# Spent on unknown users so they take about as long as a wrong code for a real one.
_DUMMY_SEED = b"\x00" * 20
_DUMMY_PARAMS = OtpParams()


@dataclass(frozen=True, slots=True)
class ValidateRequest:
    """Who asks (an authenticated integration, or the key to check in the same read)
    about which user, with what."""

    user: str
    integration: Integration | None = None
    integration_key: str | None = None
    tenant: str | None = None
    code: str | None = None
    method: MethodKind | None = None
    client_ip: str | None = None
    interface: str = "http"
    # RADIUS challenge mode: without a code, a code method answers a challenge (State) that
    # the next request finishes, instead of rejecting with code_required.
    prompt_for_code: bool = False
    # The sign-in can show something after a challenge starts (False: a RADIUS client without
    # challenges, like RD Gateway): without it a push asks the device for approve or deny
    # only, and a text with a code to type is not sent at all.
    can_prompt: bool = True


@dataclass(frozen=True, slots=True)
class _Subject:
    integration: Integration
    tenant_id: int
    tenant: str
    settings: TenantSettings
    user: User | None
    methods: tuple[Method, ...]
    sealed: Mapping[str, bytes]  # sealed seeds by method id, opened only when matched against


class Authenticator:
    def __init__(
        self,
        deps: Deps,
        challenges: ChallengeService | None = None,
        phone: PhoneChallenges | None = None,
        push: PushService | None = None,
    ) -> None:
        self.deps = deps
        self.challenges = challenges
        self.phone = phone
        self.push = push

    def validate(self, request: ValidateRequest) -> Decision:
        now = self.deps.clock.now()
        subject = self._load(request)  # steps 1-2
        user = subject.user
        event = self._event(request, subject, now)

        if user is None:  # unknown users answer exactly like a wrong code
            otp.match_totp(_DUMMY_SEED, _DUMMY_PARAMS, request.code or "", now, 1)
            return self._finish(subject, event, Decision(Result.REJECT, Reason.INVALID_CODE))

        active = tuple(m for m in subject.methods if _usable(m, now))
        listed = tuple(sorted({m.kind.value for m in active}))

        # step 3: policy
        if user.mfa is MfaState.DISABLED:
            return self._finish(subject, event, Decision(Result.ACCEPT, Reason.MFA_NOT_REQUIRED))
        if user.is_locked(now):
            return self._finish(subject, event, Decision(Result.REJECT, Reason.USER_LOCKED))
        if not active:
            return self._finish(
                subject, event, Decision(Result.REJECT, Reason.NO_METHOD_REGISTERED)
            )

        # step 4: candidates
        candidates = _candidates(user, active, request.method, request.code is not None)
        if not candidates:
            decision = Decision(Result.REJECT, Reason.METHOD_NOT_REGISTERED, methods=listed)
            return self._finish(subject, replace(event, method=_kind(request.method)), decision)
        first = candidates[0]
        event = replace(event, method=first.kind.value, device=_device(first, subject.settings))
        if request.code is None:
            spec = registry.kind(first.kind)
            starter = self.push if spec.family is Family.PUSH else self.phone
            if spec.out_of_band and starter is not None:
                tenant = Tenant(subject.tenant_id, subject.tenant, subject.settings)
                start = StartRequest(tenant, user, first, event, listed, request.can_prompt)
                return starter.start(start)
            factor = spec.code
            if factor and request.prompt_for_code and self.challenges is not None:
                tenant = Tenant(subject.tenant_id, subject.tenant, subject.settings)
                return self.challenges.prompt_code(StartRequest(tenant, user, first, event, listed))
            reason = Reason.CODE_REQUIRED if factor else Reason.METHOD_NOT_SUPPORTED
            return self._finish(subject, event, Decision(Result.REJECT, reason, methods=listed))

        # step 5: match
        matched, match = self._match(
            candidates, subject.sealed, request.code, now, subject.settings
        )
        if matched is not None:
            event = replace(
                event, method=matched.kind.value, device=_device(matched, subject.settings)
            )

        # step 6: record
        with self.deps.storage.transaction(write=True) as tx:
            decision = self._record(tx, user, matched, match, now, subject.settings, listed)
            tx.audit.add(subject.tenant_id, _decided(event, decision))
        return decision

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
        with self.deps.storage.transaction(write=True) as tx:
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
            )
            decision = Decision(Result.REJECT, Reason.INVALID_REQUEST)
            tx.audit.add(tenant.id, _decided(event, decision))
        return decision

    # -- steps -----------------------------------------------------------------

    def _load(self, request: ValidateRequest) -> _Subject:
        with self.deps.storage.transaction() as tx:
            integration = request.integration
            if integration is None:  # the caller's key is checked in this same read
                integration = credentials.find_integration(tx, request.integration_key or "")
                if integration is None:
                    raise Unauthenticated("an active integration key is required")
            own = integration.tenant_id
            if request.tenant is None:
                found = tx.subjects.load(request.user, tenant_id=own)
            else:
                found = tx.subjects.load(request.user, tenant_name=request.tenant)
        if found is None or found.tenant.id != own:
            if request.tenant is None:
                raise TenantNotFound()
            # Same answer whether or not the other tenant exists.
            raise Forbidden("this integration may only validate users of its own tenant")
        tenant = found.tenant
        return _Subject(
            integration,
            tenant.id,
            tenant.name,
            tenant.settings,
            found.user,
            found.methods,
            found.sealed,
        )

    def _match(
        self,
        candidates: tuple[Method, ...],
        sealed: Mapping[str, bytes],
        code: str,
        now: float,
        settings: TenantSettings,
    ) -> tuple[Method | None, CodeMatch | None]:
        for method in candidates:
            factor = registry.kind(method.kind).code
            blob = sealed.get(method.id)
            if factor is None or blob is None:
                continue
            seed = self.deps.secrets.open(blob, method_context(method.id))
            match = factor.match(method, seed, code, now, settings)
            if match is not None:
                return method, match
        return None, None

    def _record(
        self,
        tx: Transaction,
        user: User,
        method: Method | None,
        match: CodeMatch | None,
        now: float,
        settings: TenantSettings,
        listed: tuple[str, ...],
    ) -> Decision:
        if method is not None and match is not None:
            if match.step is not None:
                claimed = tx.methods.claim_step(method.id, match.step, now)
            else:
                assert match.counter is not None
                claimed = tx.methods.claim_counter(method.id, match.counter, now)
            if claimed:
                # Most users have no failures to forget: skip the write then. A failure
                # racing in on another node survives, which only errs towards lockout.
                if user.failed_count == 0 or tx.users.reset_failures_unless_locked(user.id, now):
                    return Decision(Result.ACCEPT, methods=listed)
                return Decision(Result.REJECT, Reason.USER_LOCKED)
            if tx.users.locked(user.id, now):  # locked by a racing failure on another node
                return Decision(Result.REJECT, Reason.USER_LOCKED)
            reason = Reason.CODE_REPLAYED
        else:
            reason = Reason.INVALID_CODE
        count_failure(tx, user, now, settings)
        return Decision(Result.REJECT, reason)

    def _finish(self, subject: _Subject, event: AuditEvent, decision: Decision) -> Decision:
        with self.deps.storage.transaction(write=True) as tx:
            tx.audit.add(subject.tenant_id, _decided(event, decision))
        return decision

    def _event(self, request: ValidateRequest, subject: _Subject, now: float) -> AuditEvent:
        return new_event(
            self.deps.node,
            now,
            subject.tenant,
            subject.settings,
            request.user,
            subject.user,
            integration=subject.integration.name,
            client_ip=request.client_ip,
            interface=request.interface,
            method=_kind(request.method),
        )


def _candidates(
    user: User, active: tuple[Method, ...], asked: MethodKind | None, has_code: bool
) -> tuple[Method, ...]:
    """The asked-for kind; else, with a code, every code method (the default first);
    else the default method."""
    default_first = sorted(active, key=lambda m: m.id != user.default_method_id)
    if asked is not None:
        return tuple(m for m in default_first if m.kind is asked)
    if has_code:
        coded = tuple(m for m in default_first if registry.kind(m.kind).code is not None)
        return coded or tuple(default_first[:1])
    return tuple(default_first[:1])


def _usable(method: Method, now: float) -> bool:
    """Active, and inside the validity period a token vendor may have set."""
    return (
        method.status is MethodStatus.ACTIVE
        and (method.valid_from is None or method.valid_from <= now)
        and (method.valid_until is None or now < method.valid_until)
    )


def _device(method: Method, settings: TenantSettings) -> str | None:
    if "device" not in settings.audit.audit_fields:
        return None
    return method.serial or method.id


def _kind(kind: MethodKind | None) -> str | None:
    return None if kind is None else kind.value


def _decided(event: AuditEvent, decision: Decision) -> AuditEvent:
    reason = decision.reason.value if decision.reason else None
    return replace(event, result=decision.result.value, reason=reason)
