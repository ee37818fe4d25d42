"""sign-out everywhere: the apps of each browser session, the logout outbox, logout URIs

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_LIVE = sa.text("ended_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("clients") as clients:
        clients.add_column(sa.Column("backchannel_logout_uri", sa.Text(), nullable=True))
        clients.add_column(sa.Column("frontchannel_logout_uri", sa.Text(), nullable=True))
    with op.batch_alter_table("browser_sessions") as sessions:
        sessions.add_column(sa.Column("ended_reason", sa.String(length=32), nullable=True))
        sessions.add_column(sa.Column("device", sa.String(length=100), nullable=True))
        sessions.add_column(sa.Column("network", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_browser_sessions_live_expires_at",
        "browser_sessions",
        ["expires_at"],
        postgresql_where=_LIVE,
        sqlite_where=_LIVE,
    )
    op.create_index(
        "ix_browser_sessions_live_last_seen_at",
        "browser_sessions",
        ["last_seen_at"],
        postgresql_where=_LIVE,
        sqlite_where=_LIVE,
    )
    op.create_table(
        "session_apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("browser_session_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("first_used_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["browser_session_id"],
            ["browser_sessions.id"],
            name=op.f("fk_session_apps_browser_session_id_browser_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_apps")),
        sa.UniqueConstraint(
            "browser_session_id", "client_id", name=op.f("uq_session_apps_browser_session_id")
        ),
    )
    op.create_table(
        "logout_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=False),
        sa.Column("last_attempt_at", _TIME, nullable=True),
        sa.Column("last_outcome", sa.String(length=255), nullable=True),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logout_deliveries")),
        sa.UniqueConstraint("jti", name=op.f("uq_logout_deliveries_jti")),
    )
    op.create_index(
        "ix_logout_deliveries_state_next_attempt_at",
        "logout_deliveries",
        ["state", "next_attempt_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_logout_deliveries_state_next_attempt_at", table_name="logout_deliveries")
    op.drop_table("logout_deliveries")
    op.drop_table("session_apps")
    op.drop_index("ix_browser_sessions_live_last_seen_at", table_name="browser_sessions")
    op.drop_index("ix_browser_sessions_live_expires_at", table_name="browser_sessions")
    with op.batch_alter_table("browser_sessions") as sessions:
        sessions.drop_column("network")
        sessions.drop_column("device")
        sessions.drop_column("ended_reason")
    with op.batch_alter_table("clients") as clients:
        clients.drop_column("frontchannel_logout_uri")
        clients.drop_column("backchannel_logout_uri")
