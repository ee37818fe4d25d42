"""The console's "verify the log": the whole log recomputed and every checkpoint checked, as
`idp audit verify` does, in a thread of the node that was asked, with its progress written to
the database as it goes so that the auditor's next look, on any node, sees how far it got.

A run whose progress has not moved for `STALLED_AFTER` stopped with its node (restarted,
killed): the page says it was interrupted, and the auditor starts another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from admin.models import LogVerificationRun
from idp import events
from idp.keys.jose import SigningKey
from idp.ports import AccessLog
from idp.protocol.languages import translatable
from idp.storage.database import Database
from transparency.store import (
    current_tree_size,
    logged_entries,
    recorded_issuers,
    signed_checkpoints,
)
from transparency.verification import UnsignedTailAllowance, verify_log

log = logging.getLogger("admin.verification")

STALLED_AFTER = timedelta(minutes=2)
# A run's states as its page names them.
RUN_STATES = (
    translatable("running"),
    translatable("interrupted"),
    translatable("intact"),
    translatable("damaged"),
)
# A sequencer turn may commit between reading the checkpoints and reading the entries: the
# newest entries may then be unsigned for a few intervals (as `idp audit verify` allows).
UNSIGNED_TAIL_AGE = timedelta(minutes=1)


@dataclass(frozen=True)
class VerificationSetup:
    database: Database
    access_log: AccessLog
    keys: Callable[[], Sequence[SigningKey]]
    issuer: str
    clock: Callable[[], datetime]


def start_run(session: Session, *, started_by: str, now: datetime) -> LogVerificationRun:
    run = LogVerificationRun(
        started_by=started_by,
        started_at=now,
        entries_total=current_tree_size(session),
        entries_checked=0,
        progressed_at=now,
    )
    session.add(run)
    session.flush()
    return run


def run_state(run: LogVerificationRun, *, now: datetime) -> str:
    """running, interrupted, intact or damaged."""
    if run.finished_at is not None:
        return run.outcome or "damaged"
    return "interrupted" if now - run.progressed_at > STALLED_AFTER else "running"


def recent_runs(session: Session, *, limit: int = 5) -> list[LogVerificationRun]:
    statement = select(LogVerificationRun).order_by(LogVerificationRun.id.desc()).limit(limit)
    return list(session.scalars(statement))


def verify_in_background(setup: VerificationSetup, run_id: int) -> threading.Thread:
    thread = threading.Thread(
        target=run_verification, args=(setup, run_id), name=f"verify-log-{run_id}", daemon=True
    )
    thread.start()
    return thread


def run_verification(setup: VerificationSetup, run_id: int) -> None:
    """Verify the log for run `run_id` and record how it ended (and the event, same transaction)."""
    try:
        _verify(setup, run_id)
    except Exception:  # the page must show an end, whatever happened
        log.exception("log verification run %s failed", run_id)
        with setup.database.unit_of_work() as session:
            _finish(
                session,
                setup,
                run_id,
                intact=False,
                entries=0,
                tree_size=0,
                summary="The verification stopped on an internal error; see the gateway's log.",
            )


def _verify(setup: VerificationSetup, run_id: int) -> None:
    def progress(checked: int) -> None:
        with setup.database.unit_of_work() as progress_session:
            progress_session.execute(
                update(LogVerificationRun)
                .where(LogVerificationRun.id == run_id)
                .values(entries_checked=checked, progressed_at=setup.clock())
            )

    with setup.database.unit_of_work() as session:
        report = verify_log(
            logged_entries(session),
            signed_checkpoints(session),
            keys=setup.keys(),
            issuer=setup.issuer,
            recorded_issuers=recorded_issuers(session),
            unsigned_tail=UnsignedTailAllowance(now=setup.clock(), max_age=UNSIGNED_TAIL_AGE),
            progress=progress,
        )
    if report.damage is None:
        summary = (
            f"{report.entries_checked} entries and {report.checkpoints_checked} signed "
            f"checkpoints checked; tree size {report.tree_size}, root {report.root_hash}."
        )
    else:
        where = (
            f" at entry {report.damage.log_index}" if report.damage.log_index is not None else ""
        )
        summary = f"Damaged ({report.damage.kind}){where}: {report.damage.message}"
    with setup.database.unit_of_work() as session:
        _finish(
            session,
            setup,
            run_id,
            intact=report.ok,
            entries=report.entries_checked,
            tree_size=report.tree_size,
            summary=summary[:2000],
        )


def _finish(
    session: Session,
    setup: VerificationSetup,
    run_id: int,
    *,
    intact: bool,
    entries: int,
    tree_size: int,
    summary: str,
) -> None:
    run = session.get(LogVerificationRun, run_id)
    if run is None:
        return
    now = setup.clock()
    run.entries_checked, run.finished_at, run.progressed_at = entries, now, now
    run.outcome, run.summary = ("intact" if intact else "damaged"), summary
    event = events.access_log_verified(
        operator=run.started_by,
        intact=intact,
        entries=entries,
        tree_size=tree_size,
        damage=None if intact else summary,
    )
    setup.access_log.record(session, event.occurred(now))
