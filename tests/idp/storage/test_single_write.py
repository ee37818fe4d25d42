"""Units of work that read, then write once (userinfo, introspection, client credentials): on
PostgreSQL without BEGIN and COMMIT, on both engines refusing a second write before it is sent."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select, update

from idp.models import IssuedToken
from idp.storage.database import Database
from idp.storage.pending_inserts import insert_at_commit
from idp.storage.single_write import SecondWriteRefused
from tests.idp.storage.rows import NOW, TOKENS, counts, token_event, token_row
from transparency.access_log import DatabaseAccessLog


def test_a_read_and_its_log_entries_are_written_without_a_transaction_on_postgresql(
    migrated_database: Database,
) -> None:
    database = migrated_database
    with database.unit_of_work() as session:
        insert_at_commit(session, TOKENS, token_row("jti-1"))
    in_transaction: list[bool] = []

    def seen(conn: Any, *_rest: Any) -> None:
        # psycopg opens a transaction (BEGIN) with the first statement unless in autocommit.
        driver = conn.connection.dbapi_connection
        in_transaction.append(not getattr(driver, "autocommit", False))

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with database.unit_of_work(single_write=True) as session:
            jti = session.scalar(select(IssuedToken.access_token_jti))
            DatabaseAccessLog().record(session, token_event("req-1"))
            DatabaseAccessLog().record(session, token_event("req-2"))  # both in one statement
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert jti == "jti-1"
    assert counts(database) == (1, 2)
    if database.engine.dialect.name == "postgresql":
        assert in_transaction == [False, False]  # the SELECT, then one INSERT of both entries
    else:
        assert in_transaction and all(in_transaction)  # SQLite keeps its transaction


@pytest.mark.parametrize("first", ["statement", "rows at commit"])
def test_a_second_write_is_refused_before_it_is_sent(
    migrated_database: Database, first: str
) -> None:
    database = migrated_database
    with database.unit_of_work() as session:
        insert_at_commit(session, TOKENS, token_row("jti-1"))

    def write_twice() -> None:
        with database.unit_of_work(single_write=True) as session:
            revoke = update(IssuedToken).values(revoked_at=NOW)
            if first == "statement":
                session.execute(revoke)
                session.execute(revoke)
            else:
                DatabaseAccessLog().record(session, token_event("req-1"))
                session.execute(revoke)
                # The revocation was the one write; the entry held for the commit is refused.

    with pytest.raises(SecondWriteRefused):
        write_twice()
    with database.unit_of_work() as session:
        revoked = session.scalar(select(IssuedToken.revoked_at))
    queued = counts(database)[1]
    if database.engine.dialect.name == "postgresql":
        # Without a transaction the first write stands; the second was never sent.
        assert revoked is not None and queued == 0
    else:
        assert revoked is None and queued == 0  # the transaction rolled both back


def test_the_connection_forgets_the_limit_and_autocommit_when_the_unit_of_work_ends(
    migrated_database: Database,
) -> None:
    database = migrated_database
    with database.unit_of_work(single_write=True) as session:
        DatabaseAccessLog().record(session, token_event("req-1"))
    autocommit: list[bool] = []

    def seen(conn: Any, *_rest: Any) -> None:
        autocommit.append(bool(getattr(conn.connection.dbapi_connection, "autocommit", False)))

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with database.unit_of_work() as session:  # an ordinary one, on the same pooled connection
            insert_at_commit(session, TOKENS, token_row("jti-1"))
            insert_at_commit(session, TOKENS, token_row("jti-2"))
            session.execute(update(IssuedToken).values(revoked_at=NOW))
            DatabaseAccessLog().record(session, token_event("req-2"))
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert counts(database) == (2, 2)
    assert autocommit and not any(autocommit)  # back in a transaction, as many writes as it likes
