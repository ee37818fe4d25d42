"""daily counts of days that ended, kept so that statistics never scan the whole access log

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_statistics_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_statistics_days")),
    )
    op.create_table(
        "daily_statistics",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "measure", "client_id", "method", name=op.f("pk_daily_statistics")
        ),
    )


def downgrade() -> None:
    op.drop_table("daily_statistics")
    op.drop_table("daily_statistics_days")
