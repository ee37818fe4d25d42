"""tamper-evident access log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 12:20:34.476329
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copy of the version-1 entry encoding (consent/log_entries.py), so this migration keeps
# producing the same hashes whatever later code does.
_PERSONAL = ("actor_id", "subject", "source_address")
_PUBLIC = (
    "occurred_at",
    "event_type",
    "actor_type",
    "client_id",
    "outcome",
    "request_id",
    "claims_released",
    "purpose",
    "detail",
)


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _backfill(connection: sa.Connection) -> None:
    events = sa.table(
        "access_events",
        *(
            sa.column(n)
            for n in (
                "id",
                *_PUBLIC,
                *_PERSONAL,
                "personal_salt",
                "personal_commitment",
                "content_hash",
            )
        ),
    )
    rows = connection.execute(sa.select(events)).mappings().all()
    for row in rows:
        salt = secrets.token_hex(16)
        personal = {name: row[name] for name in _PERSONAL}
        commitment = hashlib.sha256(bytes.fromhex(salt) + _canonical(personal)).hexdigest()
        public = {name: row[name] for name in _PUBLIC}
        occurred = row["occurred_at"]
        if isinstance(occurred, str):  # SQLite hands back text for an untyped column
            occurred = datetime.fromisoformat(occurred)
        occurred = occurred.replace(tzinfo=UTC) if occurred.tzinfo is None else occurred
        public["occurred_at"] = occurred.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if isinstance(public["claims_released"], str):
            public["claims_released"] = json.loads(public["claims_released"])
        if isinstance(public["detail"], str):
            public["detail"] = json.loads(public["detail"])
        body = _canonical({**public, "personal_commitment": commitment})
        content = hashlib.sha256(b"idp-access-log-entry-v1\x00" + body).hexdigest()
        connection.execute(
            sa.update(events)
            .where(events.c.id == row["id"])
            .values(personal_salt=salt, personal_commitment=commitment, content_hash=content)
        )


def upgrade() -> None:
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
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("personal_salt", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("personal_commitment", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("log_index", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("leaf_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_access_events_log_index", ["log_index"], unique=True)
    _backfill(op.get_bind())
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.alter_column("personal_commitment", nullable=False)
        batch_op.alter_column("content_hash", nullable=False)


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
    op.drop_table("log_state")
    op.drop_table("log_nodes")
    op.drop_table("log_checkpoints")
