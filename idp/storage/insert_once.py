"""An INSERT that does nothing when a row with the same unique key exists: for facts recorded
the first time they happen, where two requests may record the same one at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Executable, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


@lru_cache(maxsize=32)
def _insert_once_statement(
    dialect: str, table: Table, columns: tuple[str, ...], unique: tuple[str, ...]
) -> Executable:
    # Built once per table and column set, with bound values: /authorize records the app it
    # serves this way on every code, and building the statement cost more than running it.
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        builder(table)
        .values({name: bindparam(name) for name in columns})
        .on_conflict_do_nothing(index_elements=list(unique))
    )


def insert_once(
    session: Session, table: Table, row: Mapping[str, Any], *, unique: Sequence[str]
) -> None:
    """`INSERT ... ON CONFLICT (unique) DO NOTHING`, in both dialects' spelling."""
    dialect = session.get_bind().dialect.name
    statement = _insert_once_statement(dialect, table, tuple(row), tuple(unique))
    session.execute(statement, dict(row))


def inserted_once(
    session: Session, table: Table, row: Mapping[str, Any], *, unique: Sequence[str]
) -> bool:
    """`insert_once`, telling whether the row was inserted (False: the key existed). RETURNING
    says so in both dialects; the driver's rowcount does not on PostgreSQL."""
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        builder(table)
        .values(**row)
        .on_conflict_do_nothing(index_elements=unique)
        .returning(*(table.c[name] for name in unique))
    )
    return session.execute(statement).first() is not None
