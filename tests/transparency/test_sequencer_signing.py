"""The sequencer signs only a tree that extends the log's newest signed checkpoint, under that
checkpoint's issuer; `move_issuer` changes the issuer with an entry placed at once. On SQLite
and PostgreSQL, below HTTP (the operator's commands are driven in test_access_log.py and
test_issuer_move.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from idp.keys.jose import generate_signing_key
from idp.ports import AccessEvent
from idp.storage.database import Database
from transparency.access_log import DatabaseAccessLog
from transparency.checkpoints import sign_checkpoint
from transparency.sequencer import (
    BatchTakenMeanwhile,
    IssuerMismatch,
    SequencingRefused,
    move_issuer,
    read_queued,
    seal_batch,
    sequence_everything,
    sequence_pending,
)
from transparency.store import logged_entries, recorded_issuers, signed_checkpoints
from transparency.verification import verify_log

KEY = generate_signing_key(alg="ES256", kid="sequencer-test")
ISSUER, NEW_ISSUER = "https://id.example.gov", "https://new.id.example.gov"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _queue(database: Database, count: int) -> None:
    with database.unit_of_work() as session:
        for number in range(count):
            DatabaseAccessLog().record(
                session,
                AccessEvent(
                    event_type="test.appended",
                    occurred_at=NOW,
                    actor_type="system",
                    actor_id="sequencer-test",
                    outcome="success",
                    detail={"n": number},
                ),
            )


def _turn(database: Database, issuer: str = ISSUER) -> int:
    with database.unit_of_work() as session:
        result = sequence_pending(session, key=KEY, verification_keys=[KEY], issuer=issuer, now=NOW)
    return result.tree_size


def _execute(database: Database, statement: str, **params: object) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(statement), params)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda db: _execute(db, "DELETE FROM log_checkpoints"), "no signed checkpoint"),
        (
            lambda db: _execute(db, "DELETE FROM log_checkpoints WHERE tree_size = 5"),
            "not the one the newest checkpoint signed",
        ),
        (
            lambda db: _execute(
                db,
                "UPDATE log_checkpoints SET signed = :forged WHERE tree_size = 5",
                forged=sign_checkpoint(
                    key=generate_signing_key(alg="ES256", kid=KEY.kid),
                    issuer=ISSUER,
                    tree_size=5,
                    root_hash="00" * 32,
                    now=NOW,
                ),
            ),
            "not valid",
        ),
        (
            lambda db: _execute(
                db, "UPDATE log_state SET frontier = :f", f=f'["{"11" * 32}", "{"22" * 32}"]'
            ),
            "not the one the newest checkpoint signed",
        ),
    ],
    ids=["checkpoints removed", "newest removed", "newest forged", "tree rewritten"],
)
def test_the_sequencer_does_not_sign_a_tree_its_newest_checkpoint_did_not(
    migrated_database: Database, tamper: Callable[[Database], None], reason: str
) -> None:
    _queue(migrated_database, 4)
    assert _turn(migrated_database) == 4
    _queue(migrated_database, 1)
    assert _turn(migrated_database) == 5
    tamper(migrated_database)
    _queue(migrated_database, 1)
    with pytest.raises(SequencingRefused, match=reason):
        _turn(migrated_database)
    with migrated_database.engine.connect() as connection:
        queued = connection.execute(text("SELECT count(*) FROM access_log_queue")).scalar_one()
    assert queued == 1  # kept for when the log is put right


def test_a_move_is_placed_at_once_and_signed_under_the_new_issuer(
    migrated_database: Database,
) -> None:
    _queue(migrated_database, 3)
    assert _turn(migrated_database) == 3
    _queue(migrated_database, 2)  # queued before the move, placed after it
    with migrated_database.unit_of_work() as session:
        move = move_issuer(
            session,
            to_issuer=NEW_ISSUER,
            actor_id="operator",
            key=KEY,
            verification_keys=[KEY],
            now=NOW,
        )
    assert (move.from_issuer, move.to_issuer, move.log_index) == (ISSUER, NEW_ISSUER, 3)
    with pytest.raises(IssuerMismatch) as refused:
        _turn(migrated_database)  # a node still under the old issuer
    assert (refused.value.log_issuer, refused.value.node_issuer) == (NEW_ISSUER, ISSUER)
    assert _turn(migrated_database, NEW_ISSUER) == 6
    with migrated_database.unit_of_work() as session:
        issuers = dict(session.execute(text("SELECT tree_size, issuer FROM log_checkpoints")).all())
        report = verify_log(
            logged_entries(session),
            signed_checkpoints(session),
            keys=[KEY],
            issuer=NEW_ISSUER,
            recorded_issuers=recorded_issuers(session),
        )
    assert issuers == {3: ISSUER, 4: NEW_ISSUER, 6: NEW_ISSUER}
    assert report.ok and report.issuers == [ISSUER, NEW_ISSUER], report.damage
    with migrated_database.unit_of_work() as session, pytest.raises(SequencingRefused):
        move_issuer(
            session,
            to_issuer=NEW_ISSUER,
            actor_id="operator",
            key=KEY,
            verification_keys=[KEY],
            now=NOW,
        )


def test_a_batch_sealed_ahead_is_placed_only_while_every_row_is_still_queued(
    migrated_database: Database,
) -> None:
    """The sequencer seals a batch before it takes the tree's lock (ADR 0025). If another
    process placed some of those rows meanwhile, the turn places none of them twice: it is
    rolled back and `sequence_everything` reads what is left."""
    _queue(migrated_database, 3)
    with migrated_database.unit_of_work() as session:
        stale = seal_batch(read_queued(session, 10), 10)
    assert _turn(migrated_database) == 3  # another node's turn places the same three
    _queue(migrated_database, 2)
    with migrated_database.unit_of_work() as session:
        fresh = seal_batch(read_queued(session, 10), 10)
    with pytest.raises(BatchTakenMeanwhile), migrated_database.unit_of_work() as session:
        sequence_pending(
            session, key=KEY, verification_keys=[KEY], issuer=ISSUER, now=NOW, sealed=stale
        )
    result = sequence_everything(
        migrated_database,
        key=lambda: KEY,
        verification_keys=lambda: [KEY],
        issuer=ISSUER,
        clock=lambda: NOW,
    )
    assert (len(fresh.entries), result.tree_size, result.more_pending) == (2, 5, False)
    with migrated_database.unit_of_work() as session:
        report = verify_log(
            logged_entries(session), signed_checkpoints(session), keys=[KEY], issuer=ISSUER
        )
        queued = session.execute(text("SELECT count(*) FROM access_log_queue")).scalar_one()
    assert report.ok and report.entries_checked == 5 and queued == 0, report.damage
