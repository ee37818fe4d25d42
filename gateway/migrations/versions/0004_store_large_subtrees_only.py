"""log_nodes keeps subtrees of 16 leaves and more

Subtrees below level 4 are folded from access_events.leaf_hash when a proof needs them, so the
sequencer writes one node row per 16 entries instead of about two per entry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from transparency.merkle import CompactRange

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FIRST_STORED_LEVEL = 4  # consent.models.FIRST_STORED_NODE_LEVEL when this was written

log_nodes = sa.table(
    "log_nodes", sa.column("level", sa.Integer), sa.column("index"), sa.column("hash")
)
access_events = sa.table("access_events", sa.column("log_index"), sa.column("leaf_hash"))


def upgrade() -> None:
    op.execute(log_nodes.delete().where(log_nodes.c.level < FIRST_STORED_LEVEL))


def downgrade() -> None:
    """Put the small subtrees back from the leaf hashes, for code that reads them stored."""
    connection = op.get_bind()
    leaves = connection.execute(
        sa.select(access_events.c.leaf_hash)
        .where(access_events.c.log_index.is_not(None))
        .order_by(access_events.c.log_index)
    )
    compact = CompactRange()
    rows: list[dict[str, object]] = []
    for (leaf,) in leaves:
        for level, index, value in compact.append(bytes.fromhex(leaf)):
            if level < FIRST_STORED_LEVEL:
                rows.append({"level": level, "index": index, "hash": value.hex()})
        if len(rows) >= 10_000:
            connection.execute(log_nodes.insert(), rows)
            rows.clear()
    if rows:
        connection.execute(log_nodes.insert(), rows)
