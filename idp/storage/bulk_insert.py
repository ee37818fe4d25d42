"""Many rows of one table in one `executemany` on the driver's cursor, each value converted by its
column's own SQLAlchemy type.

For the access log's sequencer, which writes thousands of rows a turn: SQLAlchemy's per-row
parameter handling cost about as much as sealing the entries. The statement is compiled by
SQLAlchemy for the connection's dialect, once per table and column set, and values go through
the same bind processors SQLAlchemy would apply, so what is stored is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect, Table, bindparam, insert
from sqlalchemy.exc import DBAPIError, StatementError

_PREPARED_CACHED = 64


@dataclass(frozen=True)
class _Prepared:
    sql: str
    columns: tuple[str, ...]  # in the order the driver takes the parameters
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool


@lru_cache(maxsize=_PREPARED_CACHED)
def _prepare(table: Table, columns: tuple[str, ...], dialect: Dialect) -> _Prepared:
    compiled = (
        insert(table).values({name: bindparam(name) for name in columns}).compile(dialect=dialect)
    )
    order = tuple(compiled.positiontup or ()) if compiled.positional else columns
    processors = tuple(
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in order
    )
    return _Prepared(str(compiled), order, processors, compiled.positional)


def needs_conversion(table: Table, columns: tuple[str, ...], dialect: Dialect) -> bool:
    """Whether any of these columns converts its values on the way in (dates, JSON, ...)."""
    return any(p is not None for p in _prepare(table, columns, dialect).processors)


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (all with the same keys) in the connection's current transaction."""
    if not rows:
        return
    prepared = _prepare(table, tuple(rows[0]), connection.dialect)
    pairs = tuple(zip(prepared.columns, prepared.processors, strict=True))
    converted: list[Any] = []
    for row in rows:
        try:
            values = [
                row[name] if process is None else process(row[name]) for name, process in pairs
            ]
        except (ValueError, TypeError) as error:
            # A value its column's type refuses (a naive datetime...): as SQLAlchemy reports it.
            raise StatementError(str(error), prepared.sql, dict(row), error) from error
        converted.append(
            values if prepared.positional else dict(zip(prepared.columns, values, strict=True))
        )
    driver = connection.connection.dbapi_connection
    assert driver is not None  # a connection in use has its driver connection
    cursor = driver.cursor()
    try:
        if len(converted) == 1:
            # One row (a request's token row or log entry): psycopg runs `executemany` in a
            # pipeline, which costs more than the single statement.
            cursor.execute(prepared.sql, converted[0])
        else:
            cursor.executemany(prepared.sql, converted)
    except connection.dialect.loaded_dbapi.Error as error:
        # The same exception types callers see from SQLAlchemy (IntegrityError, ...).
        raise DBAPIError.instance(
            prepared.sql, None, error, connection.dialect.loaded_dbapi.Error
        ) from error
    finally:
        cursor.close()
