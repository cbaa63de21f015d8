"""What each role may do: one table, one function. Every page and every action of the
management portal asks ``allows`` before it calls a service (the services still check the
tenant: a tenant admin reaches only its own).

A permission is ``<thing>.<verb>``. Add a permission here when a page needs one, and give it
to the roles that should have it; nothing else decides.
"""

from __future__ import annotations

from enum import StrEnum

from twostep.domain.entities import Role


class Permission(StrEnum):
    DASHBOARD_READ = "dashboard.read"
    USERS_READ = "users.read"  # find users, see their methods, devices, app passwords
    USERS_WRITE = "users.write"  # create, change, delete, enable, enforce, disable
    USERS_UNLOCK = "users.unlock"
    USERS_REREGISTER = "users.reregister"  # require re-registration
    USERS_BYPASS = "users.bypass"  # grant or cancel a one-time bypass (MFA Server's)
    METHODS_WRITE = "methods.write"  # enroll, delete, assign tokens
    APP_PASSWORDS_DELETE = "app_passwords.delete"
    SESSIONS_REVOKE = "sessions.revoke"  # sign a user out of the pages
    TOKENS_WRITE = "tokens.write"  # the token pool and its imports
    INTEGRATIONS_WRITE = "integrations.write"  # integrations and RADIUS clients
    GATEWAYS_WRITE = "gateways.write"
    SETTINGS_READ = "settings.read"
    SETTINGS_WRITE = "settings.write"
    AUDIT_READ = "audit.read"  # sign-in audit and the admin trail
    REPORTS_READ = "reports.read"  # usage charts (the counts the audit and dashboard show)
    BILLING_READ = "billing.read"  # providers' statements
    ADMINS_WRITE = "admins.write"  # grant and revoke roles
    KEYS_WRITE = "keys.write"  # admin API keys, the secret key
    TENANTS_WRITE = "tenants.write"  # create tenants


_HELP_DESK = frozenset(
    {
        Permission.DASHBOARD_READ,
        Permission.USERS_READ,
        Permission.USERS_UNLOCK,
        Permission.USERS_REREGISTER,
        Permission.USERS_BYPASS,
        Permission.APP_PASSWORDS_DELETE,
        Permission.SESSIONS_REVOKE,
        Permission.AUDIT_READ,
        # The usage charts count what the help desk reads event by event in the audit
        # (a spike of failed deliveries is theirs to notice); statements are billing, not
        # support: no BILLING_READ (the providers service refuses them too).
        Permission.REPORTS_READ,
    }
)
# Everything inside its tenant; no tenants and no admin API keys or secret key.
_TENANT_ADMIN = frozenset(Permission) - {Permission.KEYS_WRITE, Permission.TENANTS_WRITE}

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.GLOBAL_ADMIN: frozenset(Permission),
    Role.TENANT_ADMIN: _TENANT_ADMIN,
    Role.HELP_DESK: _HELP_DESK,
}


def allows(role: Role | None, permission: Permission) -> bool:
    """Whether ``role`` may do ``permission`` (None: no role, nothing)."""
    return role is not None and permission in PERMISSIONS[role]
