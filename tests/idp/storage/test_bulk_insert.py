"""Rows inserted through the driver read back exactly as rows SQLAlchemy inserted, on both
engines, and a violated constraint raises SQLAlchemy's own exception."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError

from idp.storage.bulk_insert import insert_rows, needs_conversion
from idp.storage.database import Database
from transparency.models import AccessEventRecord, LogNode

ENTRIES = cast(Table, AccessEventRecord.__table__)
NODES = cast(Table, LogNode.__table__)


def entry(index: int, **changes: Any) -> dict[str, Any]:
    return {
        "occurred_at": datetime(2026, 11, 29, 12, 0, 0, index, tzinfo=UTC),
        "event_type": "userinfo.answered",
        "actor_type": "client",
        "actor_id": "agency-1",
        "subject": None if index % 2 else f"citizen-{index}",
        "client_id": "agency-1",
        "outcome": "success",
        "request_id": f"req-{index}",
        "source_address": "192.0.2.1",
        "claims_released": ["email", "name"],
        "purpose": "Ümlauts and “quotes” survive",
        "detail": {"nested": {"n": index}, "list": [1, None, "x"]},
        "personal_salt": "00" * 16,
        "personal_commitment": "ab" * 32,
        "content_hash": "cd" * 32,
        "log_index": index,
        "leaf_hash": "ef" * 32,
        **changes,
    }


def stored(database: Database) -> list[dict[str, Any]]:
    columns = [ENTRIES.c[name] for name in entry(0)]
    with database.unit_of_work() as session:
        rows = session.execute(select(*columns).order_by(ENTRIES.c.log_index)).mappings()
        return [dict(row) for row in rows]


def test_driver_rows_read_back_like_sqlalchemy_rows(migrated_database: Database) -> None:
    with migrated_database.unit_of_work() as session:
        session.execute(insert(ENTRIES), [entry(0), entry(1)])
    by_sqlalchemy = stored(migrated_database)
    with migrated_database.unit_of_work() as session:
        session.execute(ENTRIES.delete())
    with migrated_database.unit_of_work() as session:
        insert_rows(session.connection(), ENTRIES, [entry(0), entry(1)])
    assert stored(migrated_database) == by_sqlalchemy
    assert by_sqlalchemy[0]["occurred_at"] == entry(0)["occurred_at"]


def test_a_violated_constraint_raises_sqlalchemys_exception(migrated_database: Database) -> None:
    with migrated_database.unit_of_work() as session:
        insert_rows(session.connection(), NODES, [{"level": 4, "index": 0, "hash": "00" * 32}])
    with pytest.raises(IntegrityError), migrated_database.unit_of_work() as session:
        insert_rows(session.connection(), NODES, [{"level": 4, "index": 0, "hash": "11" * 32}])


def test_only_columns_that_convert_values_need_sqlalchemy(migrated_database: Database) -> None:
    dialect = migrated_database.engine.dialect
    assert not needs_conversion(NODES, ("level", "index", "hash"), dialect)
    assert needs_conversion(ENTRIES, ("occurred_at", "event_type"), dialect)
    assert needs_conversion(ENTRIES, ("detail",), dialect)
