"""tamper-evident access log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 12:20:34.476329
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_EVENT_COLUMNS = (
    "occurred_at",
    "event_type",
    "actor_type",
    "actor_id",
    "subject",
    "client_id",
    "outcome",
    "request_id",
    "source_address",
    "claims_released",
    "purpose",
    "detail",
)


def upgrade() -> None:
    queue = op.create_table(
        "access_log_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=True),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("source_address", sa.String(length=64), nullable=True),
        sa.Column("claims_released", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log_queue")),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_checkpoints")),
        sa.UniqueConstraint("tree_size", name=op.f("uq_log_checkpoints_tree_size")),
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "index", name=op.f("pk_log_nodes")),
    )
    log_state = op.create_table(
        "log_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.Column("sequenced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_state")),
    )
    op.bulk_insert(log_state, [{"id": 1, "tree_size": 0, "frontier": []}])
    # Events written before the log existed are queued, so the sequencer seals and places them
    # like any other; access_events then only ever holds sealed entries.
    events = sa.table("access_events", *(sa.column(n) for n in _EVENT_COLUMNS))
    op.execute(queue.insert().from_select(list(_EVENT_COLUMNS), sa.select(events)))
    op.execute(events.delete())
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("personal_salt", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("personal_commitment", sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column("log_index", sa.BigInteger(), nullable=False))
        batch_op.add_column(sa.Column("leaf_hash", sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_access_events_log_index", ["log_index"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.drop_index("ix_access_events_log_index")
        batch_op.drop_column("pruned_at")
        batch_op.drop_column("erased_at")
        batch_op.drop_column("leaf_hash")
        batch_op.drop_column("log_index")
        batch_op.drop_column("content_hash")
        batch_op.drop_column("personal_commitment")
        batch_op.drop_column("personal_salt")
    # Queued events go back to the plain event table rather than being lost.
    queue = sa.table("access_log_queue", *(sa.column(n) for n in _EVENT_COLUMNS))
    events = sa.table("access_events", *(sa.column(n) for n in _EVENT_COLUMNS))
    op.execute(events.insert().from_select(list(_EVENT_COLUMNS), sa.select(queue)))
    op.drop_table("log_state")
    op.drop_table("log_nodes")
    op.drop_table("log_checkpoints")
    op.drop_table("access_log_queue")
