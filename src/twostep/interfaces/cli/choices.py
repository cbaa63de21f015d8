"""The CLI's fixed words as plain strings, so that ``--help`` imports no domain model (the
settings' pydantic models alone take longer than a help should). A unit test checks each
list against the enum or constant it mirrors."""

from __future__ import annotations

DEFAULT_TENANT = "default"  # services.admin.DEFAULT_TENANT
MFA_STATES = ("disabled", "enabled", "enforced")  # domain.entities.MfaState
# domain.entities.Role: every role a person can be granted (admins grant); an API key's role
# is one of KEY_ROLES (help_desk is for people at the pages, never a key).
GRANT_ROLES = ("global_admin", "tenant_admin", "help_desk")
KEY_ROLES = ("global_admin", "tenant_admin")
# domain.entities.RadiusMode
RADIUS_MODES = ("second_factor", "password_and_code", "challenge", "password_only")
RADIUS_PRIMARIES = ("none", "ldap", "radius")  # domain.entities.RadiusPrimary
MAX_COUNTER = 2**63 - 2**14  # factors.oath_token.MAX_COUNTER
# factors.registry.enrollable(): the kinds an admin enrolls (app_push comes with a device)
METHOD_KINDS = ("app_code", "oath_token", "sms", "sms_reply", "voice", "email")
