"""Rows held until the commit: written with it, gone with a rollback, and on PostgreSQL sent as
one statement (the token row and its access log entry share one round trip)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from idp.models import IssuedToken
from idp.storage.database import Database
from idp.storage.pending_inserts import insert_at_commit, pending_count
from tests.idp.storage.rows import NOW, TOKENS, counts, token_event, token_row
from transparency.access_log import DatabaseAccessLog
from transparency.models import AccessLogQueueEntry


@pytest.fixture
def database(migrated_database: Database) -> Database:
    return migrated_database


def issue(database: Database, jti: str, *, fail: bool = False, **row_changes: Any) -> None:
    """One unit of work that writes a token row and its log entry, as the token endpoint does."""
    with database.unit_of_work() as session:
        DatabaseAccessLog().record(session, token_event(f"req-{jti}"))
        insert_at_commit(session, TOKENS, token_row(jti, **row_changes))
        if fail:
            raise RuntimeError("the act failed")


class StatementLog:
    """The SQL statements an engine sends, in order."""

    def __init__(self, engine: Engine) -> None:
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.statements.append(statement)

    def inserts(self) -> list[str]:
        return [s for s in self.statements if "INSERT" in s.upper()]


def test_rows_wait_for_the_commit_and_then_are_written(database: Database) -> None:
    with database.unit_of_work() as session:
        insert_at_commit(session, TOKENS, token_row("jti-1"))
        DatabaseAccessLog().record(session, token_event("req-1"))
        assert pending_count(session) == 2
        # Not visible before the commit, not even to the unit of work itself.
        assert session.scalar(select(func.count()).select_from(IssuedToken)) == 0
    assert counts(database) == (1, 1)
    with database.unit_of_work() as session:
        row = session.execute(select(IssuedToken)).scalar_one()
        queued = session.execute(select(AccessLogQueueEntry)).scalar_one()
    assert (row.access_token_jti, row.access_token_expires_at) == (
        "jti-1",
        NOW + timedelta(minutes=5),
    )
    assert json.loads(queued.public_fields)["request_id"] == "req-1"
    assert (queued.actor_id, queued.subject) == ("client-1", None)


def test_a_token_and_its_log_entry_take_one_statement_on_postgresql(database: Database) -> None:
    sent = StatementLog(database.engine)
    for number in range(3):  # the same shape again is served from the statement caches
        with database.unit_of_work() as session:
            insert_at_commit(session, TOKENS, token_row(f"jti-{number}"))
            DatabaseAccessLog().record(session, token_event(f"req-{number}"))
    inserts = sent.inserts()
    if database.engine.dialect.name == "postgresql":
        assert len(inserts) == 3
        assert all("issued_tokens" in s and "access_log_queue" in s for s in inserts)
    else:  # every row went to the driver directly, none through SQLAlchemy's execution
        assert inserts == []
    assert counts(database) == (3, 3)


def test_a_rollback_discards_the_pending_rows(database: Database) -> None:
    with pytest.raises(RuntimeError):
        issue(database, "jti-lost", fail=True)
    assert counts(database) == (0, 0)


def test_a_failing_row_writes_nothing_of_the_unit_of_work(database: Database) -> None:
    issue(database, "jti-taken")
    # The same jti again violates a unique constraint at commit: neither row may remain.
    with pytest.raises(StatementError):
        issue(database, "jti-taken")
    assert counts(database) == (1, 1)


def test_column_types_still_check_their_values(database: Database) -> None:
    naive = datetime(2026, 11, 29, 12, 0)
    with pytest.raises(StatementError, match="naive datetime"):
        issue(database, "jti-naive", created_at=naive)
    assert counts(database) == (0, 0)


def test_a_session_not_from_a_database_refuses_pending_rows(database: Database) -> None:
    """Only the Database's sessions write pending rows at commit; any other session would drop
    them silently, so it refuses them at once."""
    with Session(database.engine) as bare, pytest.raises(RuntimeError, match="pending rows"):
        insert_at_commit(bare, TOKENS, token_row("bare"))
    with database.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(TOKENS)) == 0
