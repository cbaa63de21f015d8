"""The admin event: the record of one change made by an admin (or a refusal of one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OK = "ok"  # the result of a change that was made; otherwise the error code that refused it

# Every action the admin trail records: a stable dotted name (the HTTP route's name and
# the CLI command's action are the same word), with what it records. The operator guide
# lists them all (tested); a new change adds its action here.
ACTIONS: Mapping[str, str] = {
    "tenant.create": "a tenant was created (its name and the settings it was given)",
    "settings.update": "a tenant's settings changed: each changed setting, before and after",
    "user.create": "a user was created (the fields given)",
    "user.update": "a user's fields changed, before and after",
    "user.delete": "a user was deleted, with their methods",
    "user.unlock": "a locked user was unlocked",
    "user.disable": "a user was disabled: every sign-in is refused",
    "user.enable": "a disabled user was enabled",
    "user.require_registration": "a user must register again (methods and devices removed)",
    "user.bypass": "a user was granted a one-time bypass: its end (bypass_until) and seconds",
    "user.bypass_cancel": "a user's open one-time bypass was cancelled",
    "remembered_device.revoke": "a user's remembered browsers were revoked (one, named "
    "user/id, or all): the count",
    "voice_prompt.upload": "a tenant's recording of a call prompt in a language was uploaded "
    "(its type, seconds and size; never the audio)",
    "voice_prompt.delete": "a tenant's recording of a call prompt was deleted",
    "password.set": "a user's local password was set (recorded as ***, never the password)",
    "password.clear": "a user's local password was removed",
    "app_password.create": "an app password was created for a user (never the password)",
    "app_password.delete": "one of a user's app passwords was deleted",
    "app_password.delete_all": "every app password of a user was deleted",
    "method.enroll": "a method was registered for a user (kind, label, masked number)",
    "method.confirm": "a pending method was activated with a code",
    "method.delete": "a method was deleted",
    "method.default": "a user's default method changed",
    "method.resync": "a drifted code method was resynchronised (counter or drift)",
    "device.activation": "a mobile authenticator activation was started (or a replacement)",
    "device.rename": "an activated device was renamed",
    "device.deactivate": "an activated device was deactivated: it answers nothing more",
    "token.import": "hardware tokens were imported: counts only",
    "migration.mfa_server": "users, phones and tokens were migrated from Azure MFA Server: "
    "counts only (created, merged, unchanged, skipped, methods added, to register again)",
    "token.assign": "a pooled token was assigned to a user",
    "token.unassign": "a token went back to the pool",
    "token.lost": "a token was marked lost",
    "token.delete": "a token was deleted",
    "token.resync": "a token was resynchronised",
    "token.export": "every token's seed was exported (an encrypted PSKC file): the count",
    "integration.create": "an integration was created (its key id, never the key)",
    "integration.update": "an integration changed (legacy, trusted_client_addresses)",
    "integration.revoke": "an integration was revoked: its key stops working",
    "integration.signin_urls": "an integration's hosted sign-in return URLs changed",
    "integration.signin_secret": "an integration's hosted sign-in signing secret was issued "
    "or rotated (recorded as ***, never the secret)",
    "admin_key.create": "an admin API key was created (its key id, role, tenant)",
    "admin_key.revoke": "an admin API key was revoked",
    "admin_grant.create": "a user was granted a role for the management portal (role, scope)",
    "admin_grant.revoke": "a user's role for the management portal was revoked (their page "
    "sessions end)",
    "sessions.revoke": "a user was signed out of every page: the count of sessions ended",
    "enrollment_link.create": "an enrollment link was made for a user (its id and expiry, "
    "never the link); their older open links are revoked",
    "enrollment_link.revoke": "a user's open enrollment links were revoked: the count",
    "enrollment_link.use": "a user spent their enrollment link to register (actor self)",
    "signin.report": 'a user reported one of their sign-ins as "not me" (actor self; '
    "whether it locked them)",
    "secret_key.rotate": "every stored secret was re-encrypted under a new key: the count",
    "database.backup": "a backup of the SQLite database was written (the file, the revision)",
    "database.restore": "the database was restored from a backup (recorded in the restored "
    "database: the file, its revision and the one it was upgraded to, the secrets opened)",
    "gateway.add": "a gateway was added (settings; credentials recorded as ***)",
    "gateway.delete": "a gateway was deleted",
    "radius_client.create": "a RADIUS client was added (its shared secret recorded as ***)",
    "radius_client.update": "a RADIUS client's options changed, before and after (its "
    "upstream servers' secrets recorded as ***)",
    "radius_client.delete": "a RADIUS client was deleted",
    "directory.add": "a directory (LDAP, Active Directory) was added (bind password as ***)",
    "directory.update": "a directory's settings changed, before and after",
    "directory.delete": "a directory was deleted (its users stay)",
    "directory.test": "a directory's connection was tested (recorded when refused only)",
    "directory.sync": "a directory sync ran (by an admin, or scheduled): what it changed",
    "provider.create": "a provider was created (name, billing model, tenant, zone; for a "
    "replacement, the integrations left to activate and the devices revoked)",
    "provider.update": "a provider was renamed",
    "provider.delete": "a provider was deleted (its months can still be stated)",
    "licenses.update": "the number of licenses a tenant holds changed, before and after",
    "license.assign": "a license was assigned to a user",
    "license.unassign": "a user's license was taken back",
    "integration.activation": "activation credentials were made for an integration (recorded "
    "as ***, never the code or password)",
    "integration.activate": "an integration exchanged its activation credentials for a new "
    "key (actor: the integration; its new key id, never the key)",
}


@dataclass(frozen=True, slots=True)
class AdminEvent:
    event_id: str
    at: float  # epoch seconds
    actor: str  # the admin API key's id, or "operator" (the CLI)
    action: str  # what was done: user.create, settings.update, directory.sync, ...
    result: str  # OK, or the stable error code that refused it
    interface: str  # http, cli, sync (a scheduled directory sync)
    server_name: str  # the Twostep node that did it
    tenant: str | None = None  # None: a global change (a tenant admin never sees these)
    actor_name: str | None = None
    role: str | None = None
    source: str | None = None  # the client's address, or "cli" ("cli:root")
    target: str | None = None  # what it was done to: "alice", "alice/sms-1", a gateway's name
    # What changed, field by field: {"field": [before, after]}. Never a secret: a secret
    # field is recorded as changed ("***"), never its value.
    changes: Mapping[str, Any] = field(default_factory=dict)
    seq: int | None = None  # store-assigned, for cursor paging


@dataclass(frozen=True, slots=True)
class AdminEventQuery:
    tenant_id: int | None  # None with ``every_tenant``: every event, global ones too
    every_tenant: bool = False
    action: str | None = None  # exact, or a prefix ending in "." ("user.")
    actor: str | None = None
    target: str | None = None
    since: float | None = None
    until: float | None = None
    after_seq: int | None = None
    limit: int = 100
    newest_first: bool = False  # the last ``limit`` events, newest first
