"""What every route needs, kept on the FastAPI app, and the per-request operation context."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request

from idp.authentication.passwords import PasswordChecker
from idp.oauth.context import OperationContext, Provider
from idp.sign_out.worker import SignOutWorker
from idp.storage.database import Database, Turn
from idp.web.pages import PageRenderer
from idp.web.source_address import source_address

T = TypeVar("T")


@dataclass(frozen=True)
class WebState:
    database: Database
    provider: Provider
    pages: PageRenderer
    password_checker: PasswordChecker
    discovery_document: bytes
    # Woken when a request ended a session, to send its logout tokens at once.
    sign_out: SignOutWorker
    # The back channel's units of work (run_unit_of_work, ADR 0023).
    unit_of_work_threads: ThreadPoolExecutor

    @property
    def secure_cookies(self) -> bool:
        return self.provider.settings.is_https


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def request_id(request: Request) -> str:
    existing: str | None = getattr(request.state, "request_id", None)
    if existing is None:
        existing = uuid.uuid4().hex
        request.state.request_id = existing
    return existing


@contextmanager
def operation(request: Request) -> Iterator[OperationContext]:
    """One unit of work for one request; it commits before the response is sent."""
    with operation_context(
        web_state(request),
        request_id=request_id(request),
        peer=request.client.host if request.client else None,
        forwarded_for=request.headers.getlist("x-forwarded-for"),
    ) as ctx:
        yield ctx


@contextmanager
def operation_context(
    state: WebState,
    *,
    request_id: str,
    peer: str | None,
    forwarded_for: list[str],
    single_write: bool = False,
) -> Iterator[OperationContext]:
    """`operation` for a request read without Starlette (idp.web.back_channel); `single_write`
    as `Database.unit_of_work` has it."""
    with state.database.unit_of_work(single_write=single_write) as session:
        yield OperationContext(
            provider=state.provider,
            session=session,
            request_id=request_id,
            # X-Forwarded-For only as far as trusted proxies vouch for it (RFC 9700 4.13).
            source_address=source_address(
                peer, forwarded_for, state.provider.settings.trusted_proxies
            ),
            now=state.provider.clock(),
        )


def unit_of_work_threads(database: Database, request_threads: int) -> ThreadPoolExecutor:
    """The threads that run the back channel's units of work, first come first served.

    SQLite takes one writer at a time, so more than one thread only queues on its lock, in no
    particular order, and contends for the GIL: one thread, whose queue is FIFO, keeps the
    latency of the last request in line with the first's (ADR 0023). A server database
    overlaps round trips, so it gets `request_threads`, as many as the connection pool holds.
    """
    count = 1 if database.engine.dialect.name == "sqlite" else request_threads
    return ThreadPoolExecutor(max_workers=count, thread_name_prefix="unit-of-work")


# How long the event loop may wait for this process's turn at SQLite before the work goes to a
# thread instead: other units of work hold it for a few milliseconds (ADR 0025).
LOOP_WAITS_AT_MOST = 0.05


async def run_unit_of_work(state: WebState, work: Callable[[], T]) -> T:
    """Run `work` (which opens a unit of work): on SQLite right here on the event loop (ADR
    0028), unless another unit of work keeps the turn too long; else in one of the back
    channel's threads, each with its pooled connection, first come first served (ADR 0023)."""
    answer = state.database.run_in_this_thread(work, wait_at_most=LOOP_WAITS_AT_MOST)
    if answer is not Turn.BUSY:
        return answer
    return await asyncio.get_running_loop().run_in_executor(state.unit_of_work_threads, work)
