"""sign-in throttle

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 12:40:56.077846
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttles",
        sa.Column("username_digest", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username_digest", name=op.f("pk_sign_in_throttles")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_throttles")
