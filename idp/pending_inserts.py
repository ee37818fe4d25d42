"""Rows a unit of work only writes, inserted together when it commits.

A token request writes two rows that nothing reads back before the commit: the token row and its
access log entry. Held until the commit, they reach PostgreSQL as one statement (data-modifying
common table expressions), one round trip instead of one each, which keeps the log from adding a
round trip to every token. SQLite has no round trips to save; there each row is one INSERT, and
a row whose columns need no conversion (text and integers only, like an access log entry) goes
to the driver directly, without SQLAlchemy's per-statement work.

Only for rows the same unit of work does not read again: a pending row is invisible to queries
until the commit. A rollback discards them with everything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Insert, Table, bindparam, event, insert
from sqlalchemy.orm import Session, SessionTransaction

_PENDING = "idp.pending_inserts"

# One shape is the tables and the column names of one unit of work's pending rows, in order;
# the gateway has a handful (a token row with or without a refresh token, with its log entry).
_SHAPES_CACHED = 64

Shape = tuple[tuple[Table, tuple[str, ...]], ...]


def insert_at_commit(session: Session, table: Table, values: Mapping[str, Any]) -> None:
    """Insert `values` into `table` when `session` commits, with the session's other pending
    rows."""
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


@lru_cache(maxsize=_SHAPES_CACHED)
def plain_insert(table: Table) -> Insert:
    return insert(table)


@lru_cache(maxsize=_SHAPES_CACHED)
def driver_insert(table: Table, columns: tuple[str, ...], dialect: Dialect) -> str | None:
    """The driver's own INSERT for these columns, or None when a column's type converts its
    values on the way in (dates, JSON, custom types): those need SQLAlchemy."""
    column_types = (table.c[name].type.dialect_impl(dialect) for name in columns)
    if any(column_type.bind_processor(dialect) is not None for column_type in column_types):
        return None
    statement = insert(table).values({name: bindparam(name) for name in columns})
    compiled = statement.compile(dialect=dialect)
    if compiled.positiontup != list(columns):
        return None  # a driver with named parameters; SQLAlchemy handles it
    return str(compiled)


def _write_pending(session: Session) -> None:
    pending: list[tuple[Table, dict[str, Any]]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    if len(pending) > 1 and session.get_bind().dialect.name == "postgresql":
        shape = tuple((table, tuple(values)) for table, values in pending)
        parameters = {
            f"r{number}_{column}": value
            for number, (_, values) in enumerate(pending)
            for column, value in values.items()
        }
        session.connection().execute(combined_insert(shape), parameters)
        return
    # The connection itself: the session's ORM layers add nothing to a plain INSERT.
    connection = session.connection()
    dialect = connection.dialect
    for table, values in pending:
        sql = driver_insert(table, tuple(values), dialect)
        if sql is None:
            connection.execute(plain_insert(table), values)
            continue
        # The same connection and transaction, one layer down.
        driver = connection.connection.dbapi_connection
        assert driver is not None  # a connection in use has its driver connection
        cursor = driver.cursor()
        try:
            cursor.execute(sql, tuple(values.values()))
        finally:
            cursor.close()


def _forget_pending(session: Session, _transaction: SessionTransaction) -> None:
    session.info.pop(_PENDING, None)


# Every session, also one a command or a test opens by hand, writes its pending rows on commit.
event.listen(Session, "before_commit", _write_pending)
event.listen(Session, "after_soft_rollback", _forget_pending)
