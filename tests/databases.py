"""Throw-away databases for the tests: empty ones, for the tests of the migrations, and ones at
the newest migration, made by copying: this process applies the migrations once per engine, to
a template, and every such database is a copy of it (PostgreSQL's
`CREATE DATABASE ... TEMPLATE`, SQLite's online backup). Nineteen migrations cost seconds on a
loaded machine, mostly commits waiting for the disk; a copy costs a fraction of one.

A copy holds exactly what the migrations made: they only create and change tables on an empty
database (the rows they move belong to databases that had some). The migrations themselves are
tested on empty databases (`tests/gateway/test_migrations.py` and the upgrade tests beside it).
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

import psycopg

from gateway.schema import upgrade_database

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
_templates: dict[str, str] = {}  # engine: the template's PostgreSQL name or SQLite path


def postgres_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def create_postgres_database() -> tuple[str, str]:
    """A fresh, empty PostgreSQL database; returns (name, SQLAlchemy URL)."""
    name = f"idp_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, postgres_url(name)


def drop_postgres_database(name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_postgres_database() -> tuple[str, str]:
    """A new PostgreSQL database at the newest migration; returns (name, SQLAlchemy URL)."""
    template = _template("postgresql")
    name = f"idp_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name, postgres_url(name)


def migrated_sqlite_database(path: Path) -> str:
    """A new SQLite database file at `path`, at the newest migration; returns its URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(_template("sqlite"))) as template,
        closing(sqlite3.connect(path)) as copy,
    ):
        template.backup(copy)
    return f"sqlite:///{path}"


def migrated_database_for(backend: str, workdir: Path) -> tuple[str, str | None]:
    """(URL, PostgreSQL name to drop afterwards, or None) of a new database of `backend` at the
    newest migration; a SQLite one is `idp.db` in `workdir`."""
    if backend == "sqlite":
        return migrated_sqlite_database(workdir / "idp.db"), None
    name, url = migrated_postgres_database()
    return url, name


def _template(backend: str) -> str:
    if backend not in _templates:
        _templates[backend] = _make_template(backend)
    return _templates[backend]


def _make_template(backend: str) -> str:
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="idp-template-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = Path(folder) / "template.db"
        upgrade_database(f"sqlite:///{path}")
        return str(path)
    name, url = create_postgres_database()
    atexit.register(drop_postgres_database, name)
    upgrade_database(url)  # its connections are closed when it returns
    return name
