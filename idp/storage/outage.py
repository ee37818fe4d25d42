"""Telling a database that cannot be reached from a bug, and logging an outage once.

Connection failures, `OperationalError` (PostgreSQL gone, SQLite locked past the busy timeout or
its file unreadable), a connection invalidated mid-request and an exhausted pool mean "try again
later" (503). Every other database error is a bug and stays a server error (500). An outage is
logged when it begins and when it ends, not once per request.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import exc

log = logging.getLogger("idp.storage.database")


def is_database_unavailable(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError):
        return error.connection_invalidated or isinstance(error, exc.OperationalError)
    # The pool waited pool_timeout for a connection, or a pre-ping found the server gone.
    return isinstance(error, exc.TimeoutError | exc.DisconnectionError)


def describe(error: BaseException) -> str:
    """The driver's first line: no SQL statement and no bound parameters (they may hold digests
    or a citizen's data)."""
    cause = error.orig if isinstance(error, exc.DBAPIError) else error
    first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {first_line}"[:300]


class OutageLog:
    """Whether the database is unreachable now, and one log line at each change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None

    @property
    def in_outage(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.warning("database outage began: %s", describe(error))

    def succeeded(self) -> None:
        if self._since is None:  # the common case, without taking the lock
            return
        with self._lock:
            if self._since is None:
                return
            lasted = time.monotonic() - self._since
            self._since = None
        log.warning("database outage ended after %.1f s", lasted)
