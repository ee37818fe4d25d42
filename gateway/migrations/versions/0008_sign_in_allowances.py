"""sign-in allowances per browser (device cookies) and per source address

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_allowances",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_sign_in_allowances_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_sign_in_allowances")),
    )
    op.create_index(op.f("ix_sign_in_allowances_account_id"), "sign_in_allowances", ["account_id"])
    op.create_table(
        "sign_in_source_limits",
        sa.Column("source_digest", sa.String(length=64), nullable=False),
        sa.Column("drained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_digest", name=op.f("pk_sign_in_source_limits")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_source_limits")
    op.drop_index(op.f("ix_sign_in_allowances_account_id"), table_name="sign_in_allowances")
    op.drop_table("sign_in_allowances")
