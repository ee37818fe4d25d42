"""clients.previous_secret_*: the secret a rotation replaced, accepted until its overlap ends

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "clients", sa.Column("previous_secret_digest", sa.String(length=64), nullable=True)
    )
    op.add_column(
        "clients",
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret_digest")
