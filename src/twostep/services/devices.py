"""Mobile authenticators: activation, the device's own authentication, management.

One activation gives a user two methods: ``app_push`` (this device) and ``app_code`` (a
TOTP seed for offline codes). The device keeps its private key; Twostep keeps the public
key and checks the device's signature on every call (docs/device-api.md).
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from twostep.domain.delivery import PushChannels
from twostep.domain.entities import (
    Activation,
    AdminKey,
    Device,
    DeviceState,
    MethodKind,
    MethodStatus,
    Tenant,
)
from twostep.domain.errors import (
    AccountNotActivated,
    ActivationInvalid,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from twostep.domain.ports.devices import NewDevice
from twostep.domain.ports.methods import NewMethod
from twostep.domain.ports.storage import Transaction
from twostep.factors import app_push, otp
from twostep.factors.app_code import AppCodeFactor, provisioning_uri
from twostep.services import admin_log
from twostep.services.admin import keep_a_default, tenant_for, user_for
from twostep.services.context import Deps, device_context, method_context

log = logging.getLogger("twostep.devices")

_APP_CODE = AppCodeFactor()
_SEEN_EVERY = 60.0  # seconds between two writes of a device's last_seen_at


@dataclass(frozen=True, slots=True)
class ActivationStarted:
    code: str  # shown once, to the user activating
    url: str
    uri: str  # what the QR code holds
    expires_at: float


@dataclass(frozen=True, slots=True)
class Activated:
    device: Device
    tenant: str
    user: str
    issuer: str
    totp_secret: str  # base32: the offline codes' seed, handed to the device once
    otpauth_uri: str
    algorithm: str
    digits: int
    period: int


@dataclass(frozen=True, slots=True)
class DeviceKey:
    key_type: str
    public_key: str  # base64url
    name: str
    platform: str | None
    push: Mapping[str, Any]


def _code_context() -> str:
    return "activation"


class DeviceService:
    def __init__(self, deps: Deps, channels: PushChannels, public_url: str) -> None:
        self.deps = deps
        self.channels = channels
        self.public_url = public_url.rstrip("/")

    # -- activation ----------------------------------------------------------------

    def start_activation(
        self, actor: AdminKey, tenant_name: str, user_name: str, replaces: str | None = None
    ) -> ActivationStarted:
        now = self.deps.clock.now()
        code = app_push.new_activation_code()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            user = user_for(tx, tenant, user_name)
            if replaces is not None:
                old = tx.devices.by_id(replaces)
                if old is None or old.user_id != user.id or old.state is not DeviceState.ACTIVE:
                    raise NotFound(f"no active device {replaces!r} of this user to replace")
            activation = Activation(
                id=uuid.uuid4().hex,
                tenant_id=tenant.id,
                user_id=user.id,
                created_at=now,
                expires_at=now + tenant.settings.push.activation_seconds,
                replaces=replaces,
            )
            tx.activations.add(activation, self._code_hash(code))
            # Never the code: whoever holds it activates a device as this user.
            given = admin_log.changes(
                None, {"replaces": replaces, "expires_at": activation.expires_at}
            )
            admin_log.record(tx, self.deps, actor, tenant, "device.activation", user.name, given)
        url = f"{self.public_url}/v1/devices/activate"
        uri = f"twostep://activate?url={quote(url, safe='')}&code={code}"
        grouped = "-".join(code[i : i + 4] for i in range(0, len(code), 4))
        return ActivationStarted(grouped, url, uri, activation.expires_at)

    def activate(self, code: str, key: DeviceKey) -> Activated:
        """The device's side: spend the code, register its public key and push channel."""
        key_type = key.key_type
        if key_type not in app_push.KEY_TYPES:
            raise InvalidInput("key_type must be ed25519 or p256", field="key_type")
        public_key = app_push.check_public_key(
            key_type, app_push.b64decode(key.public_key, "public_key")
        )
        kind, channel = self._channel(key.push)
        name = key.name.strip()[:64] or "authenticator"
        now = self.deps.clock.now()
        device_id = "dev_" + secrets.token_hex(12)
        with self.deps.storage.transaction(write=True) as tx:
            activation = tx.activations.claim(
                self._code_hash(app_push.normalise_activation_code(code)), now
            )
            if activation is None:  # one answer for unknown, used and expired
                raise ActivationInvalid()
            tenant = tx.tenants.by_id(activation.tenant_id)
            user = tx.users.by_id(activation.user_id)
            if tenant is None or user is None:
                raise ActivationInvalid()
            # A new phone takes the old one's place, its default too.
            was_default = False
            if activation.replaces is not None:
                was_default = any(
                    m.device_id == activation.replaces and m.id == user.default_method_id
                    for m in tx.methods.for_user(user.id)
                )
                revoke_device(tx, activation.replaces, now, "replaced")
            sealed = self._sealed(device_id, channel)
            device = tx.devices.add(
                NewDevice(
                    id=device_id,
                    tenant_id=tenant.id,
                    user_id=user.id,
                    name=name,
                    platform=(key.platform or "")[:32] or None,
                    key_type=key_type,
                    public_key=public_key,
                    push_kind=kind,
                    sealed_channel=sealed,
                ),
                now,
            )
            push_method = uuid.uuid4().hex
            tx.methods.add(
                NewMethod(
                    id=push_method,
                    user_id=user.id,
                    tenant_id=tenant.id,
                    kind=MethodKind.APP_PUSH,
                    status=MethodStatus.ACTIVE,
                    sealed_seed=None,
                    otp=None,
                    label=name,
                    device_id=device_id,
                ),
                now,
            )
            params = _APP_CODE.new_params(tenant.settings)
            seed = otp.new_seed(params.algorithm)
            code_method = uuid.uuid4().hex
            tx.methods.add(
                NewMethod(
                    id=code_method,
                    user_id=user.id,
                    tenant_id=tenant.id,
                    kind=MethodKind.APP_CODE,
                    status=MethodStatus.ACTIVE,
                    sealed_seed=self.deps.secrets.seal(seed, method_context(code_method)),
                    otp=params,
                    label=name,
                    device_id=device_id,
                ),
                now,
            )
            tx.users.registered(user.id, push_method)
            if was_default:
                tx.users.set_default_method(user.id, push_method)
        log.info("device %s activated for user %r of tenant %r", device_id, user.name, tenant.name)
        return Activated(
            device=device,
            tenant=tenant.name,
            user=user.name,
            issuer=tenant.settings.issuer,
            totp_secret=otp.b32encode(seed),
            otpauth_uri=provisioning_uri(seed, params, tenant.settings.issuer, user.name),
            algorithm=params.algorithm.value,
            digits=params.digits,
            period=params.period,
        )

    # -- the device's own calls --------------------------------------------------------

    def authenticate(
        self, device_id: str, timestamp: int, signature: bytes, method: str, path: str
    ) -> Device:
        """The device behind a signed request, or an error: revoked and unknown devices
        hear "not an activated account", so the app can tell the user what to do."""
        now = self.deps.clock.now()
        with self.deps.storage.transaction() as tx:
            device = tx.devices.by_id(device_id[:32])
        if device is None:  # its user was deleted (reset) or its tenant re-created
            raise AccountNotActivated("Authentication request is not for an activated account")
        message = app_push.request_string(method, path, timestamp)
        if not app_push.verify(device.key_type, device.public_key, message, signature):
            raise Unauthenticated("the device signature does not verify")
        if device.state is not DeviceState.ACTIVE:  # told only to the device itself
            raise AccountNotActivated("Authentication request is not for an activated account")
        if abs(now - timestamp) > app_push.CLOCK_SKEW:
            raise Unauthenticated("the request's time is off: check the device's clock")
        if device.last_seen_at is None or now - device.last_seen_at > _SEEN_EVERY:
            with self.deps.storage.transaction(write=True) as tx:
                tx.devices.seen(device.id, now)
        return device

    def update_push(self, device: Device, push: Mapping[str, Any]) -> Device:
        """The device's new push channel (its FCM token rotated, a new subscription), or
        ``{"kind": "pull"}`` to stop pushes; the device signed this call."""
        kind, channel = self._channel(push)
        with self.deps.storage.transaction(write=True) as tx:
            tx.devices.set_push(device.id, kind, self._sealed(device.id, channel))
            found = tx.devices.by_id(device.id)
        assert found is not None
        return found

    # -- management (admin API) ----------------------------------------------------------

    def list(self, actor: AdminKey, tenant_name: str, user_name: str) -> Sequence[Device]:
        with self.deps.storage.transaction() as tx:
            user = user_for(tx, tenant_for(tx, actor, tenant_name), user_name)
            return tx.devices.for_user(user.id)

    def rename(
        self, actor: AdminKey, tenant_name: str, user_name: str, device_id: str, name: str
    ) -> Device:
        name = name.strip()
        if not 1 <= len(name) <= 64 or not name.isprintable():
            raise InvalidInput("a device name is 1-64 printable characters", field="name")
        with self.deps.storage.transaction(write=True) as tx:
            tenant, user, device = self._device(tx, actor, tenant_name, user_name, device_id)
            tx.devices.rename(device.id, name)
            found = tx.devices.by_id(device.id)
            changed = admin_log.changes({"name": device.name}, {"name": name})
            target = f"{user}/{device.id}"
            admin_log.record(tx, self.deps, actor, tenant, "device.rename", target, changed)
        assert found is not None
        return found

    def deactivate(self, actor: AdminKey, tenant_name: str, user_name: str, device_id: str) -> None:
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant, user, device = self._device(tx, actor, tenant_name, user_name, device_id)
            revoke_device(tx, device.id, now, "deactivated")
            changed = {"state": [device.state.value, DeviceState.REVOKED.value]}
            target = f"{user}/{device.id}"
            admin_log.record(tx, self.deps, actor, tenant, "device.deactivate", target, changed)

    # -- internals -----------------------------------------------------------------------

    def _channel(self, push: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
        given = dict(push)
        kind = str(given.pop("kind", "pull"))
        if kind not in self.channels.kinds():
            known = ", ".join(sorted(self.channels.kinds()))
            raise InvalidInput(f"push kind must be one of: {known}", field="push")
        return kind, self.channels.check_channel(kind, {k: str(v) for k, v in given.items()})

    def _sealed(self, device_id: str, channel: Mapping[str, str]) -> bytes | None:
        if not channel:
            return None
        plain = json.dumps(dict(channel), sort_keys=True).encode()
        return self.deps.secrets.seal(plain, device_context(device_id))

    def _code_hash(self, code: str) -> bytes:
        return self.deps.secrets.digest(code.encode(), _code_context())

    @staticmethod
    def _device(
        tx: Transaction, actor: AdminKey, tenant_name: str, user_name: str, device_id: str
    ) -> tuple[Tenant, str, Device]:
        """The device, its tenant and its user's name."""
        tenant = tenant_for(tx, actor, tenant_name)
        user = user_for(tx, tenant, user_name)
        device = tx.devices.by_id(device_id[:32])
        if device is None or device.user_id != user.id:
            raise NotFound(f"no device {device_id[:32]!r}")
        return tenant, user.name, device


def revoke_device(tx: Transaction, device_id: str, now: float, reason: str) -> None:
    """The device answers nothing more; its methods go, and a default it held moves."""
    device = tx.devices.by_id(device_id)
    if device is None or not tx.devices.revoke(device_id, now, reason):
        return
    tx.methods.delete_for_device(device_id)
    keep_a_default(tx, device.user_id)
