"""One linear migration history that upgrades and downgrades on both engines and matches the
models exactly."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

import consent.models  # noqa: F401
import idp.models  # noqa: F401
from consent.access_log import DatabaseAccessLog
from consent.merkle import CompactRange
from consent.models import FIRST_STORED_NODE_LEVEL
from consent.sequencer import sequence_pending
from gateway.schema import alembic_config, downgrade_database, upgrade_database
from idp.database import Base, Database
from idp.jose import generate_signing_key
from idp.ports import AccessEvent

KEY = generate_signing_key(alg="ES256", kid="migration-test")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_history_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert all(len(r.nextrev) <= 1 for r in script.walk_revisions())


def test_upgrade_matches_models_and_downgrades(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        downgrade_database(empty_database_url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade_database(empty_database_url)
        assert "issued_tokens" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_small_subtrees_come_back_on_downgrade_and_go_on_upgrade(empty_database_url: str) -> None:
    """0004 drops log_nodes below FIRST_STORED_NODE_LEVEL; its downgrade rebuilds them from the
    leaf hashes exactly as the earlier sequencer stored them."""
    upgrade_database(empty_database_url)
    engine = create_engine(empty_database_url)
    database = Database(engine)
    try:
        with database.unit_of_work() as session:
            for number in range(37):
                DatabaseAccessLog().record(session, _sample_event(number))
        with database.unit_of_work() as session:
            sequence_pending(session, key=KEY, issuer="https://id.example.gov", now=NOW)
        large = _nodes(engine)
        assert large and min(level for level, _, _ in large) == FIRST_STORED_NODE_LEVEL

        downgrade_database(empty_database_url, "0003")
        with engine.connect() as connection:
            leaves = connection.execute(
                text("SELECT leaf_hash FROM access_events ORDER BY log_index")
            ).scalars()
            compact = CompactRange()
            expected = {
                (level, index, value.hex())
                for leaf in leaves
                for level, index, value in compact.append(bytes.fromhex(leaf))
            }
        assert _nodes(engine) == expected  # every level again, as 0003's code reads them

        upgrade_database(empty_database_url)
        assert _nodes(engine) == large
    finally:
        engine.dispose()


def _nodes(engine: Engine) -> set[tuple[int, int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(text('SELECT level, "index", hash FROM log_nodes'))
        return {(int(level), int(index), value) for level, index, value in rows}


def _sample_event(number: int) -> AccessEvent:
    return AccessEvent(
        event_type="test.appended",
        occurred_at=NOW,
        actor_type="system",
        actor_id="migration-test",
        outcome="success",
        detail={"n": number},
    )
