"""Registering methods: enroll, confirm, list, delete, set default, resynchronise."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from twostep.domain.entities import (
    AdminKey,
    Method,
    MethodKind,
    MethodStatus,
    OtpParams,
    OtpType,
    Tenant,
)
from twostep.domain.errors import (
    ConfirmationFailed,
    InvalidInput,
    MethodDisabled,
    MethodNotFound,
    MethodNotPending,
    MethodPending,
    ResyncFailed,
    SerialInUse,
)
from twostep.domain.ports.methods import NewMethod
from twostep.domain.ports.storage import Transaction
from twostep.factors import otp, registry
from twostep.factors.base import EnrollContext, Fields
from twostep.factors.resync import resync_target
from twostep.services import admin_log
from twostep.services.admin import keep_a_default, tenant_for, user_for
from twostep.services.context import Deps, method_context
from twostep.services.devices import revoke_device


@dataclass(frozen=True, slots=True)
class Enrollment:
    method: Method
    shown: Mapping[str, str]  # told once, to the enrolling user (an app's otpauth URI)


@dataclass(frozen=True, slots=True)
class AppCodeEnrollment:
    method: Method
    otpauth_uri: str  # carries the seed: shown once, to the enrolling user only


@dataclass(frozen=True, slots=True)
class TokenSpec:
    serial: str
    secret: str  # base32, or hex with a "hex:" prefix
    params: OtpParams
    counter: int = 0
    label: str | None = None


def _new_id() -> str:
    return uuid.uuid4().hex


class EnrollService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def enroll(
        self,
        actor: AdminKey,
        tenant_name: str,
        user_name: str,
        kind: MethodKind,
        values: Mapping[str, Any] | Fields,
        *,
        pending: bool = False,
    ) -> Enrollment:
        """Register a method of ``kind`` from its enrollment values (see the kind's module
        in factors/): made by the kind, its secrets sealed to its id, stored. An active
        method may become the user's default (and an ``enabled`` user ``enforced``).
        ``pending``: the method waits, whatever its kind made, until it is proved (a number
        a user adds themselves, until they answer a challenge sent to it: self_phone.py)."""
        spec = registry.kind(kind)
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            if kind in tenant.settings.access.disabled_kinds:
                raise MethodDisabled(f"tenant {tenant.name!r} turned {kind.value} off")
            user = user_for(tx, tenant, user_name)
            draft = spec.enroll(values, EnrollContext(tenant.settings, user.name))
            if pending:
                draft = replace(draft, status=MethodStatus.PENDING)
            if draft.status is MethodStatus.PENDING:
                tx.methods.purge_pending(now - tenant.settings.otp.pending_method_seconds)
            if draft.serial is not None and tx.methods.serial_in_use(tenant.id, draft.serial):
                raise SerialInUse(f"a token with serial {draft.serial!r} is already registered")
            method_id = _new_id()
            context = method_context(method_id)
            method = tx.methods.add(
                NewMethod(
                    id=method_id,
                    user_id=user.id,
                    tenant_id=user.tenant_id,
                    kind=kind,
                    status=draft.status,
                    sealed_seed=self._seal(draft.seed, context),
                    sealed_pin=self._seal(draft.pin.encode() if draft.pin else None, context),
                    otp=draft.otp,
                    label=draft.label,
                    serial=draft.serial,
                    counter=draft.counter,
                    phone=draft.phone,
                    email=draft.email,
                ),
                now,
            )
            if method.status is MethodStatus.ACTIVE:
                tx.users.registered(user.id, method.id)
            given = admin_log.changes(None, admin_log.method_fields(method))
            target = f"{user.name}/{method.id}"
            admin_log.record(tx, self.deps, actor, tenant, "method.enroll", target, given)
        return Enrollment(method, draft.shown)

    # The enrollments by kind that callers (and tests) name, over ``enroll``.

    def enroll_app_code(
        self, actor: AdminKey, tenant_name: str, user_name: str, label: str | None = None
    ) -> AppCodeEnrollment:
        done = self.enroll(actor, tenant_name, user_name, MethodKind.APP_CODE, {"label": label})
        return AppCodeEnrollment(done.method, done.shown["otpauth_uri"])

    def enroll_oath_token(
        self, actor: AdminKey, tenant_name: str, user_name: str, spec: TokenSpec
    ) -> Method:
        """A hardware token is active at once: its seed came from the vendor's file."""
        values = {
            "serial": spec.serial,
            "secret": spec.secret,
            "otp_type": spec.params.type,
            "algorithm": spec.params.algorithm,
            "digits": spec.params.digits,
            "period": spec.params.period,
            "counter": spec.counter,
            "label": spec.label,
        }
        return self.enroll(actor, tenant_name, user_name, MethodKind.OATH_TOKEN, values).method

    def enroll_phone(
        self,
        actor: AdminKey,
        tenant_name: str,
        user_name: str,
        kind: MethodKind,
        phone: str,
        label: str | None = None,
        pin: str | None = None,
    ) -> Method:
        """Register a number for a phone kind (sms, sms_reply, voice)."""
        values: dict[str, Any] = {"phone": phone, "label": label}
        if pin is not None:
            values["pin"] = pin
        return self.enroll(actor, tenant_name, user_name, kind, values).method

    def confirm(
        self, actor: AdminKey, tenant_name: str, user_name: str, method_id: str, code: str
    ) -> Method:
        """Activate a pending method with one valid code; that code is then spent."""
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            method = self._method(tx, user.id, method_id)
            if method.status is not MethodStatus.PENDING:
                raise MethodNotPending()
            if method.created_at + tenant.settings.otp.pending_method_seconds < now:
                raise MethodNotFound("the enrollment expired: enroll again")
            factor = registry.kind(method.kind).code
            if factor is None:  # a pending number: the code sent to it confirms it
                raise InvalidInput(
                    "this method is confirmed by the code sent to it, at the self-service portal",
                    field="code",
                )
            sealed = tx.methods.sealed_seed(method.id)
            assert sealed is not None
            seed = self.deps.secrets.open(sealed, method_context(method.id))
            match = factor.match(method, seed, code, now, tenant.settings)
            if match is None:
                raise ConfirmationFailed("the code does not match: check the device's clock")
            claimed = (
                tx.methods.claim_step(method.id, match.step, now)
                if match.step is not None
                else tx.methods.claim_counter(method.id, match.counter or 0, now)
            )
            if not claimed or not tx.methods.activate(method.id, now):
                raise ConfirmationFailed("that code was already used: wait for the next one")
            tx.users.registered(user.id, method.id)
            changed = {"status": [method.status.value, MethodStatus.ACTIVE.value]}
            target = f"{user.name}/{method.id}"
            admin_log.record(tx, self.deps, actor, tenant, "method.confirm", target, changed)
        return self.get(actor, tenant_name, user_name, method_id)

    def get(self, actor: AdminKey, tenant_name: str, user_name: str, method_id: str) -> Method:
        with self.deps.storage.transaction() as tx:
            user = user_for(tx, tenant_for(tx, actor, tenant_name), user_name)
            return self._method(tx, user.id, method_id)

    def list(self, actor: AdminKey, tenant_name: str, user_name: str) -> Sequence[Method]:
        with self.deps.storage.transaction() as tx:
            user = user_for(tx, tenant_for(tx, actor, tenant_name), user_name)
            return tx.methods.for_user(user.id)

    def delete(self, actor: AdminKey, tenant_name: str, user_name: str, method_id: str) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            method = self._method(tx, user.id, method_id)
            tx.methods.delete(method.id)
            if method.device_id is not None:  # the device goes too: it hears "not activated"
                revoke_device(tx, method.device_id, self.deps.clock.now(), "method deleted")
            keep_a_default(tx, user.id)
            gone = admin_log.changes(admin_log.method_fields(method), None)
            target = f"{user.name}/{method.id}"
            admin_log.record(tx, self.deps, actor, tenant, "method.delete", target, gone)

    def set_default(
        self, actor: AdminKey, tenant_name: str, user_name: str, method_id: str
    ) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            method = self._method(tx, user.id, method_id)
            if method.status is not MethodStatus.ACTIVE:
                raise MethodPending("only a confirmed method can be the default")
            tx.users.set_default_method(user.id, method.id)
            changed = admin_log.changes({"default": user.default_method_id}, {"default": method.id})
            target = f"{user.name}/{method.id}"
            admin_log.record(tx, self.deps, actor, tenant, "method.default", target, changed)

    def resync(
        self,
        actor: AdminKey,
        tenant_name: str,
        user_name: str,
        method_id: str,
        first_code: str,
        second_code: str,
    ) -> Method:
        """Bring a drifted token back from two consecutive codes (HOTP counter or TOTP
        clock drift). Both codes are spent."""
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            method = self._method(tx, user.id, method_id)
            changed = resync(tx, self.deps, tenant, method, first_code, second_code)
            target = f"{user.name}/{method.id}"
            admin_log.record(tx, self.deps, actor, tenant, "method.resync", target, changed)
        return self.get(actor, tenant_name, user_name, method_id)

    def _seal(self, secret: bytes | None, context: str) -> bytes | None:
        return None if secret is None else self.deps.secrets.seal(secret, context)

    @staticmethod
    def _method(tx: Transaction, user_id: int, method_id: str) -> Method:
        method = tx.methods.by_id(user_id, method_id)
        if method is None:
            raise MethodNotFound(f"no method {method_id!r}")
        return method


def resync(
    tx: Transaction, deps: Deps, tenant: Tenant, method: Method, first_code: str, second_code: str
) -> dict[str, list[int]]:
    """Bring ``method`` back from two consecutive codes, in ``tx``; what changed (the
    HOTP counter, or the TOTP drift), for the admin trail."""
    if method.otp is None:
        raise InvalidInput("only code methods can be resynchronised", field="method")
    now = deps.clock.now()
    sealed = tx.methods.sealed_seed(method.id)
    assert sealed is not None
    seed = deps.secrets.open(sealed, method_context(method.id))
    window = tenant.settings.otp.hotp_resync_window
    target = resync_target(method, seed, first_code, second_code, now, window)
    if target is None:
        raise ResyncFailed()
    if method.otp.type is OtpType.HOTP:
        assert target.counter is not None
        # The next expected counter is the one after the second code's.
        tx.methods.resync(method.id, counter=target.counter + 1, drift=None, step=None)
        return {"counter": [method.counter, target.counter + 1]}
    assert target.step is not None
    drift = target.step - otp.time_step(now, method.otp.period)
    tx.methods.resync(method.id, counter=None, drift=drift, step=target.step)
    return {"drift": [method.drift, drift]}
