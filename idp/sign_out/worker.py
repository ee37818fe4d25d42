"""The background work of sign-out in each gateway process: a turn every
IDP_LOGOUT_DELIVERY_INTERVAL ends expired sessions and delivers the logout tokens that are due.
A sign-out in this process wakes it at once, so an app is told within moments, not a turn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from anyio import to_thread

from idp.oauth.context import Provider
from idp.sign_out.expiry import end_expired_sessions
from idp.sign_out.outbox import DeliveryTurn, background_context, deliver_due
from idp.storage.database import Database
from idp.storage.outage import is_database_unavailable

log = logging.getLogger("gateway.sign_out")


@dataclass(frozen=True)
class SignOutTurn:
    sessions_ended: int
    deliveries: DeliveryTurn


def sign_out_turn(
    database: Database, provider: Provider, http: httpx.Client, *, clock: Callable[[], datetime]
) -> SignOutTurn:
    with database.unit_of_work() as session:
        ended = end_expired_sessions(background_context(provider, session, clock()))
    return SignOutTurn(
        sessions_ended=ended, deliveries=deliver_due(database, provider, http, clock=clock)
    )


def delivery_client(provider: Provider) -> httpx.Client:
    return httpx.Client(
        timeout=provider.settings.logout_delivery_timeout.total_seconds(),
        headers={"User-Agent": "citizen-identity-gateway logout"},
    )


class SignOutWorker:
    def __init__(self, database: Database, provider: Provider) -> None:
        self._database = database
        self._provider = provider
        # Both belong to the loop that runs the worker: an application can be started more than
        # once (each test client brings its own loop), and an Event is bound to its first loop.
        self._waiting: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def wake(self) -> None:
        """Ask for a turn now; safe from any thread."""
        waiting = self._waiting
        if waiting is not None:
            loop, event = waiting
            with contextlib.suppress(RuntimeError):  # that loop has closed: nothing to wake
                loop.call_soon_threadsafe(event.set)

    async def run(self) -> None:
        wake = asyncio.Event()
        self._waiting = (asyncio.get_running_loop(), wake)
        interval = self._provider.settings.logout_delivery_interval.total_seconds()
        with delivery_client(self._provider) as http:
            while True:
                wake.clear()
                try:
                    await to_thread.run_sync(
                        lambda: sign_out_turn(
                            self._database, self._provider, http, clock=self._provider.clock
                        )
                    )
                except Exception as error:  # the next turn tries again
                    # An outage is logged once by the database, not at every turn.
                    if not is_database_unavailable(error):
                        log.exception("sign-out turn failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=interval)
