"""time bounds per block of log positions (a time range becomes a log_index range); the review
indexes hold only entries that have the field, and occurred_at has no index of its own

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 14:30:00
"""

from __future__ import annotations

from itertools import pairwise

import sqlalchemy as sa
from alembic import op

from idp.storage.database import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ENTRIES_PER_BLOCK = 256  # transparency.models.ENTRIES_PER_TIME_BLOCK when this was written
_NULLABLE_FILTERS = ("subject", "client_id", "source_address")
_FILL_ROWS = 10_000

access_events = sa.table(
    "access_events", sa.column("log_index", sa.BigInteger), sa.column("occurred_at", UtcDateTime)
)
log_time_blocks = sa.table(
    "log_time_blocks",
    sa.column("block", sa.BigInteger),
    sa.column("latest_through_at", UtcDateTime),
    sa.column("earliest_from_at", UtcDateTime),
    sa.column("own_earliest_at", UtcDateTime),
    sa.column("own_latest_at", UtcDateTime),
)


def upgrade() -> None:
    op.create_table(
        "log_time_blocks",
        sa.Column("block", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("latest_through_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("earliest_from_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("own_earliest_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("own_latest_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("block"),
    )
    op.create_index(
        "ix_log_time_blocks_latest_through_at", "log_time_blocks", ["latest_through_at", "block"]
    )
    op.create_index(
        "ix_log_time_blocks_earliest_from_at", "log_time_blocks", ["earliest_from_at", "block"]
    )
    _fill_blocks()
    # Searches by time read the blocks now; pruning too (transparency.store).
    op.drop_index("ix_access_events_occurred_at", table_name="access_events")
    for column in _NULLABLE_FILTERS:
        name = f"ix_access_events_{column}_log_index"
        op.drop_index(name, table_name="access_events")
        condition = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            name,
            "access_events",
            [column, "log_index"],
            postgresql_where=condition,
            sqlite_where=condition,
        )


def _fill_blocks() -> None:
    """The envelopes of the entries already stored: each block's own earliest and latest time,
    then the running maximum forwards and the running minimum backwards."""
    connection = op.get_bind()
    block = access_events.c.log_index // ENTRIES_PER_BLOCK
    rows = connection.execute(
        sa.select(
            block.label("block"),
            sa.func.min(access_events.c.occurred_at),
            sa.func.max(access_events.c.occurred_at),
        )
        .where(access_events.c.log_index.is_not(None))
        .group_by(block)
        .order_by(block)
    ).all()
    filled = [
        {
            "block": int(number),
            "latest_through_at": latest,
            "earliest_from_at": earliest,
            "own_earliest_at": earliest,
            "own_latest_at": latest,
        }
        for number, earliest, latest in rows
    ]
    for before, after in pairwise(filled):
        after["latest_through_at"] = max(before["latest_through_at"], after["latest_through_at"])
    for after, before in pairwise(filled[::-1]):
        before["earliest_from_at"] = min(before["earliest_from_at"], after["earliest_from_at"])
    for start in range(0, len(filled), _FILL_ROWS):
        connection.execute(log_time_blocks.insert(), filled[start : start + _FILL_ROWS])


def downgrade() -> None:
    for column in _NULLABLE_FILTERS:
        name = f"ix_access_events_{column}_log_index"
        op.drop_index(name, table_name="access_events")
        op.create_index(name, "access_events", [column, "log_index"])
    op.create_index("ix_access_events_occurred_at", "access_events", ["occurred_at"])
    op.drop_index("ix_log_time_blocks_earliest_from_at", table_name="log_time_blocks")
    op.drop_index("ix_log_time_blocks_latest_through_at", table_name="log_time_blocks")
    op.drop_table("log_time_blocks")
