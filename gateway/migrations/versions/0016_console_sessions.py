"""the administrator console's sessions, sign-ins in progress and log verification runs

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("auth_time", _TIME, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("ended_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_console_sessions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("secret_digest", name=op.f("uq_console_sessions_secret_digest")),
    )
    op.create_index(op.f("ix_console_sessions_account_id"), "console_sessions", ["account_id"])
    op.create_table(
        "console_sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_digest", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("return_to", sa.String(length=512), nullable=False),
        sa.Column("max_age_seconds", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("used_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sign_ins")),
        sa.UniqueConstraint("state_digest", name=op.f("uq_console_sign_ins_state_digest")),
    )
    op.create_table(
        "log_verification_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=255), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("entries_total", sa.Integer(), nullable=False),
        sa.Column("entries_checked", sa.Integer(), nullable=False),
        sa.Column("progressed_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("summary", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_verification_runs")),
    )


def downgrade() -> None:
    op.drop_table("log_verification_runs")
    op.drop_table("console_sign_ins")
    op.drop_index(op.f("ix_console_sessions_account_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
