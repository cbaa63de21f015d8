"""Activation credentials of integrations (issue 15, item 2).

An admin generates, for an integration of a tenant linked to a provider, an activation
code and a one-time password, valid 10 minutes (shown once; only keyed digests are
stored). The integration exchanges them once (``POST /v1/activations``, ``twostep
integrations activate``) for a new long-lived key: the exchange is one conditional update
on the credentials' row (unused, unexpired, not locked), so of two exchanges at once
exactly one gets a key. Exchanging replaces the integration's key (the old one stops
working) and ends its pending state after a provider replacement. A RADIUS client's
integration has no key anyone holds (the NAS signs with its shared secret): its exchange
ends the pending state and gives no key, so activating a client never makes an API key.

No enumeration: an unknown code, a wrong password, a used, expired or locked code all
answer ``integration_activation_invalid``, after the same digest work. Guessing is hopeless
(the code has 120 random bits) and bounded anyway: five wrong passwords lock the code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from twostep.domain.entities import AdminKey, Role
from twostep.domain.errors import (
    Forbidden,
    IntegrationActivationInvalid,
    IntegrationNotFound,
    ProviderRequired,
)
from twostep.domain.permissions import Permission, allows
from twostep.domain.ports.billing import IntegrationActivation
from twostep.services import admin_log, credentials
from twostep.services.admin import tenant_for
from twostep.services.context import Deps
from twostep.services.radius_clients import is_client_integration

VALID_SECONDS = 600
MAX_FAILURES = 5
_CODE_CONTEXT = "integration-activation-code"
_PASSWORD_CONTEXT = "integration-activation-password"  # noqa: S105 - a context name
_DUMMY = b"\0" * 32
_INTEGRATION = AdminKey(
    id=0,
    key_id="activation",
    name="",
    role=Role.TENANT_ADMIN,  # replaced by "integration" in the event
    tenant_id=None,
    created_at=0,
    interface="http",
)


@dataclass(frozen=True, slots=True)
class ActivationCredentials:
    code: str  # shown once
    password: str  # shown once
    integration: str
    tenant: str
    provider: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class ActivatedKey:
    key: str | None  # the integration's new key, shown once (None: a RADIUS client's)
    integration: str
    tenant: str


class ActivationService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def generate(
        self, actor: AdminKey, tenant_name: str, integration_name: str
    ) -> ActivationCredentials:
        """New credentials for the integration; older unused ones of it are void."""
        if not allows(actor.role, Permission.INTEGRATIONS_WRITE):
            raise Forbidden("this admin may not manage integrations")
        code = secrets.token_hex(15)  # 120 bits
        password = f"{secrets.randbelow(10**12):012d}"
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            integration = tx.integrations.by_name(tenant.id, integration_name)
            if integration is None or integration.revoked_at is not None:
                raise IntegrationNotFound(f"no integration {integration_name!r}")
            provider = tx.providers.live_for_tenant(tenant.id)
            if provider is None:
                raise ProviderRequired(f"tenant {tenant.name!r} is linked to no provider")
            tx.providers.drop_activations(integration.id)
            activation = IntegrationActivation(
                id=secrets.token_hex(8),
                integration_id=integration.id,
                provider_id=provider.id,
                password_hash=self._digest(password, _PASSWORD_CONTEXT),
                expires_at=now + VALID_SECONDS,
            )
            tx.providers.add_activation(activation, self._digest(code, _CODE_CONTEXT), now)
            changed = {"activation": [None, admin_log.HIDDEN], "provider": [None, provider.id]}
            admin_log.record(
                tx, self.deps, actor, tenant, "integration.activation", integration.name, changed
            )
        return ActivationCredentials(
            code=code,
            password=password,
            integration=integration.name,
            tenant=tenant.name,
            provider=provider.id,
            expires_at=now + VALID_SECONDS,
        )

    def exchange(self, code: str, password: str, client_ip: str | None = None) -> ActivatedKey:
        """The integration's new key for valid credentials, once."""
        invalid = IntegrationActivationInvalid("the activation code or password is not valid")
        now = self.deps.clock.now()
        code_hash = self._digest(code[:64], _CODE_CONTEXT)
        with self.deps.storage.transaction(write=True) as tx:
            found = tx.providers.activation_by_code(code_hash)
            stored = found.password_hash if found is not None else _DUMMY
            right = self.deps.secrets.digest_matches(
                stored, password[:64].encode(), _PASSWORD_CONTEXT
            )
            if found is None:
                raise invalid
            if not right:
                tx.providers.failed_activation(found.id)
                failed = True
            else:
                failed = False
        if failed:  # the failure is counted (committed) before the refusal
            raise invalid
        assert found is not None
        key = credentials.new_key(credentials.INTEGRATION_PREFIX)
        with self.deps.storage.transaction(write=True) as tx:
            if not tx.providers.use_activation(found.id, now, MAX_FAILURES):
                raise invalid
            integration = tx.providers.integration(found.integration_id)
            if integration is None or integration.revoked_at is not None:
                raise invalid
            radius = is_client_integration(integration.key_id)
            if radius:  # its key id stays; a fresh hash nobody holds, as at its creation
                key = credentials.NewKey("", integration.key_id, secrets.token_bytes(32))
            tx.providers.activated(integration.id, key.key_id, key.key_hash)
            tx.providers.drop_activations(integration.id)
            tenant = tx.tenants.by_id(integration.tenant_id)
            changed = {"key_id": [integration.key_id, key.key_id], "pending": [True, False]}
            # The integration itself made this change: the trail names it, as "integration".
            actor = replace(_INTEGRATION, name=integration.name[:128], source=client_ip)
            record = admin_log.event(
                self.deps,
                actor,
                tenant.name if tenant else None,
                "integration.activate",
                integration.name,
                changed=changed,
            )
            tx.admin_events.add(integration.tenant_id, replace(record, role="integration"))
        return ActivatedKey(
            None if radius else key.key, integration.name, tenant.name if tenant else ""
        )

    def _digest(self, value: str, context: str) -> bytes:
        return self.deps.secrets.digest(value.encode(), context)
