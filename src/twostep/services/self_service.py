"""The self-service portal's use cases: a signed-in user manages their own security info.

A user acting on their own security info is no admin. ``Me`` names them (their tenant and
user, from their page session), and every call goes through the services the admin API
uses (enroll, confirm, delete, default; app passwords; device activation; the user's
language) with ``self_actor(me)`` as the actor: an actor of the user's own tenant that the
admin trail records as ``self``, named by the user, role ``user``, interface ``web``. The
facade always passes the signed-in user's own name, so no call reaches another user.

A user who must register (``registration_reason``: MFA enabled and nothing registered yet,
an admin asked them to register again, or the tenant's registration policy asks a kind of
method they lack) may only register: see their methods, add an
authenticator app or a phone, activate a mobile authenticator, choose their language.
Anything else answers ``registration_first``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from twostep.domain.entities import (
    AdminKey,
    AppPassword,
    Device,
    DeviceState,
    Integration,
    Method,
    MethodKind,
    MethodStatus,
    MfaState,
    Role,
    User,
)
from twostep.domain.errors import Conflict, InvalidInput, RegistrationFirst, UserNotFound
from twostep.domain.self_service import RegistrationReason
from twostep.domain.settings import AccessSettings
from twostep.services import admin_log, policy
from twostep.services.admin import AdminService, UserChanges
from twostep.services.app_passwords import AppPasswordService, NewAppPassword
from twostep.services.codes import usable
from twostep.services.context import Deps
from twostep.services.devices import ActivationStarted, DeviceService
from twostep.services.enroll import AppCodeEnrollment, EnrollService
from twostep.services.page_signin import INTERFACE, PORTAL

_LANGUAGE = re.compile(r"^[A-Za-z0-9-]{2,16}$")


@dataclass(frozen=True, slots=True)
class Me:
    """The signed-in user, as their page session names them."""

    tenant_id: int
    tenant: str
    user_id: int
    user: str
    source: str | None = None  # the client's address, for the admin trail


@dataclass(frozen=True, slots=True)
class SecurityInfo:
    user: User
    methods: Sequence[Method]
    devices: Sequence[Device]  # active ones
    reason: RegistrationReason | None  # set: the user must register first
    # The kinds the registration policy asks of this user (reason registration_policy;
    # empty: any kind the tenant allows), for the registration page to name.
    required: tuple[MethodKind, ...] = ()


def self_actor(me: Me) -> AdminKey:
    """The user themselves as the actor of the services (and of the admin trail)."""
    return AdminKey(
        id=0,
        key_id=admin_log.SELF,
        name=me.user[:128],
        role=Role.TENANT_ADMIN,  # reaches the user's own tenant only; the trail says "user"
        tenant_id=me.tenant_id,
        created_at=0.0,
        source=(me.source or "")[:64] or None,
        interface=INTERFACE,
    )


def portal_integration(tenant_id: int) -> Integration:
    """The built-in integration the portal's sign-ins and challenges go through: never
    stored, nothing to leak; the audit event's integration."""
    return Integration(id=0, tenant_id=tenant_id, name=PORTAL, key_id=PORTAL, created_at=0.0)


def registration_reason(
    user: User, methods: Sequence[Method], now: float, access: AccessSettings | None = None
) -> RegistrationReason | None:
    """Why the user must register before anything else; None: they need not. With the
    tenant's ``access`` settings, a user the registration policy refuses (no method of the
    kinds it asks of their groups) must register one too, as the sign-in says."""
    if user.registration_required_at is not None:
        return RegistrationReason.REGISTRATION_REQUIRED
    active = [m for m in methods if usable(m, now)]
    if user.mfa is MfaState.ENABLED and not active:
        return RegistrationReason.NO_METHOD_REGISTERED
    if (
        access is not None
        and user.mfa is not MfaState.DISABLED
        and policy.policy_unmet(user, access, active)
    ):
        return RegistrationReason.REGISTRATION_POLICY
    return None


class SelfService:
    def __init__(
        self,
        deps: Deps,
        admin: AdminService,
        enroll: EnrollService,
        app_passwords: AppPasswordService,
        devices: DeviceService,
    ) -> None:
        self.deps = deps
        self.admin = admin
        self.enroll = enroll
        self.app_password_service = app_passwords
        self.devices = devices

    # -- what the user has -----------------------------------------------------------

    def info(self, me: Me) -> SecurityInfo:
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            user = tx.users.by_id(me.user_id)
            if user is None or user.tenant_id != me.tenant_id:
                raise UserNotFound("this user no longer exists")
            methods = tx.methods.for_user(user.id)
            devices = [d for d in tx.devices.for_user(user.id) if d.state is DeviceState.ACTIVE]
            tenant = tx.tenants.by_id(me.tenant_id)
        access = tenant.settings.access if tenant is not None else None
        reason = registration_reason(user, methods, now, access)
        required: tuple[MethodKind, ...] = ()
        if reason is RegistrationReason.REGISTRATION_POLICY and access is not None:
            off = set(access.disabled_kinds)
            required = tuple(k for k in access.registration_kinds if k not in off)
        return SecurityInfo(user, methods, devices, reason, required)

    def find(self, tenant_id: int, user_name: str, source: str | None) -> Me | None:
        """The user a sign-in at the portal named (by any form of their name)."""
        with self.deps.storage.transaction() as tx:
            tenant = tx.tenants.by_id(tenant_id)
            user = tx.users.by_name(tenant_id, user_name) if tenant is not None else None
        if tenant is None or user is None:
            return None
        return Me(tenant.id, tenant.name, user.id, user.name, source)

    def registers_after_password(self, me: Me) -> bool:
        """The user must register, and the tenant lets them after their password alone
        (``password_registration``); else only an enrollment link opens it."""
        with self.deps.storage.transaction() as tx:
            tenant = tx.tenants.by_id(me.tenant_id)
        allowed = tenant is not None and tenant.settings.access.password_registration
        return allowed and self.info(me).reason is not None

    def app_passwords_allowed(self, me: Me) -> bool:
        with self.deps.storage.transaction() as tx:
            tenant = tx.tenants.by_id(me.tenant_id)
        return tenant is not None and tenant.settings.access.app_passwords_allowed

    def require_registered(self, me: Me) -> SecurityInfo:
        """The user's security info, or ``registration_first`` when they must register."""
        found = self.info(me)
        if found.reason is not None:
            raise RegistrationFirst(f"register a method first ({found.reason.value})")
        return found

    # -- registering: an authenticator app, a mobile authenticator ---------------------

    def add_app(self, me: Me, label: str | None = None) -> AppCodeEnrollment:
        """A pending authenticator app; its otpauth URI (the QR code) is shown once."""
        return self.enroll.enroll_app_code(self_actor(me), me.tenant, me.user, label)

    def confirm_app(self, me: Me, method_id: str, code: str) -> Method:
        """The app's first code activates it; the user's open enrollment links go."""
        method = self.enroll.confirm(self_actor(me), me.tenant, me.user, method_id, code)
        self.registered(me)
        return method

    def start_activation(self, me: Me, replaces: str | None = None) -> ActivationStarted:
        """A mobile authenticator activation (its QR code), for this user only."""
        return self.devices.start_activation(self_actor(me), me.tenant, me.user, replaces)

    def registered(self, me: Me) -> None:
        """A method became active: a link to register a first one has no use any more."""
        with self.deps.storage.transaction(write=True) as tx:
            tx.enrollment_links.revoke_open(me.user_id, self.deps.clock.now())

    # -- managing ----------------------------------------------------------------------

    def set_default(self, me: Me, method_id: str) -> None:
        self.require_registered(me)
        self.enroll.set_default(self_actor(me), me.tenant, me.user, method_id)

    def delete_method(self, me: Me, method_id: str) -> None:
        """Delete one of the user's methods (a device's methods go with their device). The
        last usable one stays: a user without a method could not sign in again."""
        found = self.require_registered(me)
        now = self.deps.clock.now()
        method = next((m for m in found.methods if m.id == method_id), None)
        if method is not None and usable(method, now):
            gone = {method.id}
            if method.device_id is not None:  # the device's other method goes with it
                gone |= {m.id for m in found.methods if m.device_id == method.device_id}
            if found.user.mfa is not MfaState.DISABLED and not any(
                usable(m, now) for m in found.methods if m.id not in gone
            ):
                raise Conflict("this is your last method: add another one before deleting it")
        self.enroll.delete(self_actor(me), me.tenant, me.user, method_id)

    def set_language(self, me: Me, language: str | None) -> User:
        """The user's language (the pages', the texts' and calls'); None: the browser's."""
        if language is not None and not _LANGUAGE.match(language):
            raise InvalidInput("a language is a tag such as en or ko", field="language")
        changes = (
            UserChanges(language=language)
            if language is not None
            else UserChanges(clear=frozenset({"language"}))
        )
        return self.admin.update_user(self_actor(me), me.tenant, me.user, changes)

    # -- app passwords -----------------------------------------------------------------

    def app_passwords(self, me: Me) -> Sequence[AppPassword]:
        self.require_registered(me)
        return self.app_password_service.list(self_actor(me), me.tenant, me.user)

    def create_app_password(self, me: Me, name: str) -> NewAppPassword:
        """Shown once, as for an admin's (the tenant's app_passwords_allowed applies)."""
        self.require_registered(me)
        return self.app_password_service.create(self_actor(me), me.tenant, me.user, name)

    def delete_app_password(self, me: Me, app_password_id: str) -> None:
        self.require_registered(me)
        self.app_password_service.delete(self_actor(me), me.tenant, me.user, app_password_id)

    def pending(self, me: Me, method_id: str) -> Method | None:
        """The user's pending method ``method_id`` (an app to confirm, a number)."""
        found = [m for m in self.info(me).methods if m.id == method_id]
        return found[0] if found and found[0].status is MethodStatus.PENDING else None
