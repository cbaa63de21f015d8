"""Administration rules: registration state, conflicts, keys, the key file."""

from __future__ import annotations

import pytest

from tests.support import builders
from twostep.bootstrap import App, build
from twostep.config import Config
from twostep.domain.entities import MfaState, Role
from twostep.domain.errors import Conflict, Forbidden, MethodPending, SecretKeyError
from twostep.domain.ports.users import NewUser
from twostep.services.admin import OPERATOR

pytestmark = pytest.mark.usefixtures("backend")


def test_registering_the_first_method_enforces_mfa_and_sets_the_default(app: App) -> None:
    builders.user(app, "alice")  # mfa: enabled
    enrolled = builders.app_code(app, "alice")
    alice = app.admin.get_user(OPERATOR, "default", "alice")
    assert alice.mfa is MfaState.ENFORCED
    assert alice.default_method_id == enrolled.method.id


def test_a_disabled_user_stays_disabled_when_registering(app: App) -> None:
    builders.user(app, "bob", mfa=MfaState.DISABLED)
    builders.token(app, "bob")
    assert app.admin.get_user(OPERATOR, "default", "bob").mfa is MfaState.DISABLED


def test_a_pending_method_cannot_be_the_default(app: App) -> None:
    builders.user(app, "carol")
    pending = app.enroll.enroll_app_code(OPERATOR, "default", "carol")
    with pytest.raises(MethodPending):
        app.enroll.set_default(OPERATOR, "default", "carol", pending.method.id)


def test_deleting_the_default_method_promotes_another(app: App) -> None:
    builders.user(app, "dave")
    first = builders.token(app, "dave")
    second = builders.token(app, "dave")
    app.enroll.delete(OPERATOR, "default", "dave", first.method.id)
    assert app.admin.get_user(OPERATOR, "default", "dave").default_method_id == second.method.id


def test_a_racing_duplicate_write_is_a_conflict_not_a_crash(app: App) -> None:
    tenant = app.admin.get_tenant(OPERATOR, "default")
    with pytest.raises(Conflict), app.storage.transaction(write=True) as tx:
        tx.users.add(tenant.id, NewUser("erin"), 0)
        tx.users.add(tenant.id, NewUser("erin"), 0)  # what a second node would do
    assert app.admin.list_users(OPERATOR, "default") == []


def test_only_a_global_admin_makes_tenants_and_keys(app: App) -> None:
    app.admin.create_tenant(OPERATOR, "acme")
    admin, _key = app.admin.create_admin_key(OPERATOR, "ops", Role.TENANT_ADMIN, "acme")
    assert admin.tenant == "acme"
    with pytest.raises(Forbidden):
        app.admin.create_tenant(admin, "globex")
    with pytest.raises(Forbidden):
        app.admin.create_admin_key(admin, "x", Role.GLOBAL_ADMIN)


def test_a_lost_key_file_stops_the_server_instead_of_orphaning_seeds(
    app: App, config: Config
) -> None:
    storage = config.storage.model_copy(update={"secret_key": None})
    file_keyed = config.model_copy(update={"storage": storage})
    with_file = build(file_keyed)
    with_file.admin.create_user(OPERATOR, "default", NewUser("frank"))
    builders.token(with_file, "frank")
    with_file.close()
    file_keyed.storage.key_file.unlink()
    with pytest.raises(SecretKeyError, match="restore"):
        build(file_keyed)
