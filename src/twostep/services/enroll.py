"""Registering methods: enroll, confirm, list, delete, set default, resynchronise."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twostep.domain.entities import (
    PHONE_KINDS,
    AdminKey,
    Method,
    MethodKind,
    MethodStatus,
    OtpParams,
    OtpType,
    User,
)
from twostep.domain.errors import (
    ConfirmationFailed,
    InvalidInput,
    MethodNotFound,
    MethodNotPending,
    MethodPending,
    ResyncFailed,
    SerialInUse,
)
from twostep.domain.phone import check_destination, normalize_phone
from twostep.domain.ports import NewMethod, Transaction
from twostep.factors import otp
from twostep.factors.app_code import AppCodeFactor, provisioning_uri
from twostep.factors.oath_token import resync_target
from twostep.services.admin import keep_a_default, tenant_for, user_for
from twostep.services.context import Deps, method_context
from twostep.services.devices import revoke_device

_APP_CODE = AppCodeFactor()


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

    def enroll_app_code(
        self, actor: AdminKey, tenant_name: str, user_name: str, label: str | None = None
    ) -> AppCodeEnrollment:
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            tx.methods.purge_pending(now - tenant.settings.otp.pending_method_seconds)
            params = _APP_CODE.new_params(tenant.settings)
            seed = otp.new_seed(params.algorithm)
            method = self._add(
                tx, user, MethodKind.APP_CODE, MethodStatus.PENDING, seed, params, now, label=label
            )
            uri = provisioning_uri(seed, params, tenant.settings.issuer, user.name)
        return AppCodeEnrollment(method, uri)

    def enroll_oath_token(
        self, actor: AdminKey, tenant_name: str, user_name: str, spec: TokenSpec
    ) -> Method:
        """A hardware token is active at once: its seed came from the vendor's file."""
        try:
            seed = otp.parse_seed(spec.secret)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="secret") from exc
        if not spec.serial or len(spec.serial) > 64 or not spec.serial.isprintable():
            raise InvalidInput("serial must be 1-64 printable characters", field="serial")
        if spec.counter < 0:
            raise InvalidInput("counter must not be negative", field="counter")
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            if tx.methods.serial_in_use(tenant.id, spec.serial):
                raise SerialInUse(f"a token with serial {spec.serial!r} is already registered")
            method = self._add(
                tx,
                user,
                MethodKind.OATH_TOKEN,
                MethodStatus.ACTIVE,
                seed,
                spec.params,
                now,
                label=spec.label,
                serial=spec.serial,
                counter=spec.counter,
            )
            tx.users.registered(user.id, method.id)
        return method

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
        """Register a number for ``sms``, ``sms_reply`` or ``voice``; active at once (the
        administrator vouches for it). A voice PIN is sealed like a seed."""
        if kind not in PHONE_KINDS:
            raise InvalidInput(f"{kind.value} is not a phone method", field="kind")
        number = normalize_phone(phone)
        if pin is not None:
            if kind is not MethodKind.VOICE:
                raise InvalidInput("only a voice method takes a PIN", field="pin")
            if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
                raise InvalidInput("a PIN is 4-8 digits", field="pin")
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            settings = tenant.settings
            check_destination(
                number,
                texts=kind is not MethodKind.VOICE,
                allowed_calling_codes=settings.phone.allowed_calling_codes,
            )
            if kind is MethodKind.VOICE and settings.phone.voice_pin_required and pin is None:
                raise InvalidInput("this tenant requires a PIN for voice methods", field="pin")
            method_id = _new_id()
            sealed = (
                self.deps.secrets.seal(pin.encode(), method_context(method_id)) if pin else None
            )
            method = tx.methods.add(
                NewMethod(
                    id=method_id,
                    user_id=user.id,
                    tenant_id=user.tenant_id,
                    kind=kind.value,
                    status=MethodStatus.ACTIVE,
                    sealed_seed=sealed,
                    otp=None,
                    label=label,
                    phone=number,
                ),
                now,
            )
            tx.users.registered(user.id, method.id)
        return method

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
            sealed = tx.methods.sealed_seed(method.id)
            assert sealed is not None and method.otp is not None
            seed = self.deps.secrets.open(sealed, method_context(method.id))
            match = _APP_CODE.match(method, seed, code, now, tenant.settings)
            if match is None or match.step is None:
                raise ConfirmationFailed("the code does not match: check the device's clock")
            if not tx.methods.claim_step(method.id, match.step, now) or not tx.methods.activate(
                method.id, now
            ):
                raise ConfirmationFailed("that code was already used: wait for the next one")
            tx.users.registered(user.id, method.id)
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
            user = user_for(tx, tenant_for(tx, actor, tenant_name), user_name)
            method = self._method(tx, user.id, method_id)
            tx.methods.delete(method.id)
            if method.device_id is not None:  # the device goes too: it hears "not activated"
                revoke_device(tx, method.device_id, self.deps.clock.now(), "method deleted")
            keep_a_default(tx, user.id)

    def set_default(
        self, actor: AdminKey, tenant_name: str, user_name: str, method_id: str
    ) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            user = user_for(tx, tenant_for(tx, actor, tenant_name), user_name)
            method = self._method(tx, user.id, method_id)
            if method.status is not MethodStatus.ACTIVE:
                raise MethodPending("only a confirmed method can be the default")
            tx.users.set_default_method(user.id, method.id)

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
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            method = self._method(tx, user.id, method_id)
            if method.otp is None:
                raise InvalidInput("only code methods can be resynchronised", field="method")
            sealed = tx.methods.sealed_seed(method.id)
            assert sealed is not None
            seed = self.deps.secrets.open(sealed, method_context(method.id))
            window = tenant.settings.otp.hotp_resync_window
            target = resync_target(method, seed, first_code, second_code, now, window)
            if target is None:
                raise ResyncFailed()
            if method.otp.type is OtpType.HOTP:
                assert target.counter is not None
                # The next expected counter is the one after the second code's.
                tx.methods.resync(method.id, counter=target.counter + 1, drift=None, step=None)
            else:
                assert target.step is not None
                drift = target.step - otp.time_step(now, method.otp.period)
                tx.methods.resync(method.id, counter=None, drift=drift, step=target.step)
        return self.get(actor, tenant_name, user_name, method_id)

    def _add(
        self,
        tx: Transaction,
        user: User,
        kind: MethodKind,
        status: MethodStatus,
        seed: bytes,
        params: OtpParams,
        now: float,
        **extra: Any,
    ) -> Method:
        """Store a method with its seed sealed to its own id."""
        method_id = _new_id()
        sealed = self.deps.secrets.seal(seed, method_context(method_id))
        new = NewMethod(
            id=method_id,
            user_id=user.id,
            tenant_id=user.tenant_id,
            kind=kind.value,
            status=status,
            sealed_seed=sealed,
            otp=params,
            **extra,
        )
        return tx.methods.add(new, now)

    @staticmethod
    def _method(tx: Transaction, user_id: int, method_id: str) -> Method:
        method = tx.methods.by_id(user_id, method_id)
        if method is None:
            raise MethodNotFound(f"no method {method_id!r}")
        return method
