"""Directories and the account events of a help desk: LDAP directories users are taken
from (with their sync cursor), users' directory identity, disabled state and re-registration,
legacy integrations, app passwords, the admin trail, and leases (one node syncs at a time).

Revision ID: 0009_directories
Revises: 0008_method_destinations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_directories"
down_revision = "0008_method_destinations"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "directories",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("secrets", sa.LargeBinary(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("sync_cursor", sa.String(length=64), nullable=True),
        sa.Column("synced_at", sa.Float(), nullable=True),
        sa.Column("sync_progress", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_directories_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directories")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_directories_tenant_id_name")),
    )
    # Plain ADD COLUMNs (no rebuild of ``users`` on SQLite, which would cascade-delete every
    # method). ``directory_id`` has no foreign key for the same reason: SQLite can add one
    # only by a rebuild. Deleting a directory clears it in the same transaction instead.
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("directory_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("dn", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("groups", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("disabled_at", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("disabled_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("registration_required_at", sa.Float(), nullable=True))
    op.create_index(
        op.f("ix_users_directory_id_external_id"),
        "users",
        ["directory_id", "external_id"],
        unique=True,
    )
    op.add_column(
        "integrations",
        sa.Column("legacy", sa.Boolean(), server_default="0", nullable=False),
    )
    op.create_table(
        "app_passwords",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_used_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_app_passwords_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_app_passwords_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_passwords")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_app_passwords_user_id_name")),
    )
    op.create_table(
        "admin_events",
        sa.Column("seq", BigId, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=128), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("interface", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("target", sa.String(length=512), nullable=True),
        sa.Column("result", sa.String(length=48), nullable=False),
        sa.Column("changes", sa.Text(), nullable=True),
        sa.Column("server_name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_admin_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_admin_events_event_id")),
    )
    op.create_index(op.f("ix_admin_events_tenant_id_seq"), "admin_events", ["tenant_id", "seq"])
    op.create_index(op.f("ix_admin_events_at"), "admin_events", ["at"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index(op.f("ix_admin_events_at"), table_name="admin_events")
    op.drop_index(op.f("ix_admin_events_tenant_id_seq"), table_name="admin_events")
    op.drop_table("admin_events")
    op.drop_table("app_passwords")
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.drop_column("legacy")
    op.drop_index(op.f("ix_users_directory_id_external_id"), table_name="users")
    with op.batch_alter_table("users", recreate="never") as batch_op:
        for column in (
            "registration_required_at",
            "disabled_reason",
            "disabled_at",
            "groups",
            "dn",
            "external_id",
            "directory_id",
        ):
            batch_op.drop_column(column)
    op.drop_table("directories")
