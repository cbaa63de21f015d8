"""The schema, in SQLAlchemy Core. Migrations in ``migrations/versions`` create it;
this module is what the repositories query (and what a new migration is diffed against).

Times are epoch seconds (float): one representation on SQLite and PostgreSQL,
cheap to compare in conditional updates.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

tenants = Table(
    "tenants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("settings", Text, nullable=False),  # JSON of TenantSettings
    Column("created_at", Float, nullable=False),
)

# LDAP directories (Active Directory or another) users are taken from, per tenant.
directories = Table(
    "directories",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("settings", Text, nullable=False),  # JSON of DirectorySpec, without the password
    Column("secrets", LargeBinary),  # the bind password, sealed to "directory:<id>"
    Column("position", Integer, nullable=False),  # which directory a user is looked up in first
    Column("created_at", Float, nullable=False),
    # Where the next incremental sync starts: the highest uSNChanged or modifyTimestamp seen.
    Column("sync_cursor", String(64)),
    Column("synced_at", Float),  # the last sync that finished
    Column("sync_progress", Text),  # JSON: the running or last sync's counts
    UniqueConstraint("tenant_id", "name"),
)

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(256), nullable=False),  # as created (display form, NFC)
    # domain.names.name_key(name): what every lookup by name compares, unique per tenant.
    Column("name_key", String(512), nullable=False),
    Column("first_name", String(128)),
    Column("last_name", String(128)),
    Column("email", String(320)),
    Column("phone", String(32)),
    Column("mfa", String(16), nullable=False),
    Column("default_method_id", String(32)),
    Column("failed_count", Integer, nullable=False, server_default="0"),
    Column("locked_until", Float),
    Column("created_at", Float, nullable=False),
    Column("language", String(16)),  # BCP 47, for texts and calls; None: the tenant's
    Column("password_hash", String(255)),  # argon2id: a local primary password (RADIUS)
    # Users taken from a directory: which one, the entry's stable id (entryUUID, objectGUID)
    # and its DN (what a password bind binds as). Null for users made by hand. No foreign
    # key: SQLite adds one only by rebuilding ``users``; deleting a directory clears these.
    Column("directory_id", String(32)),
    Column("external_id", String(128)),
    Column("dn", String(1024)),
    Column("groups", Text),  # JSON list of group names, from the directory (or an admin)
    Column("disabled_at", Float),  # set: every sign-in answers user_disabled
    Column("disabled_reason", String(32)),  # directory_removed, directory_disabled, admin
    Column("registration_required_at", Float),  # an admin asked for re-registration
    # A one-time bypass granted until then (0017): the one sign-in that clears it, in a
    # conditional update, is accepted without a second factor.
    Column("bypass_until", Float),
    # Implied by the key's uniqueness (equal names have equal keys), and kept: SQLite can
    # only drop it by rebuilding ``users``, which would cascade-delete every method.
    UniqueConstraint("tenant_id", "name"),
    Index(None, "tenant_id", "name_key", unique=True),
    Index(None, "directory_id", "external_id", unique=True),
    # The dashboard's "locked now", per tenant and over all of them, without a scan (0013).
    Index(None, "tenant_id", "locked_until"),
    Index(None, "locked_until"),
)

methods = Table(
    "methods",
    metadata,
    Column("id", String(32), primary_key=True),
    # Null for a hardware token in the tenant's pool, not yet assigned to anyone.
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("label", String(128)),
    Column("serial", String(64)),
    Column("otp_type", String(8)),
    Column("algorithm", String(8)),
    Column("digits", Integer),
    Column("period", Integer),
    Column("seed", LargeBinary),  # sealed with AES-256-GCM, bound to the method id
    Column("counter", BigInteger, nullable=False, server_default="0"),
    Column("last_step", BigInteger, nullable=False, server_default="-1"),
    Column("drift", Integer, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
    Column("confirmed_at", Float),
    Column("manufacturer", String(64)),  # hardware tokens, from the vendor's file
    Column("model", String(64)),
    Column("valid_from", Float),
    Column("valid_until", Float),
    Column("phone", String(32)),  # E.164, the phone methods' own number
    Column("extension", String(16)),  # the phone's extension, dialled once answered (0020)
    Column("email", String(320)),  # the email method's address
    Column("pin", LargeBinary),  # a voice method's PIN, sealed like a seed
    Column("device_id", String(32)),  # app_push and app_code methods of an activated device
    UniqueConstraint("tenant_id", "serial"),
    Index(None, "user_id"),
)

integrations = Table(
    "integrations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("key_hash", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
    # A legacy client (IMAP, an old VPN) sends a password and nothing else: it may use an
    # app password in place of password + second factor.
    Column("legacy", Boolean, nullable=False, server_default="0"),
    # Set when a provider replacement left the integration to activate again (0015): its
    # calls answer integration_not_activated until it exchanges activation credentials.
    Column("pending_since", Float),
    # The client addresses it sends are ones it vouches for (0017): only these may meet
    # the tenant's trusted networks.
    Column("trusted_client_addresses", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("tenant_id", "name"),
)

admin_keys = Table(
    "admin_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("key_hash", LargeBinary, nullable=False),
    Column("name", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE")),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigId, primary_key=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("tenant_id", Integer, nullable=False),  # no FK: the record outlives its subject
    Column("tenant", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("user_name", String(256), nullable=False),
    Column("first_name", String(128)),
    Column("last_name", String(128)),
    Column("email", String(320)),
    Column("phone", String(32)),
    Column("device", String(64)),
    Column("method", String(16)),
    Column("result", String(16), nullable=False),
    Column("reason", String(48)),
    Column("integration", String(128)),
    Column("interface", String(16), nullable=False),
    Column("server_name", String(255), nullable=False),
    Column("server_ip", String(45)),
    Column("client_ip", String(45)),
    Column("detail", String(255)),  # why, when a reason needs more (a gateway's error)
    Column("request_id", String(128)),  # X-Request-ID, or the RADIUS request's (0010)
    Index(None, "tenant_id", "seq"),
    Index(None, "tenant_id", "user_name", "seq"),
    Index(None, "tenant_id", "at"),
)

challenges = Table(
    "challenges",
    metadata,
    Column("id", String(48), primary_key=True),  # the transaction id: 192 random bits
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("method_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),  # pending, accepted, rejected
    Column("reason", String(48)),
    Column("code_hash", LargeBinary),  # keyed digest of the code sent; never the code
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("destination", String(320)),  # E.164 (or an address) the challenge went to
    Column("integration", String(128)),
    Column("client_ip", String(45)),
    Column("interface", String(16), nullable=False),
    Column("sends", Integer, nullable=False, server_default="1"),
    Column("last_sent_at", Float, nullable=False),
    Column("gateway", String(64)),
    Column("device_id", String(32)),  # app_push: the device asked
    Column("number", Integer),  # app_push: the number the sign-in page shows
    Column("nonce", String(32)),  # app_push: what the device's signed answer must carry
    Column("message", String(255)),  # app_push: the tenant's text shown on the device
    Column("reported_at", Float),  # a fraud report was recorded (once, even after a decision)
    Column("state_used_at", Float),  # a RADIUS request carried this State (single use)
    Index(None, "tenant_id", "destination", "state"),
    Index(None, "user_id", "state"),
    Index(None, "expires_at"),
    Index(None, "device_id", "state"),
)

gateways = Table(
    "gateways",
    metadata,
    Column("id", String(32), primary_key=True),  # also the webhook path: /v1/gateways/{id}
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("position", Integer, nullable=False),  # failover order, lowest first
    Column("settings", Text, nullable=False),  # JSON, without the credentials
    Column("secrets", LargeBinary),  # JSON of the credentials, sealed to the gateway id
    Column("created_at", Float, nullable=False),
    UniqueConstraint("tenant_id", "name"),
)

# Texts and calls sent, for the sliding-window abuse limits (any node counts them all).
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("tenant_id", Integer, nullable=False),
    Column("user_id", BigId, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("at", Float, nullable=False),
    Index(None, "user_id", "at"),
    Index(None, "tenant_id", "at"),
)

# RADIUS clients (NASes): each is also an integration, which names it in the audit log.
radius_clients = Table(
    "radius_clients",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column(
        "integration_id",
        Integer,
        ForeignKey("integrations.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("name", String(128), nullable=False),
    Column("network", String(64), nullable=False),  # an address or CIDR, normalised
    Column("secret", LargeBinary, nullable=False),  # sealed, bound to "radius_client:<id>"
    Column("mode", String(24), nullable=False),
    Column("require_message_authenticator", Boolean, nullable=False),
    Column("limit_proxy_state", Boolean, nullable=False),
    Column("push_wait_seconds", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    # MFA Server's options (0019): require user match, OATH fallback, the primary's checker.
    Column("require_user_match", Boolean, nullable=False, server_default="1"),
    Column("oath_fallback", Boolean, nullable=False, server_default="0"),
    Column("primary_auth", String(16), nullable=False, server_default="none"),
    UniqueConstraint("tenant_id", "name"),
)

# A RADIUS client's upstream servers for its primary passwords, in order (0019).
radius_upstreams = Table(
    "radius_upstreams",
    metadata,
    Column(
        "client_id",
        String(32),
        ForeignKey("radius_clients.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("address", String(64), nullable=False),
    Column("port", Integer, nullable=False),
    Column("timeout", Float, nullable=False),
    Column("secret", LargeBinary, nullable=False),  # sealed, bound to the client and position
)

# Activated authenticator apps. The private key never leaves the device.
devices = Table(
    "devices",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("platform", String(32)),
    Column("key_type", String(8), nullable=False),  # ed25519 or p256
    Column("public_key", LargeBinary, nullable=False),
    Column("push_kind", String(16), nullable=False),  # pull, webpush, ntfy, fcm
    Column("push_channel", LargeBinary),  # JSON, sealed to the device id
    Column("state", String(16), nullable=False),  # active, revoked
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float),
    Column("revoked_at", Float),
    Column("revoked_reason", String(32)),
    Index(None, "user_id"),
)

# Single-use activation codes, stored as keyed digests.
activations = Table(
    "activations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", LargeBinary, nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Column("replaces", String(32)),  # a device this activation replaces (a new phone)
)

# App passwords: long random passwords for legacy clients, stored as hashes only.
app_passwords = Table(
    "app_passwords",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("digest", LargeBinary, nullable=False),  # argon2id hash (services/app_passwords.py)
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float),
    UniqueConstraint("user_id", "name"),
)

# The admin trail: one event per change made through the admin API or the CLI.
admin_events = Table(
    "admin_events",
    metadata,
    Column("seq", BigId, primary_key=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("tenant_id", Integer),  # no FK: the record outlives its tenant; null: global
    Column("tenant", String(64)),
    Column("at", Float, nullable=False),
    Column("actor", String(64), nullable=False),  # an API key's id, or "operator" (the CLI)
    Column("actor_name", String(128)),
    Column("role", String(32)),
    Column("source", String(64)),  # the client address, or "cli"
    Column("interface", String(16), nullable=False),  # http, cli, sync
    Column("action", String(48), nullable=False),  # user.create, settings.update, ...
    Column("target", String(512)),
    Column("result", String(48), nullable=False),  # ok, or the error code that refused it
    Column("changes", Text),  # JSON: {"field": [before, after]}, never a secret
    Column("server_name", String(255), nullable=False),
    Index(None, "tenant_id", "seq"),
    Index(None, "at"),
)

# Leases: work one node at a time does (the directory sync), held until expires_at.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
)

# Hosted sign-in (/signin): an integration's signing secret and the return URLs it may name.
signin_settings = Table(
    "signin_settings",
    metadata,
    Column(
        "integration_id",
        Integer,
        ForeignKey("integrations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("secret", LargeBinary),  # sealed, bound to "signin:<integration id>"; null: none yet
    Column("secret_issued_at", Float),
    Column("return_urls", Text, nullable=False, server_default="[]"),  # JSON list, normalised
    Column("updated_at", Float, nullable=False),
)

# The jti of each hosted sign-in request started and each result issued: a request starts
# one sign-in, a result is redeemed once (redeemed_at set by a conditional update).
signin_tokens = Table(
    "signin_tokens",
    metadata,
    Column(
        "integration_id",
        Integer,
        ForeignKey("integrations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(8), primary_key=True),  # request, result
    Column("jti", String(128), primary_key=True),
    Column("expires_at", Float, nullable=False),
    Column("redeemed_at", Float),
    Index(None, "expires_at"),
)

# Admin grants: users who may sign in to the management portal, their role, and the
# tenant it covers (null for global_admin). ``tenant_id`` is the user's own tenant (0012).
admin_grants = Table(
    "admin_grants",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("scope_tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE")),
    Column("created_at", Float, nullable=False),
    Index(None, "user_id"),
)

# Page sessions, server-side: ``id`` is the SHA-256 (hex) of the cookie's random token. A
# ``second_factor`` session holds a sign-in between its password and its second factor
# (``data``: JSON); a ``signed_in`` one is a person at the pages (0012).
page_sessions = Table(
    "page_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("role", String(32)),  # the admin grant's role at sign-in (null: no grant)
    Column("scope_tenant_id", Integer),  # the grant's tenant (null: global, or no grant)
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("idle_seconds", Integer, nullable=False),  # the tenant's setting at sign-in
    Column("expires_at", Float, nullable=False),  # absolute
    Column("revoked_at", Float),
    Column("client_ip", String(45)),
    Column("data", Text),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)

# Usage rollups (0013): audit events counted per tenant, UTC day (epoch seconds // 86400)
# and what the reports group by; "" stands for a null. Kept by services/rollups.py, which
# adds the events after ``rollup_state.last_seq`` in one transaction with the new position.
audit_rollups = Table(
    "audit_rollups",
    metadata,
    Column("tenant_id", Integer, primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("integration", String(128), primary_key=True),
    Column("interface", String(16), primary_key=True),
    Column("method", String(16), primary_key=True),
    Column("result", String(16), primary_key=True),
    Column("reason", String(48), primary_key=True),
    Column("events", BigInteger, nullable=False),
    # Covering, in the reports page's order (0022): its figures grouped by day, result,
    # method and reason stream through the index, a tenant's or (a global admin's) every
    # tenant's, instead of every rollup row being sorted.
    Index(None, "tenant_id", "day", "result", "method", "reason", "events"),
    Index(None, "day", "result", "method", "reason", "events"),
)

# Where each rollup stands: every audit event with seq <= last_seq is counted, but for the
# seqs in rollup_gaps. ``version`` grows by one per round: the round's conditional update.
rollup_state = Table(
    "rollup_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Texts, calls and emails by tenant, UTC day, kind and destination country (0016): added to
# in the transaction that records each delivery's outcome. ``country`` is ISO 3166 alpha-2
# from the E.164 destination ("ZZ": unknown, an email); ``segments``: SMS parts charged.
delivery_rollups = Table(
    "delivery_rollups",
    metadata,
    Column("tenant_id", Integer, primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("country", String(2), primary_key=True),
    Column("sent", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),
    Column("segments", BigInteger, nullable=False),
    Index(None, "day"),
)

# Seqs at or below last_seq that were not visible when the job passed them: a PostgreSQL
# transaction that took its seq and had not committed yet, or one that rolled back.
rollup_gaps = Table(
    "rollup_gaps",
    metadata,
    Column("seq", BigInteger, primary_key=True),
    Column("seen_at", Float, nullable=False),
)

# One-time enrollment links (0014): an admin sends one to a user with no method yet, who
# registers a first method with it. The link's token is shown once; only its SHA-256 (hex)
# is kept. Used once (``used_at``, one conditional update), revoked by a newer link or
# when the user registered otherwise, or past ``expires_at``.
enrollment_links = Table(
    "enrollment_links",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Column("revoked_at", Float),
    Column("created_by", String(64), nullable=False),  # the admin's key id ("operator": CLI)
    Index(None, "user_id"),
)

# Sign-ins a user reported as "not me" at the self-service portal (0014): one row per
# audit event, so a report is recorded (and alerted) once however often it is sent.
signin_reports = Table(
    "signin_reports",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("reported_at", Float, nullable=False),
    Column("client_ip", String(45)),  # where the report came from
    Index(None, "tenant_id", "reported_at"),
)

# Providers and billing (0015): docs/operator-guide.md, "Providers and billing".
# A provider is a billing account; its billing model never changes. Deleted providers keep
# their row (``deleted_at``) so their months can still be stated. At most one live provider
# per tenant: enforced by the service under the tenant's row lock (a partial unique index
# is not portable to every SQLite the project runs on).
providers = Table(
    "providers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("billing_model", String(24), nullable=False),  # per_user, per_authentication
    Column("tenant_id", Integer),  # no FK: the record outlives its tenant
    Column("time_zone", String(64), nullable=False),  # IANA name; billing months are its
    Column("created_at", Float, nullable=False),
    Column("deleted_at", Float),
    Index(None, "tenant_id"),
)

# Activation credentials of an integration (0015): the code and the one-time password are
# kept as keyed digests; used once (``used_at``, one conditional update) within 10 minutes.
integration_activations = Table(
    "integration_activations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column(
        "integration_id",
        Integer,
        ForeignKey("integrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("provider_id", String(32), nullable=False),
    Column("code_hash", LargeBinary, nullable=False, unique=True),
    Column("password_hash", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Column("failures", Integer, nullable=False, server_default="0"),
    Index(None, "integration_id"),
)

# Licenses a tenant holds, and which users hold one (0015).
license_pools = Table(
    "license_pools",
    metadata,
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("held", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)
license_assignments = Table(
    "license_assignments",
    metadata,
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("assigned_at", Float, nullable=False),
    Index(None, "tenant_id"),
)

# Per-user billing's history (0015): after every change that may change whether a user is
# billable (created, MFA state, license, deleted), one row with the state from then on,
# written in the change's transaction. No FK: it outlives the user.
billing_user_states = Table(
    "billing_user_states",
    metadata,
    Column("seq", BigId, primary_key=True),
    Column("tenant_id", Integer, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("user_name", String(256), nullable=False),
    Column("at", Float, nullable=False),
    Column("mfa", String(16), nullable=False),  # disabled, enabled, enforced; "" once deleted
    Column("licensed", Boolean, nullable=False),
    Index(None, "tenant_id", "user_id", "at"),
)

# Statements of closed months, frozen when first computed after the month closed (0015).
billing_statements = Table(
    "billing_statements",
    metadata,
    Column("provider_id", String(32), primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM
    Column("body", Text, nullable=False),  # JSON of the statement
    Column("frozen_at", Float, nullable=False),
)

# Browsers a user had remembered after a second factor at a page (0018): ``page`` is
# "signin" (the hosted sign-in page) or "my" (the self-service portal). Only the keyed
# digest of the cookie's secret is kept; a row deleted is a device revoked.
remembered_devices = Table(
    "remembered_devices",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("page", String(16), nullable=False),
    Column("token_hash", LargeBinary, nullable=False),
    Column("label", String(128)),  # the browser, as its User-Agent names it (shortened)
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("last_used_at", Float),
    Index(None, "user_id"),
)

# A tenant's recorded audio for one prompt of a call, in one language (0018), played in
# place of text-to-speech. ``id`` changes with every upload (the signed URL names it).
voice_prompts = Table(
    "voice_prompts",
    metadata,
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("language", String(16), primary_key=True),
    Column("prompt", String(24), primary_key=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("media_type", String(32), nullable=False),  # audio/wav or audio/mpeg
    Column("audio", LargeBinary, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("created_at", Float, nullable=False),
)

# The management portal's token imports (0021): one row per upload, its phase and counts
# saved by the worker that runs it (any worker shows them), its result when it ends. The
# file and its key or password are never stored. ``alive_until`` is the worker's promise
# of its next sign of life: a running job past it shows as interrupted. At most one
# running job per tenant (the partial unique index).
token_import_jobs = Table(
    "token_import_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("state", String(16), nullable=False),  # running, done, refused, failed, interrupted
    Column("phase", String(16), nullable=False),  # reading, checking, storing
    Column("done", Integer, nullable=False),
    Column("total", Integer, nullable=False),  # 0: not known yet
    Column("file_name", String(128), nullable=False),
    Column("started_by", String(128), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("alive_until", Float, nullable=False),
    Column("finished_at", Float),
    Column("result", Text),  # JSON: the summary's counts, the problems, or the error
    Index(None, "tenant_id", "started_at"),
    Index(
        "ix_token_import_jobs_running",
        "tenant_id",
        unique=True,
        sqlite_where=text("state = 'running'"),
        postgresql_where=text("state = 'running'"),
    ),
)
