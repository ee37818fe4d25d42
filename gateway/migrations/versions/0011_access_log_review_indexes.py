"""indexes for reviewing the access log: per filter column, then log_index (keyset pages)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 13:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BY_COLUMN = ("subject", "client_id", "event_type", "source_address")


def upgrade() -> None:
    for column in _BY_COLUMN:
        op.create_index(
            f"ix_access_events_{column}_log_index", "access_events", [column, "log_index"]
        )
    op.create_index("ix_access_events_occurred_at", "access_events", ["occurred_at"])
    # The subject index is now the first half of the (subject, log_index) one.
    op.drop_index("ix_access_events_subject", table_name="access_events")


def downgrade() -> None:
    op.create_index("ix_access_events_subject", "access_events", ["subject"])
    op.drop_index("ix_access_events_occurred_at", table_name="access_events")
    for column in _BY_COLUMN:
        op.drop_index(f"ix_access_events_{column}_log_index", table_name="access_events")
