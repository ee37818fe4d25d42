"""Telling an unreachable database from a bug, and logging an outage once at each end."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from sqlalchemy import exc

from idp.storage.outage import OutageLog, describe, is_database_unavailable

STATEMENT = "SELECT * FROM clients WHERE secret_digest = ?"
PARAMETERS = ("a-secret-digest",)


def _wrapped(error: Exception) -> exc.DBAPIError:
    wrapped = exc.DBAPIError.instance(STATEMENT, PARAMETERS, error, sqlite3.Error)
    assert isinstance(wrapped, exc.DBAPIError)
    return wrapped


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("unable to open database file"),
        sqlite3.OperationalError("disk I/O error"),
    ],
)
def test_sqlite_operational_errors_mean_unavailable(error: Exception) -> None:
    wrapped = _wrapped(error)
    assert isinstance(wrapped, exc.OperationalError)
    assert is_database_unavailable(wrapped)


def test_pool_timeouts_and_invalidated_connections_mean_unavailable() -> None:
    assert is_database_unavailable(exc.TimeoutError("QueuePool limit reached"))
    assert is_database_unavailable(exc.DisconnectionError("pre-ping failed"))
    lost = exc.DBAPIError.instance(
        STATEMENT, PARAMETERS, sqlite3.DatabaseError("gone"), sqlite3.Error,
        connection_invalidated=True,
    )  # fmt: skip
    assert is_database_unavailable(lost)


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.IntegrityError("UNIQUE constraint failed: clients.client_id"),
        sqlite3.ProgrammingError("Incorrect number of bindings supplied"),
        sqlite3.DataError("string or blob too big"),
        sqlite3.InterfaceError("Error binding parameter 1"),
    ],
)
def test_programming_errors_stay_server_errors(error: Exception) -> None:
    assert not is_database_unavailable(_wrapped(error))
    assert not is_database_unavailable(ValueError("not a database error"))
    assert not is_database_unavailable(exc.ArgumentError("bad engine argument"))


def test_the_description_holds_no_statement_and_no_parameters() -> None:
    text = describe(_wrapped(sqlite3.OperationalError("database is locked\nmore detail")))
    assert text == "OperationalError: database is locked"
    assert "secret" not in text and "SELECT" not in text


def test_an_outage_is_logged_once_when_it_begins_and_once_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outage = OutageLog()
    locked = _wrapped(sqlite3.OperationalError("database is locked"))
    with caplog.at_level(logging.WARNING, logger="idp.storage.database"):
        outage.succeeded()  # no outage yet: nothing to say
        for _ in range(3):
            outage.failed(locked)
        assert outage.in_outage
        for _ in range(3):
            outage.succeeded()
        assert not outage.in_outage
        outage.failed(locked)
    messages = [record.getMessage() for record in caplog.records]
    assert [m.split(":")[0].split(" after")[0] for m in messages] == [
        "database outage began",
        "database outage ended",
        "database outage began",
    ]
    assert messages[0] == "database outage began: OperationalError: database is locked"
