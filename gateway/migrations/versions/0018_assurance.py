"""levels of assurance: each authentication of a browser session, and a client's minimum level

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "session_authentications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("browser_session_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.Column("authenticated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["browser_session_id"],
            ["browser_sessions.id"],
            name=op.f("fk_session_authentications_browser_session_id_browser_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_authentications")),
    )
    op.create_index(
        op.f("ix_session_authentications_browser_session_id"),
        "session_authentications",
        ["browser_session_id"],
    )
    # Every session so far began with a password; live ones keep their level (low).
    sessions = sa.table(
        "browser_sessions",
        sa.column("id", sa.Integer()),
        sa.column("auth_time", _TIME),
        sa.column("ended_at", _TIME),
    )
    authentications = sa.table(
        "session_authentications",
        sa.column("browser_session_id", sa.Integer()),
        sa.column("method", sa.String()),
        sa.column("amr", sa.JSON()),
        sa.column("authenticated_at", _TIME),
    )
    bind = op.get_bind()
    live = bind.execute(
        sa.select(sessions.c.id, sessions.c.auth_time).where(sessions.c.ended_at.is_(None))
    ).all()
    if live:
        bind.execute(
            authentications.insert(),
            [
                {
                    "browser_session_id": row.id,
                    "method": "password",
                    "amr": ["pwd"],
                    "authenticated_at": row.auth_time,
                }
                for row in live
            ],
        )
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("minimum_level", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("minimum_level")
    op.drop_index(
        op.f("ix_session_authentications_browser_session_id"), table_name="session_authentications"
    )
    op.drop_table("session_authentications")
