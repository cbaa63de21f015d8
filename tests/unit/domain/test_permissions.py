"""What each role may do: one table (domain/permissions.py)."""

from __future__ import annotations

import pytest

from twostep.domain.entities import Role
from twostep.domain.permissions import PERMISSIONS, Permission, allows


def test_every_role_has_a_row() -> None:
    assert set(PERMISSIONS) == set(Role)


def test_a_global_admin_may_do_everything() -> None:
    assert all(allows(Role.GLOBAL_ADMIN, p) for p in Permission)


@pytest.mark.parametrize("permission", [Permission.KEYS_WRITE, Permission.TENANTS_WRITE])
def test_a_tenant_admin_may_not_touch_keys_or_tenants(permission: Permission) -> None:
    assert not allows(Role.TENANT_ADMIN, permission)
    assert allows(Role.TENANT_ADMIN, Permission.SETTINGS_WRITE)


def test_the_help_desk_finds_users_unlocks_and_asks_for_re_registration_only() -> None:
    may = {p for p in Permission if allows(Role.HELP_DESK, p)}
    assert {
        Permission.USERS_READ,
        Permission.USERS_UNLOCK,
        Permission.USERS_REREGISTER,
        Permission.USERS_BYPASS,  # MFA Server's help desk granted one-time bypasses
        Permission.APP_PASSWORDS_DELETE,
        Permission.REPORTS_READ,
    } <= may
    for refused in (
        Permission.SETTINGS_READ,
        Permission.SETTINGS_WRITE,
        Permission.KEYS_WRITE,
        Permission.INTEGRATIONS_WRITE,
        Permission.GATEWAYS_WRITE,
        Permission.TOKENS_WRITE,
        Permission.METHODS_WRITE,
        Permission.USERS_WRITE,
        Permission.ADMINS_WRITE,
        Permission.BILLING_READ,
    ):
        assert refused not in may, refused


def test_no_role_may_do_nothing() -> None:
    assert not any(allows(None, p) for p in Permission)
