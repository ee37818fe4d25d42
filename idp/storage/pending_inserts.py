"""Rows a unit of work only writes, inserted together when it commits.

A token request writes two rows that nothing reads back before the commit: the token row and its
access log entry. Held until the commit, they reach PostgreSQL as one statement (data-modifying
common table expressions), one round trip instead of one each, which keeps the log from adding a
round trip to every token. Otherwise (SQLite has no round trips to save) each row is one INSERT
sent to the driver directly (idp/storage/bulk_insert.py), its values converted by the columns'
own types, without SQLAlchemy's per-statement work.

Only for rows the same unit of work does not read again: a pending row is invisible to queries
until the commit. A rollback discards them with everything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, Table, bindparam, event, insert
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from idp.storage.bulk_insert import insert_rows
from idp.storage.single_write import spend_the_write

_PENDING = "pending rows"
_WRITES_PENDING = "writes pending rows at commit"

# One shape is the tables and the column names of one unit of work's pending rows, in order;
# the gateway has a handful (a token row with or without a refresh token, with its log entry).
_SHAPES_CACHED = 64

Shape = tuple[tuple[Table, tuple[str, ...]], ...]


def write_pending_rows_at_commit(sessions: sessionmaker[Session]) -> None:
    """Make every session of `sessions` insert its pending rows when it commits (and forget them
    when it rolls back). `Database` calls it for the sessions it hands out."""
    event.listen(sessions, "before_commit", _write_pending)
    event.listen(sessions, "after_soft_rollback", _forget_pending)
    sessions.configure(info={_WRITES_PENDING: True})


def insert_at_commit(session: Session, table: Table, values: Mapping[str, Any]) -> None:
    """Insert `values` into `table` when `session` commits, with the session's other pending
    rows."""
    if not session.info.get(_WRITES_PENDING):
        # Silently never written would lose a token row and its log entry.
        raise RuntimeError("this session does not write pending rows: open it from a Database")
    session.info.setdefault(_PENDING, []).append((table, dict(values)))


def pending_count(session: Session) -> int:
    return len(session.info.get(_PENDING, ()))


@lru_cache(maxsize=_SHAPES_CACHED)
def combined_insert(shape: Shape) -> Insert:
    """One INSERT statement for rows of this shape: every row but the last becomes a
    data-modifying CTE of the last row's INSERT. Built once per shape, so SQLAlchemy's
    compiled-statement cache serves every later use."""
    statements = [
        insert(table).values({column: bindparam(f"r{number}_{column}") for column in columns})
        for number, (table, columns) in enumerate(shape)
    ]
    *earlier, last = statements
    return last.add_cte(
        *(statement.cte(f"pending_{number}") for number, statement in enumerate(earlier))
    )


def _write_pending(session: Session) -> None:
    pending: list[tuple[Table, dict[str, Any]]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    connection = session.connection()
    if len(pending) > 1 and session.get_bind().dialect.name == "postgresql":
        shape = tuple((table, tuple(values)) for table, values in pending)
        parameters = {
            f"r{number}_{column}": value
            for number, (_, values) in enumerate(pending)
            for column, value in values.items()
        }
        connection.execute(combined_insert(shape), parameters)
        return
    # The driver, one layer down on the same connection and transaction: each column's own bind
    # processor converts its value as SQLAlchemy would (idp/storage/bulk_insert.py), without
    # SQLAlchemy's per-statement work, which cost a token a tenth of its CPU (ADR 0021). Past
    # SQLAlchemy's cursor events, so a single-write unit of work counts it here (on PostgreSQL
    # that is one row: more are the one statement above).
    spend_the_write(connection.info)
    for table, values in pending:
        insert_rows(connection, table, [values])


def _forget_pending(session: Session, _transaction: SessionTransaction) -> None:
    session.info.pop(_PENDING, None)
