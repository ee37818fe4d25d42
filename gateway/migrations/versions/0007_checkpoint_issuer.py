"""log_checkpoints.issuer: the issuer each checkpoint was signed under

Filled for existing checkpoints from their signed payload's `iss`, so a node can tell at start
whether it signs as the others do. Until now a node could start under another issuer without a
trace; each such change among the existing checkpoints is queued as an issuer.moved entry naming
the first checkpoint under the new issuer, so the audit can accept it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_CHUNK = 5000
_CHECKPOINTS = sa.table(
    "log_checkpoints",
    sa.column("id", sa.Integer),
    sa.column("tree_size", sa.BigInteger),
    sa.column("signed", sa.Text),
)
_QUEUE = sa.table(
    "access_log_queue",
    sa.column("public_fields", sa.Text),
    sa.column("actor_id", sa.String),
    sa.column("subject", sa.String),
    sa.column("source_address", sa.String),
)


def _issuer_of(signed: str) -> str:
    """The `iss` of a compact JWS's payload, unverified (verification is `idp audit verify`'s);
    empty when it has none, so a damaged row cannot stop the upgrade."""
    try:
        payload = signed.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        issuer = claims["iss"]
    except (IndexError, ValueError, KeyError, TypeError):
        return ""
    return issuer if isinstance(issuer, str) else ""


def upgrade() -> None:
    # NOT NULL with a default lets SQLite add the column without rebuilding the table; the
    # rows are filled next and every later checkpoint is written with its issuer.
    op.add_column(
        "log_checkpoints", sa.Column("issuer", sa.Text(), nullable=False, server_default="")
    )
    connection = op.get_bind()
    update = sa.text("UPDATE log_checkpoints SET issuer = :issuer WHERE id = :row_id")
    changes: list[dict[str, object]] = []
    previous: str | None = None
    after = -1
    while True:  # in log order, a chunk at a time
        rows = connection.execute(
            sa.select(_CHECKPOINTS.c.tree_size, _CHECKPOINTS.c.id, _CHECKPOINTS.c.signed)
            .where(_CHECKPOINTS.c.tree_size > after)
            .order_by(_CHECKPOINTS.c.tree_size)
            .limit(_CHUNK)
        ).all()
        if not rows:
            break
        filled = []
        for tree_size, row_id, signed in rows:
            issuer = _issuer_of(signed)
            filled.append({"issuer": issuer, "row_id": row_id})
            if previous is not None and issuer and issuer != previous:
                changes.append({"from": previous, "to": issuer, "tree_size": tree_size})
            previous = issuer or previous
        connection.execute(update, filled)
        after = rows[-1][0]
    if changes:
        connection.execute(sa.insert(_QUEUE), [_recorded_move(change) for change in changes])
    if connection.dialect.name != "sqlite":
        op.alter_column("log_checkpoints", "issuer", server_default=None)


def _recorded_move(change: dict[str, object]) -> dict[str, object]:
    """A queue row as transparency.access_log writes one (public fields as canonical JSON)."""
    public: dict[str, object] = {
        "occurred_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "event_type": "issuer.moved",
        "actor_type": "system",
        "client_id": None,
        "outcome": "success",
        "request_id": None,
        "claims_released": [],
        "purpose": None,
        "detail": change,
    }
    document = json.dumps(public, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {
        "public_fields": document,
        "actor_id": f"migration {revision}",
        "subject": None,
        "source_address": None,
    }


def downgrade() -> None:
    with op.batch_alter_table("log_checkpoints") as batch:
        batch.drop_column("issuer")
