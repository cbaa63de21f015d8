"""RADIUS clients: the NASes (VPNs, gateways, Wi-Fi controllers) that may ask over RADIUS.

Each client is an integration too (created in the same transaction, with a key nobody
holds), so the audit log names the client as the integration and revoking that
integration disables the client. The shared secret is sealed with the secret box, bound
to the client's id; it is shown once when Twostep generates it and never again.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from twostep.domain.entities import (
    AdminKey,
    Integration,
    RadiusClient,
    RadiusMode,
    RadiusPrimary,
    Role,
)
from twostep.domain.errors import (
    IntegrationExists,
    IntegrationNotFound,
    InvalidInput,
    NetworkOverlap,
)
from twostep.domain.ports.storage import Transaction
from twostep.domain.sealing import radius_client_context, radius_upstream_context
from twostep.services import admin_log, radius_options
from twostep.services.admin import tenant_for
from twostep.services.context import Deps
from twostep.services.radius_options import NewUpstream

log = logging.getLogger("twostep.radius")
_T = TypeVar("_T")

GENERATED_SECRET_BYTES = 32  # shown as 43 URL-safe base64 characters
MAX_SECRET_OCTETS = 64
WEAK_SECRET_OCTETS = 12  # at or below: a captured packet reveals it to an offline search
MAX_PUSH_WAIT = 120
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]+$")


secret_context = radius_client_context  # a client's shared secret, bound to its row


def integration_key_id(client_id: str) -> str:
    """The key id of a client's integration: never a valid ``tsi_`` key id (16 hex)."""
    return f"radius-{client_id[:24]}"


def is_client_integration(key_id: str) -> bool:
    """The integration is a RADIUS client's (its key id is ``integration_key_id``'s)."""
    return key_id.startswith("radius-")


@dataclass(frozen=True, slots=True)
class NewRadiusClient:
    name: str
    network: str
    mode: RadiusMode | str = RadiusMode.SECOND_FACTOR
    secret: str | None = None  # None: generate one
    require_message_authenticator: bool = True
    limit_proxy_state: bool = False
    push_wait_seconds: int = 25
    require_user_match: bool = True
    oath_fallback: bool = False
    primary: RadiusPrimary | str = RadiusPrimary.NONE
    upstreams: tuple[NewUpstream, ...] = ()


@dataclass(frozen=True, slots=True)
class RadiusClientChange:
    """The options to change; None keeps one (``upstreams``: None keeps the servers and
    their secrets, a tuple replaces them all, each with its secret)."""

    mode: RadiusMode | str | None = None
    require_message_authenticator: bool | None = None
    limit_proxy_state: bool | None = None
    push_wait_seconds: int | None = None
    require_user_match: bool | None = None
    oath_fallback: bool | None = None
    primary: RadiusPrimary | str | None = None
    upstreams: tuple[NewUpstream, ...] | None = None


@dataclass(frozen=True, slots=True)
class CreatedRadiusClient:
    client: RadiusClient
    secret: str | None  # the generated secret, shown only now; None when the operator gave one
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LoadedClient:
    """What a RADIUS server needs of a client: its settings, integration and secret."""

    client: RadiusClient
    integration: Integration
    secret: bytes
    upstream_secrets: tuple[bytes, ...] = ()  # in the order of client.upstreams


def normalise_network(value: str) -> str:
    """An address or CIDR, IPv4 or IPv6, as ``ip_network`` writes it; host bits refused."""
    text = value.strip()
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        hint = ""
        with contextlib.suppress(ValueError):
            hint = f" (did you mean {ipaddress.ip_network(text, strict=False)}?)"
        raise InvalidInput(
            f"network must be an IP address or CIDR such as 192.0.2.0/24{hint}", field="network"
        ) from exc
    if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped:
        mapped = network.network_address.ipv4_mapped
        network = ipaddress.ip_network(f"{mapped}/{max(network.prefixlen - 96, 0)}")
    return str(network)


def check_secret(secret: str) -> tuple[str, ...]:
    """Refuse what a NAS could not hold; the warnings for what is weak."""
    if not secret or not _PRINTABLE.match(secret) or secret != secret.strip():
        raise InvalidInput(
            "the secret must be printable ASCII without leading or trailing spaces",
            field="secret",
        )
    if len(secret) > MAX_SECRET_OCTETS:
        raise InvalidInput(f"the secret must be at most {MAX_SECRET_OCTETS} octets", field="secret")
    if len(secret) <= WEAK_SECRET_OCTETS:
        return (
            f"weak shared secret: {len(secret)} octets can be found by an offline search "
            "from one captured packet; use 32 or more random characters",
        )
    return ()


def _overlaps(tx: Transaction, actor: AdminKey, tenant_id: int, network: str) -> list[str]:
    """Refuse a network that would take requests meant for another client; warn about
    one that nests with another (the most specific network answers its addresses).

    A network another client already has would never be answered (the older client wins):
    refused. One that nests with another tenant's client would take over that client's
    addresses (its NAS answered with the wrong secret, so its requests dropped): only a
    global admin may do that, and hears whose. A tenant admin hears no other tenant's name.
    """
    mine = ipaddress.ip_network(network)
    warnings: list[str] = []
    for client, tenant_name in tx.radius_clients.networks():
        theirs = ipaddress.ip_network(client.network)
        if theirs.version != mine.version or not (
            mine.subnet_of(theirs) or theirs.subnet_of(mine)  # type: ignore[arg-type]
        ):
            continue
        own = client.tenant_id == tenant_id
        where = f"RADIUS client {client.name!r}" + ("" if own else f" of tenant {tenant_name!r}")
        if theirs == mine:
            if own or actor.role is Role.GLOBAL_ADMIN:
                raise NetworkOverlap(f"{where} already has the network {network}")
            raise NetworkOverlap(f"the network {network} is another tenant's RADIUS client's")
        if not own and actor.role is not Role.GLOBAL_ADMIN:
            raise NetworkOverlap(
                f"the network {network} overlaps another tenant's RADIUS client; "
                "only a global admin may add it"
            )
        inner = "inside" if mine.subnet_of(theirs) else "around"  # type: ignore[arg-type]
        warnings.append(
            f"{network} lies {inner} {theirs} of {where}: the most specific network answers "
            "its addresses"
        )
    return warnings


def _fields(client: RadiusClient) -> dict[str, object]:
    """What the admin trail records of a client (its secret apart)."""
    return {
        "network": client.network,
        "mode": client.mode.value,
        "require_message_authenticator": client.require_message_authenticator,
        "limit_proxy_state": client.limit_proxy_state,
        "push_wait_seconds": client.push_wait_seconds,
        "require_user_match": client.require_user_match,
        "oath_fallback": client.oath_fallback,
        "primary": client.primary.value,
        "upstreams": radius_options.described(client.upstreams),
    }


def _wait(seconds: int) -> int:
    if not 0 <= seconds <= MAX_PUSH_WAIT:
        raise InvalidInput(
            f"push_wait_seconds must be 0-{MAX_PUSH_WAIT}", field="push_wait_seconds"
        )
    return seconds


def _secrets(upstreams: Sequence[NewUpstream]) -> list[str]:
    """The upstreams' secrets, checked as a client's is; the warnings for weak ones."""
    warnings: list[str] = []
    for upstream in upstreams:
        try:
            warnings += check_secret(upstream.secret)
        except InvalidInput as exc:
            message = f"upstream {upstream.address}: {exc.message}"
            raise InvalidInput(message, field="upstreams") from None
    return [w.replace("weak shared secret", "weak upstream secret") for w in warnings]


def _mode(value: RadiusMode | str) -> RadiusMode:
    try:
        return RadiusMode(value)
    except ValueError as exc:
        choices = ", ".join(m.value for m in RadiusMode)
        raise InvalidInput(f"mode must be one of {choices}", field="mode") from exc


class RadiusClientService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def create(
        self, actor: AdminKey, tenant_name: str, new: NewRadiusClient
    ) -> CreatedRadiusClient:
        if not _NAME.match(new.name) or new.name != new.name.strip():
            raise InvalidInput("name must be 1-128 printable characters", field="name")
        network = normalise_network(new.network)
        mode = _mode(new.mode)
        _wait(new.push_wait_seconds)
        upstreams = tuple(radius_options.upstream_of(u) for u in new.upstreams)
        warnings: list[str] = _secrets(new.upstreams)
        generated = None
        if new.secret is None:
            generated = secrets.token_urlsafe(GENERATED_SECRET_BYTES)
            secret = generated
        else:
            secret = new.secret
            warnings += check_secret(secret)
        if ipaddress.ip_network(network).prefixlen == 0:
            warnings.append(f"{network} accepts requests from any address")
        if not new.require_message_authenticator:
            warnings.append(
                "Message-Authenticator not required: this client is exposed to BlastRADIUS "
                "(CVE-2024-3596); turn it back on once the NAS sends it"
            )
        client_id = uuid.uuid4().hex
        now = self.deps.clock.now()
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            if tx.integrations.by_name(tenant.id, new.name) is not None:
                raise IntegrationExists(f"integration {new.name!r} already exists")
            warnings += _overlaps(tx, actor, tenant.id, network)
            # A key nobody holds: a RADIUS client never calls the HTTP API.
            integration = tx.integrations.add(
                tenant.id, new.name, integration_key_id(client_id), secrets.token_bytes(32), now
            )
            client = RadiusClient(
                id=client_id,
                tenant_id=tenant.id,
                integration_id=integration.id,
                name=new.name,
                network=network,
                mode=mode,
                require_message_authenticator=new.require_message_authenticator,
                limit_proxy_state=new.limit_proxy_state,
                push_wait_seconds=new.push_wait_seconds,
                created_at=now,
                require_user_match=new.require_user_match,
                oath_fallback=new.oath_fallback,
                primary=radius_options.primary_of(new.primary),
                upstreams=upstreams,
            )
            radius_options.check(client)
            sealed = self.deps.secrets.seal(secret.encode("ascii"), secret_context(client_id))
            tx.radius_clients.add(client, sealed, self._seal_upstreams(client_id, new.upstreams))
            # The shared secrets are recorded as set ("***"), never their values.
            hidden = {"secret": secret} | ({"upstream_secrets": "set"} if new.upstreams else {})
            given = admin_log.changes(
                None, _fields(client) | hidden, secret=["secret", "upstream_secrets"]
            )
            admin_log.record(tx, self.deps, actor, tenant, "radius_client.create", new.name, given)
        for warning in warnings:
            log.warning("RADIUS client %r of tenant %r: %s", new.name, tenant_name, warning)
        return CreatedRadiusClient(client, generated, tuple(warnings))

    def update(
        self, actor: AdminKey, tenant_name: str, name: str, change: RadiusClientChange
    ) -> RadiusClient:
        """Change a client's options, recorded before and after in the admin trail."""
        if change.push_wait_seconds is not None:
            _wait(change.push_wait_seconds)
        upstreams = None
        if change.upstreams is not None:
            upstreams = tuple(radius_options.upstream_of(u) for u in change.upstreams)
            for warning in _secrets(change.upstreams):
                log.warning("RADIUS client %r of tenant %r: %s", name, tenant_name, warning)
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            before = tx.radius_clients.by_name(tenant.id, name)
            if before is None:
                raise IntegrationNotFound(f"no RADIUS client {name!r}")
            after = replace(
                before,
                mode=before.mode if change.mode is None else _mode(change.mode),
                require_message_authenticator=_or(
                    change.require_message_authenticator, before.require_message_authenticator
                ),
                limit_proxy_state=_or(change.limit_proxy_state, before.limit_proxy_state),
                push_wait_seconds=_or(change.push_wait_seconds, before.push_wait_seconds),
                require_user_match=_or(change.require_user_match, before.require_user_match),
                oath_fallback=_or(change.oath_fallback, before.oath_fallback),
                primary=(
                    before.primary
                    if change.primary is None
                    else radius_options.primary_of(change.primary)
                ),
                upstreams=before.upstreams if upstreams is None else upstreams,
            )
            sealed: list[bytes] | None = None
            if change.upstreams is not None:
                sealed = self._seal_upstreams(before.id, change.upstreams)
            elif after.primary is not RadiusPrimary.RADIUS and before.upstreams:
                after, sealed = replace(after, upstreams=()), []  # no longer proxied: gone
            radius_options.check(after)
            tx.radius_clients.update(after, sealed)
            # Upstream secrets as the trail sees them: set (***), given anew (*** -> ***),
            # kept (no entry), or gone with their servers (*** -> None); never their values.
            hidden_before = {"upstream_secrets": "set"} if before.upstreams else {}
            hidden_after = (
                hidden_before if sealed is None else ({"upstream_secrets": "new"} if sealed else {})
            )
            trail = admin_log.changes(
                _fields(before) | hidden_before,
                _fields(after) | hidden_after,
                secret=["upstream_secrets"],
            )
            admin_log.record(tx, self.deps, actor, tenant, "radius_client.update", name, trail)
        return after

    def _seal_upstreams(self, client_id: str, upstreams: Sequence[NewUpstream]) -> list[bytes]:
        return [
            self.deps.secrets.seal(
                u.secret.encode("ascii"), radius_upstream_context(client_id, position)
            )
            for position, u in enumerate(upstreams)
        ]

    def list(self, actor: AdminKey, tenant_name: str) -> Sequence[RadiusClient]:
        with self.deps.storage.transaction() as tx:
            return tx.radius_clients.list(tenant_for(tx, actor, tenant_name).id)

    def delete(self, actor: AdminKey, tenant_name: str, name: str) -> None:
        with self.deps.storage.transaction(write=True) as tx:
            tenant = tenant_for(tx, actor, tenant_name)
            client = tx.radius_clients.by_name(tenant.id, name)
            if client is None:
                raise IntegrationNotFound(f"no RADIUS client {name!r}")
            tx.radius_clients.delete(client.id)
            gone = admin_log.changes(_fields(client), None)
            admin_log.record(tx, self.deps, actor, tenant, "radius_client.delete", name, gone)

    def load_active(self) -> Sequence[LoadedClient]:
        """Every active client of every tenant with its secret opened (for the server)."""
        with self.deps.storage.transaction() as tx:
            rows = tx.radius_clients.active()
        loaded = []
        for client, sealed, upstream_sealed in rows:
            secret = self.deps.secrets.open(sealed, secret_context(client.id))
            upstream_secrets = tuple(
                self.deps.secrets.open(s, radius_upstream_context(client.id, position))
                for position, s in enumerate(upstream_sealed)
            )
            integration = Integration(
                id=client.integration_id,
                tenant_id=client.tenant_id,
                name=client.name,
                key_id=integration_key_id(client.id),
                created_at=client.created_at,
            )
            loaded.append(LoadedClient(client, integration, secret, upstream_secrets))
        return loaded


def _or(value: _T | None, kept: _T) -> _T:
    return kept if value is None else value
