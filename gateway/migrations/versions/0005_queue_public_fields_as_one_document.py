"""access_log_queue holds an event's public fields as one canonical JSON document

The request writes 5 columns instead of 13, and the sequencer decodes one document instead of
a timestamp and two JSON columns. Entries still queued are converted both ways.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:30:00
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The public fields as 0002 made them columns; written out, so later model changes leave this
# migration as it is.
PUBLIC_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("event_type", sa.String(length=64), nullable=False),
    sa.Column("actor_type", sa.String(length=16), nullable=False),
    sa.Column("client_id", sa.String(length=64), nullable=True),
    sa.Column("outcome", sa.String(length=16), nullable=False),
    sa.Column("request_id", sa.String(length=64), nullable=True),
    sa.Column("claims_released", sa.JSON(), nullable=False),
    sa.Column("purpose", sa.String(length=255), nullable=True),
    sa.Column("detail", sa.JSON(), nullable=False),
]
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # transparency.entries.encode_time


def _queue(*columns: sa.Column[Any]) -> sa.TableClause:
    return sa.table(
        "access_log_queue",
        sa.column("id", sa.Integer),
        *(sa.column(c.name, c.type) for c in columns),
    )


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def upgrade() -> None:
    op.add_column("access_log_queue", sa.Column("public_fields", sa.Text(), nullable=True))
    connection = op.get_bind()
    old = _queue(*PUBLIC_COLUMNS)
    new = _queue(sa.Column("public_fields", sa.Text()))
    for row in connection.execute(sa.select(old)).mappings().all():
        public = {c.name: row[c.name] for c in PUBLIC_COLUMNS}
        public["occurred_at"] = _as_utc(public["occurred_at"]).strftime(TIME_FORMAT)
        document = json.dumps(public, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        connection.execute(new.update().where(new.c.id == row["id"]).values(public_fields=document))
    with op.batch_alter_table("access_log_queue") as batch:
        batch.alter_column("public_fields", existing_type=sa.Text(), nullable=False)
        for column in PUBLIC_COLUMNS:
            batch.drop_column(column.name)


def downgrade() -> None:
    with op.batch_alter_table("access_log_queue") as batch:
        for column in PUBLIC_COLUMNS:
            batch.add_column(sa.Column(column.name, column.type, nullable=True))
    connection = op.get_bind()
    documents = _queue(sa.Column("public_fields", sa.Text()))
    old = _queue(*PUBLIC_COLUMNS)
    for row in connection.execute(sa.select(documents)).mappings().all():
        public = json.loads(row["public_fields"])
        public["occurred_at"] = datetime.strptime(public["occurred_at"], TIME_FORMAT).replace(
            tzinfo=UTC
        )
        connection.execute(
            old.update()
            .where(old.c.id == row["id"])
            .values({c.name: public.get(c.name) for c in PUBLIC_COLUMNS})
        )
    with op.batch_alter_table("access_log_queue") as batch:
        for column in PUBLIC_COLUMNS:
            batch.alter_column(column.name, existing_type=column.type, nullable=column.nullable)
        batch.drop_column("public_fields")
