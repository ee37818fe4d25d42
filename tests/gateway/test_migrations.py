"""One linear migration history that upgrades and downgrades on both engines and matches the
models exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Engine,
    String,
    column,
    create_engine,
    insert,
    inspect,
    select,
    table,
    text,
)

import consent.models  # noqa: F401
import idp.models
import idp.sign_out.models  # noqa: F401
import transparency.models  # noqa: F401
from gateway.schema import alembic_config, downgrade_database, upgrade_database
from idp.keys.jose import generate_signing_key
from idp.ports import AccessEvent
from idp.storage.database import Base, Database, UtcDateTime
from transparency.access_log import DatabaseAccessLog
from transparency.checkpoints import sign_checkpoint
from transparency.merkle import CompactRange
from transparency.models import FIRST_STORED_NODE_LEVEL, AccessEventRecord
from transparency.sequencer import sequence_pending
from transparency.store import logged_entries, recorded_issuers, signed_checkpoints
from transparency.verification import AuditReport, verify_log

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
            sequence_pending(
                session, key=KEY, verification_keys=[KEY], issuer="https://id.example.gov", now=NOW
            )
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


OLD_QUEUE = table(  # access_log_queue as 0002 to 0004 have it
    "access_log_queue",
    column("occurred_at", UtcDateTime()),
    column("event_type", String),
    column("actor_type", String),
    column("actor_id", String),
    column("subject", String),
    column("client_id", String),
    column("outcome", String),
    column("request_id", String),
    column("source_address", String),
    column("claims_released", JSON),
    column("purpose", String),
    column("detail", JSON),
)
OLD_ROW = {
    "occurred_at": datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC),
    "event_type": "userinfo.answered",
    "actor_type": "client",
    "actor_id": "agency-1",
    "subject": "citizen-1",
    "client_id": "agency-1",
    "outcome": "success",
    "request_id": "req-1",
    "source_address": "192.0.2.7",
    "claims_released": ["email", "name"],
    "purpose": None,
    "detail": {"scope": "openid email", "ä": "ö"},
}


def test_queued_entries_keep_every_field_across_0005(empty_database_url: str) -> None:
    """0005 turns the queue's public columns into one document and back; an entry queued
    before the upgrade is sealed with exactly the fields it was queued with."""
    upgrade_database(empty_database_url, "0004")
    engine = create_engine(empty_database_url)
    database = Database(engine)
    try:
        with engine.begin() as connection:
            connection.execute(insert(OLD_QUEUE), [OLD_ROW])
        upgrade_database(empty_database_url)
        with database.unit_of_work() as session:
            sequence_pending(
                session, key=KEY, verification_keys=[KEY], issuer="https://id.example.gov", now=NOW
            )
        with database.unit_of_work() as session:
            sealed = session.execute(select(AccessEventRecord)).scalar_one()
            assert {name: getattr(sealed, name) for name in OLD_ROW} == OLD_ROW
            report = verify_log(
                logged_entries(session),
                signed_checkpoints(session),
                keys=[KEY],
                issuer="https://id.example.gov",
            )
        assert report.ok, report

        event = AccessEvent(**{**OLD_ROW, "claims_released": ("email", "name")})
        with database.unit_of_work() as session:
            DatabaseAccessLog().record(session, event)
        downgrade_database(empty_database_url, "0004")
        with engine.connect() as connection:
            assert dict(connection.execute(select(OLD_QUEUE)).mappings().one()) == OLD_ROW
    finally:
        engine.dispose()


OLD_ISSUER, NEW_ISSUER = "https://id.example.gov", "https://new.id.example.gov"


def test_0007_records_each_checkpoints_issuer_and_the_changes_nothing_recorded(
    empty_database_url: str,
) -> None:
    """Before 0007 a node could start under another issuer without a trace: the upgrade fills
    log_checkpoints.issuer from each payload and queues an issuer.moved entry for each change,
    after which the whole log verifies."""
    upgrade_database(empty_database_url)
    engine = create_engine(empty_database_url)
    database = Database(engine)
    try:
        for first in (0, 3):
            with database.unit_of_work() as session:
                for number in range(first, first + 3):
                    DatabaseAccessLog().record(session, _sample_event(number))
            with database.unit_of_work() as session:
                sequence_pending(
                    session, key=KEY, verification_keys=[KEY], issuer=OLD_ISSUER, now=NOW
                )
        # The checkpoint of 6 entries as a node under the new issuer signed it.
        with engine.begin() as connection:
            root = connection.execute(
                text("SELECT root_hash FROM log_checkpoints WHERE tree_size = 6")
            ).scalar_one()
            resigned = sign_checkpoint(
                key=KEY, issuer=NEW_ISSUER, tree_size=6, root_hash=root, now=NOW
            )
            connection.execute(
                text("UPDATE log_checkpoints SET signed = :s WHERE tree_size = 6"), {"s": resigned}
            )
        downgrade_database(empty_database_url, "0006")
        upgrade_database(empty_database_url)
        with engine.connect() as connection:
            issuers = dict(
                connection.execute(text("SELECT tree_size, issuer FROM log_checkpoints")).all()
            )
            queued = connection.execute(text("SELECT public_fields FROM access_log_queue"))
            records = [json.loads(document) for (document,) in queued]
        assert issuers == {3: OLD_ISSUER, 6: NEW_ISSUER}
        assert [(r["event_type"], r["detail"]) for r in records] == [
            ("issuer.moved", {"from": OLD_ISSUER, "to": NEW_ISSUER, "tree_size": 6})
        ]
        assert _verified(database, NEW_ISSUER).damage is not None  # the record is still queued
        with database.unit_of_work() as session:
            sequence_pending(session, key=KEY, verification_keys=[KEY], issuer=NEW_ISSUER, now=NOW)
        report = _verified(database, NEW_ISSUER)
        assert report.ok and report.issuers == [OLD_ISSUER, NEW_ISSUER], report.damage
    finally:
        engine.dispose()


def _verified(database: Database, issuer: str) -> AuditReport:
    with database.unit_of_work() as session:
        return verify_log(
            logged_entries(session),
            signed_checkpoints(session),
            keys=[KEY],
            issuer=issuer,
            recorded_issuers=recorded_issuers(session),
        )
