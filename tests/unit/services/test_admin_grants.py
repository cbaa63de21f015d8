"""Admin grants: who may grant which role over which tenant, the admin trail, and a
revoked grant ending the user's page sessions."""

from __future__ import annotations

import pytest

from tests.support import builders
from twostep.bootstrap import App
from twostep.domain.entities import AdminKey, Role
from twostep.domain.errors import (
    AdminGrantExists,
    AdminGrantNotFound,
    Forbidden,
    InvalidInput,
    TenantNotFound,
)
from twostep.domain.pages import Stage
from twostep.services.admin import OPERATOR
from twostep.services.admin_grants import pick

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def acme_admin(app: App) -> AdminKey:
    app.admin.create_tenant(OPERATOR, "acme")
    builders.user(app, "alice", tenant="acme")
    builders.user(app, "bob")
    key, _secret = app.admin.create_admin_key(OPERATOR, "acme-ops", Role.TENANT_ADMIN, "acme")
    return key


def test_a_grant_is_listed_and_recorded(app: App) -> None:
    builders.user(app, "alice")
    grant = app.admin_grants.grant(OPERATOR, "default", "alice", Role.HELP_DESK)
    assert (grant.tenant, grant.user, grant.role, grant.scope) == (
        "default",
        "alice",
        Role.HELP_DESK,
        "default",
    )
    assert app.admin_grants.list(OPERATOR) == [grant]
    [event] = app.admin_events.query(OPERATOR, "default", action="admin_grant.create")
    assert event.target == "default/alice"
    assert event.changes["role"] == [None, "help_desk"]


def test_the_same_role_twice_is_refused(app: App) -> None:
    builders.user(app, "alice")
    app.admin_grants.grant(OPERATOR, "default", "alice", Role.TENANT_ADMIN)
    with pytest.raises(AdminGrantExists):
        app.admin_grants.grant(OPERATOR, "default", "alice", Role.TENANT_ADMIN)


def test_a_global_admin_has_no_scope(app: App) -> None:
    builders.user(app, "alice")
    with pytest.raises(InvalidInput):
        app.admin_grants.grant(OPERATOR, "default", "alice", Role.GLOBAL_ADMIN, "default")
    grant = app.admin_grants.grant(OPERATOR, "default", "alice", Role.GLOBAL_ADMIN)
    assert grant.scope is None and grant.scope_tenant_id is None


def test_a_tenant_admin_grants_in_its_own_tenant_only(app: App, acme_admin: AdminKey) -> None:
    grant = app.admin_grants.grant(acme_admin, "acme", "alice", Role.HELP_DESK)
    assert grant.scope == "acme"
    with pytest.raises(TenantNotFound):
        app.admin_grants.grant(acme_admin, "default", "bob", Role.HELP_DESK)
    with pytest.raises(TenantNotFound):  # a role over another tenant
        app.admin_grants.grant(acme_admin, "acme", "alice", Role.TENANT_ADMIN, "default")
    with pytest.raises(Forbidden):
        app.admin_grants.grant(acme_admin, "acme", "alice", Role.GLOBAL_ADMIN)


def test_a_tenant_admin_sees_and_revokes_its_tenants_grants_only(
    app: App, acme_admin: AdminKey
) -> None:
    theirs = app.admin_grants.grant(OPERATOR, "default", "bob", Role.TENANT_ADMIN)
    ours = app.admin_grants.grant(acme_admin, "acme", "alice", Role.HELP_DESK)
    assert app.admin_grants.list(acme_admin) == [ours]
    with pytest.raises(AdminGrantNotFound):
        app.admin_grants.revoke(acme_admin, theirs.id)
    app.admin_grants.revoke(acme_admin, ours.id)
    assert app.admin_grants.list(OPERATOR) == [theirs]


def test_a_help_desk_actor_may_not_grant(app: App) -> None:
    builders.user(app, "alice")
    help_desk = AdminKey(0, "user:1", "desk", Role.HELP_DESK, 1, 0.0)
    with pytest.raises(Forbidden):
        app.admin_grants.grant(help_desk, "default", "alice", Role.HELP_DESK)


def test_revoking_a_grant_ends_the_users_page_sessions(app: App) -> None:
    builders.user(app, "alice")
    grant = app.admin_grants.grant(OPERATOR, "default", "alice", Role.TENANT_ADMIN)
    token = app.page_sessions.open(grant.tenant_id, grant.user_id, Stage.SIGNED_IN, role=grant.role)
    assert app.page_sessions.find(token) is not None
    app.admin_grants.revoke(OPERATOR, grant.id)
    assert app.page_sessions.find(token) is None
    [event] = app.admin_events.query(OPERATOR, "default", action="admin_grant.revoke")
    assert event.changes["sessions_ended"] == [None, 1]


def test_deleting_the_user_deletes_the_grant(app: App) -> None:
    builders.user(app, "alice")
    app.admin_grants.grant(OPERATOR, "default", "alice", Role.TENANT_ADMIN)
    app.admin.delete_user(OPERATOR, "default", "alice")
    assert app.admin_grants.list(OPERATOR) == []


def test_no_grant_picks_nothing() -> None:
    assert pick([]) is None


def test_the_widest_of_several_grants_is_picked(app: App) -> None:
    builders.user(app, "alice")
    app.admin_grants.grant(OPERATOR, "default", "alice", Role.HELP_DESK)
    app.admin_grants.grant(OPERATOR, "default", "alice", Role.TENANT_ADMIN)
    user = app.admin.get_user(OPERATOR, "default", "alice")
    chosen = pick(app.admin_grants.of_user(user.id))
    assert chosen is not None and chosen.role is Role.TENANT_ADMIN
