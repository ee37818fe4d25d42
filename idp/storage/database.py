"""The database engine, the declarative base every package's models share, and the unit of work."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker

from idp.storage.outage import OutageLog, is_database_unavailable
from idp.storage.pending_inserts import write_pending_rows_at_commit
from idp.storage.single_write import WRITES_LEFT, count_writes

T = TypeVar("T")


class Turn(Enum):
    """What `Database.run_in_this_thread` answers when it did not get the turn."""

    BUSY = "busy"


# Stable constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed during a write; busy_timeout makes concurrent writers wait, not fail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_database_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for `url`; for SQLite files the parent folder is created on first use.

    `pool_size` should match the number of threads doing database work: a pool smaller than
    that opens and closes connections under load, which costs PostgreSQL more than the queries.
    """
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, pool_size=pool_size, max_overflow=4)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    # A server that does not answer at all (packets dropped) fails the connection in seconds
    # instead of the operating system's minutes, so requests get their 503 quickly.
    connect_args = {} if "connect_timeout=" in url else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=4, pool_timeout=10, connect_args=connect_args
    )
    _ping_connections_that_sat_idle(engine)
    return engine


CONNECT_TIMEOUT_SECONDS = 5
# A pooled connection unused for longer than this is pinged before a request gets it (ADR 0023).
IDLE_PING_SECONDS = 1.0


def _ping_connections_that_sat_idle(engine: Engine) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections that sat idle only.

    A connection the server (or a proxy, or a restart) dropped while it sat in the pool would
    fail the next request that used it; a ping on checkout finds it and the pool opens another.
    Pinging every checkout cost one round trip per request, a quarter of a token request's on
    PostgreSQL. A connection used within the last second is not pinged: under load every
    connection is, and when the server goes away under load the first failures invalidate the
    whole pool, as before (idp.storage.outage).
    """

    def returned(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("returned_at", 0.0) <= IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and tries a new one (up to three times).
            raise DisconnectionError() from error

    event.listen(engine, "connect", returned)
    event.listen(engine.pool, "checkin", returned)
    event.listen(engine.pool, "checkout", checked_out)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


class Database:
    """Hands out units of work: one session and one transaction per request."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False, autoflush=True)
        write_pending_rows_at_commit(self._sessions)
        # SQLite has one writer at a time and makes the others sleep and retry. Queuing units of
        # work in the process instead hands the lock straight to the next one. Re-entrant, so
        # that run_in_this_thread can take the turn before the unit of work it runs asks for it.
        self._one_at_a_time = threading.RLock() if engine.dialect.name == "sqlite" else None
        self.outage = OutageLog()
        event.listen(self._sessions, "after_begin", _note_database_used)
        # Units of work that read, then write once (idp/storage/single_write.py): on a server
        # database, without BEGIN and COMMIT, from the same pool. SQLite keeps its transactions
        # (it has no round trips to save) but refuses a second write all the same, so a test on
        # either engine finds one.
        self._standing_alone: Engine | None = None
        if engine.dialect.name == "postgresql":
            self._standing_alone = engine.execution_options(isolation_level="AUTOCOMMIT")
        event.listen(engine, "before_cursor_execute", count_writes)

    @contextmanager
    def unit_of_work(self, *, single_write: bool = False) -> Iterator[Session]:
        """Commit when the block ends normally, roll back when it raises.

        Repository functions never commit; the caller commits once, before anything is sent,
        so nobody receives a code, token or session cookie that was not stored.

        `single_write`: the block reads, then writes at most once (rows held for the commit
        count as one write), and a second write raises `SecondWriteRefused` before it is sent.
        On PostgreSQL its statements then stand alone: two round trips fewer.
        """
        with self._one_at_a_time or nullcontext():
            standing_alone = single_write and self._standing_alone is not None
            session = (
                self._sessions(bind=self._standing_alone) if standing_alone else self._sessions()
            )
            connection_info: dict[Any, Any] | None = None
            try:
                if single_write:
                    connection_info = session.connection().info
                    connection_info[WRITES_LEFT] = 1
                yield session
                session.commit()
            except BaseException as error:
                _roll_back(session, error)
                if is_database_unavailable(error):
                    self.outage.failed(error)
                raise
            else:
                # Only a unit of work that reached the database says it is back.
                if session.info.get("used_database"):
                    self.outage.succeeded()
            finally:
                if connection_info is not None:
                    connection_info.pop(WRITES_LEFT, None)
                session.close()

    def run_in_this_thread(
        self, work: Callable[[], T], *, wait_at_most: float
    ) -> T | Literal[Turn.BUSY]:
        """Run `work` (which opens units of work) in the calling thread once this process's turn
        is free, or answer Turn.BUSY if it is not free within `wait_at_most` seconds (ADR 0028).

        Only on SQLite, whose statements run in the process and whose turn is this process's
        lock. A server database answers Turn.BUSY at once: its round trips must not hold up the
        calling thread (the event loop)."""
        if self._one_at_a_time is None or not self._one_at_a_time.acquire(timeout=wait_at_most):
            return Turn.BUSY
        try:
            return work()
        finally:
            self._one_at_a_time.release()

    def is_reachable(self) -> bool:
        """One round trip (readiness probes); an outage it finds or ends is logged."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            if is_database_unavailable(error):
                self.outage.failed(error)
            return False
        self.outage.succeeded()
        return True


def _note_database_used(
    session: Session, _transaction: SessionTransaction, _connection: Any
) -> None:
    session.info["used_database"] = True


def _roll_back(session: Session, error: BaseException) -> None:
    try:
        session.rollback()
    except SQLAlchemyError:
        # A connection that is gone cannot roll back (the server already has); the outage,
        # not this second symptom of it, is what the caller must see.
        if not is_database_unavailable(error):
            raise
