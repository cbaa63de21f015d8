"""The admin trail, service by service: every change writes exactly one admin event, in
the change's own transaction (who, from where, what, to what, before and after); a
refusal is filed where the refused admin may look; reading it keeps tenants apart."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support import builders
from tests.support.devices import FakeDevice
from tests.support.fakes import FakeClock
from tests.support.phones import MOBILE
from twostep.bootstrap import App
from twostep.domain.admin_events import ACTIONS, OK, AdminEvent
from twostep.domain.entities import AdminKey, MethodKind, OtpParams, OtpType, Role
from twostep.domain.errors import (
    ConfirmationFailed,
    Forbidden,
    TenantNotFound,
    UserExists,
)
from twostep.domain.ports.users import NewUser
from twostep.domain.settings import TenantSettings
from twostep.domain.tokens import ImportRefused, TokenRecord
from twostep.factors import otp
from twostep.services import admin_log
from twostep.services.admin import OPERATOR, UserChanges
from twostep.services.enroll import TokenSpec
from twostep.services.keys import rotate_secrets
from twostep.services.radius_clients import NewRadiusClient

db = pytest.mark.usefixtures("backend")

HOTP = OtpParams(type=OtpType.HOTP)
ADDRESS = "198.51.100.7"


@pytest.fixture
def actor(app: App) -> AdminKey:
    """A global admin calling from ADDRESS over HTTP, as the admin dependency makes it."""
    admin, _key = app.admin.create_admin_key(OPERATOR, "ops", Role.GLOBAL_ADMIN)
    return replace(admin, source=ADDRESS, interface="http")


class Trail:
    """The admin events written since the last look."""

    def __init__(self, app: App, actor: AdminKey | None = None) -> None:
        self.app = app
        self.actor = actor
        self.seen = len(self.all())

    def all(self) -> list[AdminEvent]:
        return list(self.app.admin_events.query(OPERATOR, None, limit=1000))

    def new(self) -> list[AdminEvent]:
        events = self.all()
        fresh, self.seen = events[self.seen :], len(events)
        return fresh

    def one(self, action: str, target: str | None, tenant: str | None = "default") -> AdminEvent:
        """The one event the last change wrote: by the actor, from its address."""
        assert action in ACTIONS  # documented (docs/operator-guide.md lists ACTIONS)
        fresh = self.new()
        assert [e.action for e in fresh] == [action]
        event = fresh[0]
        assert (event.target, event.tenant, event.result) == (target, tenant, OK)
        if self.actor is not None:
            who = (event.actor, event.actor_name, event.role, event.source, event.interface)
            assert who == (self.actor.key_id, "ops", "global_admin", ADDRESS, "http")
        assert event.server_name == "node-a"
        return event


@pytest.fixture
def trail(app: App, actor: AdminKey) -> Trail:
    return Trail(app, actor)


def token_record(serial: str, seed: bytes | None = None) -> TokenRecord:
    return TokenRecord(serial=serial, seed=seed or secrets.token_bytes(20), params=HOTP)


# -- what a change records ---------------------------------------------------------------


def test_changes_lists_each_field_that_differs_as_before_and_after() -> None:
    before = {"first_name": "Alice", "phone": "+14155550123", "mfa": "enabled"}
    after = {"first_name": "Alicia", "phone": None, "mfa": "enabled", "language": "ko"}
    assert admin_log.changes(before, after) == {
        "first_name": ["Alice", "Alicia"],
        "language": [None, "ko"],
        "phone": ["+14155550123", None],
    }
    assert admin_log.changes(None, {"name": "web"}) == {"name": [None, "web"]}
    assert admin_log.changes({"name": "web"}, None) == {"name": ["web", None]}


def test_a_secret_field_is_recorded_as_set_or_changed_never_its_value() -> None:
    found = admin_log.changes(
        {"auth_token": "old-token", "sid": "AC1"},
        {"auth_token": "new-token", "sid": "AC1", "webhook_secret": "hook"},
        secret=["auth_token", "webhook_secret"],
    )
    assert found == {"auth_token": ["***", "***"], "webhook_secret": [None, "***"]}


def test_the_operator_guide_lists_every_action() -> None:
    guide = Path(__file__).resolve().parents[3] / "docs" / "operator-guide.md"
    section = guide.read_text(encoding="utf-8").split("\n## Admin trail\n")[1].split("\n## ")[0]
    assert [a for a in ACTIONS if f"| `{a}` |" not in section] == []


def test_the_operator_is_named_by_the_os_account_that_ran_the_command() -> None:
    assert OPERATOR.interface == "cli"
    assert OPERATOR.source is not None and OPERATOR.source.startswith("cli")


# -- every change, one event -------------------------------------------------------------


@db
def test_tenants_and_settings(app: App, actor: AdminKey, trail: Trail) -> None:
    default_failures = TenantSettings().to_dict()["max_failures"]
    app.admin.create_tenant(actor, "acme", {"max_failures": 3})
    made = trail.one("tenant.create", "acme", tenant="acme")
    assert made.changes == {"name": [None, "acme"], "max_failures": [default_failures, 3]}

    # Only what changed, each with its value before and after; a key sent with its
    # current value is no change.
    app.admin.update_settings(actor, "acme", {"max_failures": 4, "issuer": "Twostep"})
    assert trail.one("settings.update", "acme", tenant="acme").changes == {"max_failures": [3, 4]}


@db
def test_users(app: App, actor: AdminKey, trail: Trail, clock: FakeClock) -> None:
    app.admin.create_user(actor, "default", NewUser("alice", first_name="Alice", phone=MOBILE))
    assert trail.one("user.create", "alice").changes == {
        "name": [None, "alice"],
        "first_name": [None, "Alice"],
        "phone": [None, MOBILE],
        "mfa": [None, "enabled"],
    }

    changes = UserChanges(first_name="Alicia", clear=frozenset({"phone"}))
    app.admin.update_user(actor, "default", "ALICE", changes)
    assert trail.one("user.update", "alice").changes == {
        "first_name": ["Alice", "Alicia"],
        "phone": [MOBILE, None],
    }

    with app.storage.transaction(write=True) as tx:
        user = tx.users.by_name(app.admin.get_tenant(OPERATOR, "default").id, "alice")
        assert user is not None
        tx.users.record_failure(user.id, clock.now(), 1, clock.now() + 600)
    app.admin.unlock_user(actor, "default", "alice")
    assert trail.one("user.unlock", "alice").changes["locked_until"] == [clock.now() + 600, None]

    app.passwords.set_password(actor, "default", "alice", "correct horse battery")
    assert trail.one("password.set", "alice").changes == {"password": [None, "***"]}
    app.passwords.set_password(actor, "default", "alice", "another long phrase")
    assert trail.one("password.set", "alice").changes == {"password": ["***", "***"]}
    app.passwords.clear_password(actor, "default", "alice")
    assert trail.one("password.clear", "alice").changes == {"password": ["***", None]}

    app.admin.delete_user(actor, "default", "alice")
    gone = trail.one("user.delete", "alice").changes
    assert gone["name"] == ["alice", None] and gone["first_name"] == ["Alicia", None]


@db
def test_methods(app: App, actor: AdminKey, trail: Trail, clock: FakeClock) -> None:
    builders.user(app, "alice")
    trail.new()
    pending = app.enroll.enroll_app_code(actor, "default", "alice", label="phone")
    app_code = pending.method.id
    enrolled = trail.one("method.enroll", f"alice/{app_code}").changes
    assert enrolled["kind"] == [None, "app_code"] and enrolled["status"] == [None, "pending"]

    seed = otp.parse_seed(pending.otpauth_uri.split("secret=")[1].split("&")[0])
    assert pending.method.otp is not None
    code = otp.hotp(seed, pending.method.otp, otp.time_step(clock.now(), 30))
    app.enroll.confirm(actor, "default", "alice", app_code, code)
    confirmed = trail.one("method.confirm", f"alice/{app_code}")
    assert confirmed.changes == {"status": ["pending", "active"]}

    token_seed = secrets.token_bytes(20)
    token = app.enroll.enroll_oath_token(
        actor, "default", "alice", TokenSpec("T1", "hex:" + token_seed.hex(), HOTP)
    )
    assert trail.one("method.enroll", f"alice/{token.id}").changes["serial"] == [None, "T1"]

    app.enroll.set_default(actor, "default", "alice", token.id)
    default = trail.one("method.default", f"alice/{token.id}")
    assert default.changes == {"default": [app_code, token.id]}

    first, second = otp.hotp(token_seed, HOTP, 40), otp.hotp(token_seed, HOTP, 41)
    app.enroll.resync(actor, "default", "alice", token.id, first, second)
    assert trail.one("method.resync", f"alice/{token.id}").changes == {"counter": [0, 42]}

    sms = app.enroll.enroll_phone(actor, "default", "alice", MethodKind.SMS, MOBILE)
    # The number as the API shows a method's: masked.
    assert trail.one("method.enroll", f"alice/{sms.id}").changes["phone"] == [
        None,
        "+1 \u2022\u2022\u2022 0123",
    ]

    app.enroll.delete(actor, "default", "alice", token.id)
    assert trail.one("method.delete", f"alice/{token.id}").changes["kind"] == ["oath_token", None]


@db
def test_devices(app: App, actor: AdminKey, trail: Trail) -> None:
    builders.user(app, "alice")
    trail.new()
    started = app.devices.start_activation(actor, "default", "alice")
    activation = trail.one("device.activation", "alice")
    assert activation.changes == {"expires_at": [None, started.expires_at]}

    phone = FakeDevice.new()
    phone.activated = app.devices.activate(started.code, phone.key())
    assert trail.new() == []  # the device's own call: no admin made it

    app.devices.rename(actor, "default", "alice", phone.id, "Work phone")
    renamed = trail.one("device.rename", f"alice/{phone.id}")
    assert renamed.changes == {"name": ["test phone", "Work phone"]}

    app.devices.start_activation(actor, "default", "alice", replaces=phone.id)
    assert trail.one("device.activation", "alice").changes["replaces"] == [None, phone.id]

    app.devices.deactivate(actor, "default", "alice", phone.id)
    deactivated = trail.one("device.deactivate", f"alice/{phone.id}")
    assert deactivated.changes == {"state": ["active", "revoked"]}


@db
def test_the_token_pool(app: App, actor: AdminKey, trail: Trail) -> None:
    builders.user(app, "alice")
    trail.new()
    seed = secrets.token_bytes(20)
    app.tokens.import_records(actor, "default", [token_record("T1", seed), token_record("T2")])
    imported = trail.one("token.import", None).changes  # one event for the file: counts
    assert imported["imported"] == [None, 2] and imported["by_type"] == [None, {"hotp": 2}]

    app.tokens.assign(actor, "default", "T1", "alice")
    assigned = trail.one("token.assign", "T1").changes
    assert assigned == {"user": [None, "alice"], "status": ["unassigned", "active"]}

    app.tokens.resync(actor, "default", "T1", otp.hotp(seed, HOTP, 10), otp.hotp(seed, HOTP, 11))
    assert trail.one("token.resync", "T1").changes == {"counter": [0, 12]}

    app.tokens.unassign(actor, "default", "T1")
    unassigned = trail.one("token.unassign", "T1").changes
    assert unassigned == {"user": ["alice", None], "status": ["active", "unassigned"]}

    app.tokens.mark_lost(actor, "default", "T2")
    assert trail.one("token.lost", "T2").changes == {"status": ["unassigned", "lost"]}

    app.tokens.delete(actor, "default", "T2")
    assert trail.one("token.delete", "T2").changes["serial"] == ["T2", None]

    assert len(app.tokens.export(actor, "default")) == 1
    assert trail.one("token.export", None).changes == {"tokens": [None, 1]}


@db
def test_integrations_and_admin_keys(app: App, actor: AdminKey, trail: Trail) -> None:
    integration, _key = app.admin.create_integration(actor, "default", "mail", legacy=True)
    created = trail.one("integration.create", "mail").changes
    assert created["legacy"] == [None, True]
    assert created["key_id"] == [None, integration.key_id]

    app.admin.set_legacy(actor, "default", "mail", False)
    assert trail.one("integration.update", "mail").changes == {"legacy": [True, False]}

    app.admin.revoke_integration(actor, "default", "mail")
    assert trail.one("integration.revoke", "mail").changes["revoked_at"][0] is None

    app.admin.create_tenant(OPERATOR, "acme")
    trail.new()
    key, _secret = app.admin.create_admin_key(actor, "acme ops", Role.TENANT_ADMIN, "acme")
    # Filed under the key's tenant: acme's admins see who made a key for their tenant.
    assert trail.one("admin_key.create", key.key_id, tenant="acme").changes == {
        "name": [None, "acme ops"],
        "role": [None, "tenant_admin"],
        "tenant": [None, "acme"],
    }
    app.admin.revoke_admin_key(actor, key.key_id)
    assert trail.one("admin_key.revoke", key.key_id, tenant="acme").changes["revoked_at"][0] is None


@db
def test_gateways_radius_clients_and_key_rotation(app: App, actor: AdminKey, trail: Trail) -> None:
    sid = "AC" + "0" * 32
    settings = {"account_sid": sid, "auth_token": "twilio-token", "from_number": MOBILE}
    app.gateways.add(actor, "default", "sms-main", "twilio", settings)
    added = trail.one("gateway.add", "sms-main").changes
    assert added["kind"] == [None, "twilio"] and added["account_sid"] == [None, sid]
    assert added["auth_token"] == [None, "***"]

    app.gateways.delete(actor, "default", "sms-main")
    assert trail.one("gateway.delete", "sms-main").changes["kind"] == ["twilio", None]

    app.radius_clients.create(
        actor, "default", NewRadiusClient("vpn", "192.0.2.0/24", secret="s3cret-radius-42")
    )
    radius = trail.one("radius_client.create", "vpn").changes
    assert radius["network"] == [None, "192.0.2.0/24"] and radius["secret"] == [None, "***"]
    app.radius_clients.delete(actor, "default", "vpn")
    assert trail.one("radius_client.delete", "vpn").changes["network"] == ["192.0.2.0/24", None]

    builders.user(app, "alice")
    builders.token(app, "alice")
    trail.new()
    rotated = rotate_secrets(app.deps, app.keys, actor)
    event = trail.one("secret_key.rotate", None, tenant=None)  # a global change
    assert event.changes == {"reencrypted": [None, rotated.reencrypted]}


# -- no change, no "ok" --------------------------------------------------------------------


@db
def test_a_change_rolled_back_leaves_no_event(app: App, actor: AdminKey, trail: Trail) -> None:
    tenant = app.admin.get_tenant(OPERATOR, "default")
    with pytest.raises(RuntimeError), app.storage.transaction(write=True) as tx:
        tx.users.add(tenant.id, NewUser("ghost"), 0)
        admin_log.record(tx, app.deps, actor, tenant, "user.create", "ghost")
        raise RuntimeError("the node died before the commit")
    assert trail.new() == []

    # A refused import writes nothing, its event neither; a wrong code activates nothing.
    app.tokens.import_records(actor, "default", [token_record("T1")])
    trail.new()
    with pytest.raises(ImportRefused):
        app.tokens.import_records(actor, "default", [token_record("T2"), token_record("T1")])
    builders.user(app, "alice")
    trail.new()
    pending = app.enroll.enroll_app_code(actor, "default", "alice")
    trail.new()
    with pytest.raises(ConfirmationFailed):
        app.enroll.confirm(actor, "default", "alice", pending.method.id, "000000")
    with pytest.raises(UserExists):
        app.admin.create_user(actor, "default", NewUser("Alice"))
    assert trail.new() == []
    assert [t.serial for t in app.tokens.list(OPERATOR, "default")] == ["T1"]


# -- refusals --------------------------------------------------------------------------------


@db
def test_a_refusal_is_filed_where_the_refused_admin_looks(app: App) -> None:
    app.admin.create_tenant(OPERATOR, "acme")
    app.admin.create_tenant(OPERATOR, "globex")
    acme_admin, _key = app.admin.create_admin_key(OPERATOR, "acme ops", Role.TENANT_ADMIN, "acme")
    trail = Trail(app)

    # A tenant admin probing another tenant: in its own tenant's trail, never globex's,
    # naming the tenant it asked for (whether or not it exists).
    for asked in ("globex", "no-such-tenant"):
        admin_log.refused(app.deps, acme_admin, asked, "user.delete", "bob", "tenant_not_found")
    probes = trail.new()
    assert [(e.tenant, e.result, e.target) for e in probes] == [
        ("globex", "tenant_not_found", "bob"),
        ("no-such-tenant", "tenant_not_found", "bob"),
    ]
    acme_view = app.admin_events.query(acme_admin, "acme")
    assert [e.event_id for e in acme_view if e.result != OK] == [e.event_id for e in probes]
    assert [e.action for e in app.admin_events.query(OPERATOR, "globex")] == ["tenant.create"]

    # In a tenant it may manage: that tenant's. A global admin's unknown tenant: global.
    admin_log.refused(app.deps, OPERATOR, "globex", "user.create", None, "user_exists")
    admin_log.refused(app.deps, OPERATOR, "nowhere", "user.create", None, "tenant_not_found")
    globex = app.admin_events.query(OPERATOR, "globex")
    assert [e.result for e in globex] == [OK, "user_exists"]
    assert [(e.tenant, e.result) for e in trail.new()] == [
        ("globex", "user_exists"),
        ("nowhere", "tenant_not_found"),
    ]
    assert [e.tenant for e in app.admin_events.query(OPERATOR, None, action="user.create")] == [
        "globex",
        "nowhere",
    ]


# -- reading the trail -----------------------------------------------------------------------


@db
def test_filters_and_paging(app: App, actor: AdminKey, clock: FakeClock) -> None:
    start = clock.now()
    builders.user(app, "alice")
    clock.advance(60)
    app.admin.update_user(actor, "default", "alice", UserChanges(first_name="A"))
    app.admin.update_settings(actor, "default", {"max_failures": 9})
    clock.advance(60)
    app.admin.delete_user(actor, "default", "alice")
    trail = app.admin_events

    def actions(**filters: object) -> list[str]:
        return [e.action for e in trail.query(OPERATOR, "default", **filters)]  # type: ignore[arg-type]

    assert actions(action="user.") == ["user.create", "user.update", "user.delete"]
    assert actions(action="user.update") == ["user.update"]
    assert actions(action="user") == []  # exact unless it ends in "."
    assert actions(actor_key=actor.key_id) == ["user.update", "settings.update", "user.delete"]
    assert actions(actor_key="operator") == ["user.create"]
    assert actions(target="alice") == ["user.create", "user.update", "user.delete"]
    assert actions(since=start + 60, until=start + 120) == ["user.update", "settings.update"]
    assert actions(limit=2, newest_first=True) == ["user.delete", "settings.update"]

    first = trail.query(OPERATOR, "default", limit=2)
    rest = trail.query(OPERATOR, "default", after_seq=first[-1].seq, limit=2)
    assert [e.action for e in [*first, *rest]] == actions()


@db
def test_a_tenant_admin_reads_its_own_tenant_only(app: App) -> None:
    app.admin.create_tenant(OPERATOR, "acme")
    acme_admin, _key = app.admin.create_admin_key(OPERATOR, "acme ops", Role.TENANT_ADMIN, "acme")
    builders.user(app, "alice")
    builders.user(app, "bob", tenant="acme")
    seen = app.admin_events.query(acme_admin, "acme")
    assert {e.tenant for e in seen} == {"acme"}
    assert {e.action for e in seen} == {"tenant.create", "admin_key.create", "user.create"}
    with pytest.raises(TenantNotFound):
        app.admin_events.query(acme_admin, "default")
    with pytest.raises(Forbidden):  # every tenant's and the global events
        app.admin_events.query(acme_admin, None)
