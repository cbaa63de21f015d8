"""user names: a lookup key per user, unique in the tenant

``users.name_key`` holds ``twostep.domain.names.name_key(name)`` (NFKC_Casefold), so "Alice",
"ALICE" and a full-width "alice" are one user. Existing names keep their display form; if
two users of a tenant share a key, the upgrade stops before changing anything and names them.

The unique (tenant_id, name) constraint stays: the key's uniqueness implies it, and on
SQLite it could only go by rebuilding ``users``, whose DROP inside the migration's
transaction (foreign keys cannot be turned off there) would cascade-delete every method.

Revision ID: 0006_user_names
Revises: 0005_devices
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from twostep.domain.errors import Conflict
from twostep.domain.names import name_key

revision = "0006_user_names"
down_revision = "0005_devices"
branch_labels = None
depends_on = None

KEY_LENGTH = 512
_SHOWN = 20  # collision groups listed in the message; the rest are counted


def upgrade() -> None:
    conn = op.get_bind()
    found = conn.execute(
        sa.text(
            "SELECT users.id, users.name, tenants.name FROM users "
            "JOIN tenants ON tenants.id = users.tenant_id ORDER BY users.id"
        )
    )
    rows = [(int(user_id), str(name), str(tenant)) for user_id, name, tenant in found]
    keys = {user_id: name_key(name) for user_id, name, _tenant in rows}
    _refuse_collisions(rows, keys)  # before any change: a refusal leaves the schema as it was

    # Added NOT NULL with a default, filled, and (on PostgreSQL) the default dropped: SQLite
    # cannot make an existing column NOT NULL without rebuilding the table.
    op.add_column(
        "users",
        sa.Column("name_key", sa.String(length=KEY_LENGTH), nullable=False, server_default=""),
    )
    if keys:
        conn.execute(
            sa.text("UPDATE users SET name_key = :key WHERE id = :id"),
            [{"id": user_id, "key": key} for user_id, key in keys.items()],
        )
    if conn.dialect.name != "sqlite":
        op.alter_column("users", "name_key", server_default=None)
    op.create_index("ix_users_tenant_id_name_key", "users", ["tenant_id", "name_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_tenant_id_name_key", table_name="users")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN name_key")  # natively: no table rebuild
    else:
        op.drop_column("users", "name_key")


def _refuse_collisions(rows: list[tuple[int, str, str]], keys: dict[int, str]) -> None:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    too_long: list[str] = []
    for user_id, name, tenant in rows:
        groups[tenant, keys[user_id]].append(f"{name!r} (id {user_id})")
        if len(keys[user_id]) > KEY_LENGTH:
            too_long.append(f"tenant {tenant!r}: {name!r} (id {user_id})")
    clashes = [
        f"tenant {tenant!r}: {', '.join(names)}"
        for (tenant, _key), names in groups.items()
        if len(names) > 1
    ]
    if not clashes and not too_long:
        return
    problems = []
    if clashes:
        more = len(clashes) - _SHOWN
        problems.append(
            "these users' names differ only in case, width or Unicode normalisation, and "
            "from this version on they would be one user: "
            + "; ".join(clashes[:_SHOWN])
            + (f"; and {more} more group(s)" if more > 0 else "")
        )
    if too_long:
        problems.append(
            f"these users' names are longer than {KEY_LENGTH} characters once folded: "
            + "; ".join(too_long[:_SHOWN])
        )
    raise Conflict(
        "cannot upgrade the database to 0006_user_names: "
        + ". ".join(problems)
        + ". Nothing was changed. With the version that runs now, delete all but one user of "
        "each group (`twostep users delete NAME --tenant TENANT`, or DELETE "
        "/v1/tenants/TENANT/users/NAME), or rename the others in the database (column "
        "`name` of table `users`, by the ids shown), then upgrade again."
    )
