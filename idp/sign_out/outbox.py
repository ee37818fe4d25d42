"""The outbox of back-channel logout tokens: claiming what is due, sending it, and recording how
each attempt went.

Rows are written by idp.sign_out.ending in the transaction that ends the session, so a logout
that committed always has its deliveries and one that rolled back has none. Any gateway process
may deliver: a claim is a conditional UPDATE that moves `next_attempt_at` a lease ahead, which
only one process can win, and it is committed before the token is sent. A process that dies
while sending leaves the row to be claimed again when the lease ends, so an app may get one
token twice, with the same `jti` (section 2.6 lets it detect that), and never none.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from idp import events
from idp.oauth.context import OperationContext, Provider
from idp.redirect_uris import may_post_logout_tokens_to
from idp.sign_out.logout_tokens import sign_logout_token
from idp.sign_out.models import LogoutDelivery
from idp.storage.database import Database

PENDING, DELIVERED, GIVEN_UP = "pending", "delivered", "given_up"
DELIVERY_STATES = (PENDING, DELIVERED, GIVEN_UP)
# Deliveries one process claims, and sends at once, per turn; the rest wait for the next turn or
# another process.
CLAIMS_PER_TURN = 20


@dataclass(frozen=True)
class Claimed:
    id: int
    jti: str
    client_id: str
    subject: str
    sid: str
    attempt: int  # this attempt's number, from 1
    created_at: datetime


@dataclass(frozen=True)
class Attempt:
    accepted: bool
    status: int | None
    problem: str | None  # what went wrong, in a few words, when not accepted
    sent_to: str | None = None  # the URI posted to, when one was


def retry_wait(attempt: int, *, first: timedelta, longest: timedelta) -> timedelta:
    """The wait after failed attempt number `attempt`: first, then doubling, at most longest."""
    doubled: timedelta = first * (2 ** min(attempt - 1, 30))
    return min(doubled, longest)


def claim_due(session: Session, *, now: datetime, lease: timedelta) -> list[Claimed]:
    candidates = session.scalars(
        select(LogoutDelivery)
        .where(LogoutDelivery.state == PENDING, LogoutDelivery.next_attempt_at <= now)
        .order_by(LogoutDelivery.next_attempt_at, LogoutDelivery.id)
        .limit(CLAIMS_PER_TURN)
    ).all()
    claimed: list[Claimed] = []
    for row in candidates:
        won = session.execute(
            update(LogoutDelivery)
            .where(LogoutDelivery.id == row.id, LogoutDelivery.state == PENDING)
            .where(LogoutDelivery.attempts == row.attempts, LogoutDelivery.next_attempt_at <= now)
            .values(next_attempt_at=now + lease, attempts=row.attempts + 1, last_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(
                Claimed(
                    id=row.id,
                    jti=row.jti,
                    client_id=row.client_id,
                    subject=row.subject,
                    sid=row.sid,
                    attempt=row.attempts + 1,
                    created_at=row.created_at,
                )
            )
    return claimed


def send_logout_token(http: httpx.Client, uri: str, token: str) -> Attempt:
    """POST the token as a form (section 2.5). Redirects are not followed: the registered URI is
    the only place the token may go."""
    try:
        answer = http.post(
            uri,
            data={"logout_token": token},
            headers={"Cache-Control": "no-store"},
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        return Attempt(accepted=False, status=None, problem="timed out", sent_to=uri)
    except httpx.HTTPError as error:
        return Attempt(accepted=False, status=None, problem=_network_problem(error), sent_to=uri)
    if 200 <= answer.status_code < 300:
        return Attempt(accepted=True, status=answer.status_code, problem=None, sent_to=uri)
    return Attempt(
        accepted=False, status=answer.status_code, problem=f"HTTP {answer.status_code}", sent_to=uri
    )


def _network_problem(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.ConnectError):
        return "could not connect"
    return type(error).__name__


def record_attempt(ctx: OperationContext, claimed: Claimed, attempt: Attempt) -> str:
    """Store the attempt's outcome and log it; returns the delivery's state after it. Does
    nothing when the claim was lost meanwhile (the lease ended and another process took it)."""
    settings = ctx.settings
    ours = (
        update(LogoutDelivery)
        .where(LogoutDelivery.id == claimed.id, LogoutDelivery.state == PENDING)
        .where(LogoutDelivery.attempts == claimed.attempt)
        .execution_options(synchronize_session=False)
    )
    facts = {"client_id": claimed.client_id, "subject": claimed.subject, "sid": claimed.sid}
    if attempt.accepted:
        state = DELIVERED
        values: dict[str, object] = {"state": state, "finished_at": ctx.now}
        event = events.logout_token_delivered(
            **facts, jti=claimed.jti, attempt=claimed.attempt, status=attempt.status or 200
        )
    elif ctx.now >= claimed.created_at + settings.logout_give_up_after:
        state = GIVEN_UP
        values = {"state": state, "finished_at": ctx.now}
        event = events.logout_token_given_up(
            **facts, jti=claimed.jti, attempts=claimed.attempt, problem=attempt.problem or ""
        )
    else:
        state = PENDING
        retry_at = ctx.now + retry_wait(
            claimed.attempt,
            first=settings.logout_retry_first,
            longest=settings.logout_retry_longest,
        )
        values = {"next_attempt_at": retry_at}
        event = events.logout_token_delivery_failed(
            **facts,
            jti=claimed.jti,
            attempt=claimed.attempt,
            problem=attempt.problem or "",
            retry_at=retry_at,
        )
    outcome = attempt.problem if attempt.problem else f"HTTP {attempt.status}"
    if attempt.sent_to is not None:
        values["uri"] = attempt.sent_to
    written = ctx.session.execute(ours.values(**values, last_outcome=outcome[:255]))
    if written.rowcount != 1:  # type: ignore[attr-defined]
        return PENDING
    ctx.record(event)
    return state


@dataclass
class DeliveryTurn:
    delivered: int = 0
    failed: int = 0
    given_up: int = 0


def deliver_due(
    database: Database, provider: Provider, http: httpx.Client, *, clock: Callable[[], datetime]
) -> DeliveryTurn:
    """One turn: claim what is due (committed), send each token, record each outcome."""
    settings = provider.settings
    # Long enough to send one token and record it; a process that stops meanwhile holds the
    # delivery back by no more than this.
    lease = settings.logout_delivery_timeout + timedelta(seconds=5)
    with database.unit_of_work() as session:
        claims = claim_due(session, now=clock(), lease=lease)
    if not claims:
        return DeliveryTurn()
    # All of a turn's deliveries at once: one app that is slow to answer holds back none of the
    # others, and each is sent within its lease, which covers one delivery and not a queue.
    with ThreadPoolExecutor(max_workers=len(claims), thread_name_prefix="logout") as senders:
        states = list(
            senders.map(
                lambda claimed: _deliver(database, provider, http, claimed, clock=clock), claims
            )
        )
    return DeliveryTurn(
        delivered=states.count(DELIVERED),
        failed=states.count(PENDING),
        given_up=states.count(GIVEN_UP),
    )


def _deliver(
    database: Database,
    provider: Provider,
    http: httpx.Client,
    claimed: Claimed,
    *,
    clock: Callable[[], datetime],
) -> str:
    """Send one claimed logout token and record the outcome; the delivery's state after it."""
    settings = provider.settings
    with database.unit_of_work() as session:
        client = provider.clients.find(session, claimed.client_id, now=clock())
    # The app's URI as registered now, not as it was when the session ended: an app that
    # moved its endpoint meanwhile is told at the new one.
    uri = client.backchannel_logout_uri if client is not None else None
    if client is None:
        attempt = Attempt(accepted=False, status=None, problem="the app is not registered")
    elif uri is None:
        attempt = Attempt(
            accepted=False, status=None, problem="the app has no back-channel logout URI now"
        )
    elif not may_post_logout_tokens_to(uri, issuer=settings.issuer):
        attempt = Attempt(accepted=False, status=None, problem="refused: the URI is on loopback")
    else:
        token = sign_logout_token(
            provider.keyring,
            issuer=settings.issuer,
            client_id=claimed.client_id,
            alg=client.id_token_signed_response_alg,
            subject=claimed.subject,
            sid=claimed.sid,
            jti=claimed.jti,
            now=clock(),
        )
        attempt = send_logout_token(http, uri, token)
    with database.unit_of_work() as session:
        ctx = background_context(provider, session, clock())
        return record_attempt(ctx, claimed, attempt)


def background_context(provider: Provider, session: Session, now: datetime) -> OperationContext:
    """The context of work no request asked for (deliveries, the expiry sweep)."""
    return OperationContext(
        provider=provider,
        session=session,
        request_id=f"background-{uuid.uuid4().hex}",
        source_address=None,
        now=now,
    )


@dataclass(frozen=True)
class DeliveryView:
    """One delivery as operators see it (`idp logout deliveries`, the console)."""

    jti: str
    client_id: str
    subject: str
    sid: str
    uri: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_outcome: str | None
    finished_at: datetime | None


def delivery_counts(session: Session) -> dict[str, int]:
    """How many deliveries are in each state."""
    rows = session.execute(
        select(LogoutDelivery.state, func.count()).group_by(LogoutDelivery.state)
    ).all()
    counts = dict.fromkeys(DELIVERY_STATES, 0)
    counts.update({state: int(count) for state, count in rows})
    return counts


def list_deliveries(
    session: Session, *, state: str | None = None, limit: int = 100
) -> list[DeliveryView]:
    """Newest first."""
    query = select(LogoutDelivery).order_by(LogoutDelivery.id.desc()).limit(limit)
    if state is not None:
        query = query.where(LogoutDelivery.state == state)
    return [
        DeliveryView(
            jti=row.jti,
            client_id=row.client_id,
            subject=row.subject,
            sid=row.sid,
            uri=row.uri,
            state=row.state,
            attempts=row.attempts,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at if row.state == PENDING else None,
            last_attempt_at=row.last_attempt_at,
            last_outcome=row.last_outcome,
            finished_at=row.finished_at,
        )
        for row in session.scalars(query)
    ]
