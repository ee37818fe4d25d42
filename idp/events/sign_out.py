"""Sign-out's events: a session ending, and each attempt to tell an app."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from idp.events.kinds import ActorType, Event, EventType, Outcome

# Sign-out. The session's end names who ended it: the citizen (account), the app whose logout
# request carried a valid ID token hint (client), support (admin), or expiry (system).


def browser_session_ended(
    *,
    actor_type: ActorType,
    actor_id: str | None,
    subject: str,
    sid: str,
    reason: str,
    apps: Sequence[str],
    told_by_back_channel: Sequence[str],
    client_id: str | None = None,
) -> Event:
    return Event(
        EventType.BROWSER_SESSION_ENDED,
        actor_type,
        actor_id,
        "success",
        client_id=client_id,
        subject=subject,
        detail={
            "sid": sid,
            "reason": reason,
            "apps": list(apps),
            "told_by_back_channel": list(told_by_back_channel),
        },
    )


def logout_token_delivered(
    *, client_id: str, subject: str, sid: str, jti: str, attempt: int, status: int
) -> Event:
    return _logout_attempt(
        EventType.LOGOUT_TOKEN_DELIVERED,
        "success",
        client_id=client_id,
        subject=subject,
        detail={"sid": sid, "jti": jti, "attempt": attempt, "status": status},
    )


def logout_token_delivery_failed(
    *,
    client_id: str,
    subject: str,
    sid: str,
    jti: str,
    attempt: int,
    problem: str,
    retry_at: datetime,
) -> Event:
    return _logout_attempt(
        EventType.LOGOUT_TOKEN_DELIVERY_FAILED,
        "failure",
        client_id=client_id,
        subject=subject,
        detail={
            "sid": sid,
            "jti": jti,
            "attempt": attempt,
            "problem": problem,
            "retry_at": retry_at.isoformat(),
        },
    )


def logout_token_given_up(
    *, client_id: str, subject: str, sid: str, jti: str, attempts: int, problem: str
) -> Event:
    return _logout_attempt(
        EventType.LOGOUT_TOKEN_GIVEN_UP,
        "failure",
        client_id=client_id,
        subject=subject,
        detail={"sid": sid, "jti": jti, "attempts": attempts, "problem": problem},
    )


def _logout_attempt(
    event_type: EventType,
    outcome: Outcome,
    *,
    client_id: str,
    subject: str,
    detail: Mapping[str, Any],
) -> Event:
    return Event(
        event_type,
        "system",
        "logout-delivery",
        outcome,
        client_id=client_id,
        subject=subject,
        detail=detail,
    )
