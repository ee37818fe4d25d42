"""The back channel's units of work on SQLite run on the event loop when this process's turn is
free, and in the back channel's thread when another unit of work keeps it (ADR 0028); on
PostgreSQL always in the thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from types import SimpleNamespace
from typing import cast

from sqlalchemy import func, select

from idp.models import IssuedToken
from idp.storage.database import Database, Turn
from idp.storage.pending_inserts import insert_at_commit
from idp.web.state import LOOP_WAITS_AT_MOST, WebState, run_unit_of_work
from tests.idp.storage.rows import TOKENS, token_row


@contextmanager
def _turn_kept_by_another_thread(database: Database) -> Iterator[threading.Event]:
    """Another thread's unit of work holds the turn until the block ends or sets the event."""
    taken, release = threading.Event(), threading.Event()

    def keep_the_turn() -> None:
        with database.unit_of_work():
            taken.set()
            release.wait(10)

    keeper = threading.Thread(target=keep_the_turn)
    keeper.start()
    try:
        assert taken.wait(10)
        yield release
    finally:
        release.set()
        keeper.join(10)


def _token_count(database: Database) -> int:
    with database.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(IssuedToken)) or 0)


def test_work_runs_in_the_calling_thread_on_sqlite_and_never_on_postgresql(
    migrated_database: Database,
) -> None:
    database = migrated_database
    threads: list[int] = []

    def work() -> str:
        threads.append(threading.get_ident())
        with database.unit_of_work() as session:  # the turn is taken again, by the same thread
            insert_at_commit(session, TOKENS, token_row("jti-here"))
        return "done"

    answer = database.run_in_this_thread(work, wait_at_most=1.0)
    if database.engine.dialect.name == "sqlite":
        assert answer == "done"
        assert threads == [threading.get_ident()]
        assert _token_count(database) == 1
    else:
        assert answer is Turn.BUSY
        assert threads == []
        assert _token_count(database) == 0


def test_a_turn_kept_longer_than_the_wait_leaves_the_work_undone(
    migrated_database: Database,
) -> None:
    database = migrated_database
    ran: list[bool] = []
    with _turn_kept_by_another_thread(migrated_database):
        answer = database.run_in_this_thread(lambda: ran.append(True), wait_at_most=0.01)
    assert answer is Turn.BUSY
    assert ran == []


def _thread_of_a_unit_of_work(database: Database) -> int:
    with database.unit_of_work():
        return threading.get_ident()


def _state(database: Database, threads: ThreadPoolExecutor) -> WebState:
    # run_unit_of_work reads only these two of the app's state.
    return cast(WebState, SimpleNamespace(database=database, unit_of_work_threads=threads))


def test_the_back_channel_runs_its_work_on_the_loop_while_the_turn_is_free(
    migrated_database: Database,
) -> None:
    database = migrated_database
    with ThreadPoolExecutor(max_workers=1) as threads:
        state = _state(database, threads)

        async def both() -> tuple[int, int]:
            loop_thread = threading.get_ident()
            ran_in = await run_unit_of_work(state, lambda: _thread_of_a_unit_of_work(database))
            return loop_thread, ran_in

        loop_thread, ran_in = asyncio.run(both())
    if database.engine.dialect.name == "sqlite":
        assert ran_in == loop_thread
    else:
        assert ran_in != loop_thread


def test_the_back_channel_hands_its_work_to_its_thread_while_another_keeps_the_turn(
    migrated_database: Database,
) -> None:
    database = migrated_database
    with (
        ThreadPoolExecutor(max_workers=1) as threads,
        _turn_kept_by_another_thread(database) as release,
    ):
        state = _state(database, threads)

        async def while_kept() -> tuple[int, int]:
            loop_thread = threading.get_ident()
            pending = asyncio.ensure_future(
                run_unit_of_work(state, lambda: _thread_of_a_unit_of_work(database))
            )
            # On SQLite the loop waited LOOP_WAITS_AT_MOST for the turn, then queued the work in
            # the thread, where it waits for the keeper to let go.
            await asyncio.sleep(LOOP_WAITS_AT_MOST * 2)
            if database.engine.dialect.name == "sqlite":
                assert not pending.done()
            release.set()
            return loop_thread, await asyncio.wait_for(pending, 10)

        loop_thread, ran_in = asyncio.run(while_kept())
    assert ran_in != loop_thread
