"""the administrators' roles

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_admin_roles_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_roles")),
        sa.UniqueConstraint("account_id", "role", name=op.f("uq_admin_roles_account_id")),
    )
    op.create_index(op.f("ix_admin_roles_account_id"), "admin_roles", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_admin_roles_account_id"), table_name="admin_roles")
    op.drop_table("admin_roles")
