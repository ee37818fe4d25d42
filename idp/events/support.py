"""Support's events, helping one citizen."""

from __future__ import annotations

from datetime import datetime

from idp.events.kinds import Event, EventType, _by_operator

# Support: `operator` names the administrator (or their API client); `reason` is in their
# words, required, and what the citizen is told when the act was a look at their data.


def account_locked(
    *, operator: str, subject: str, reason: str, sessions_ended: int, client_id: str | None = None
) -> Event:
    return _by_operator(
        EventType.ACCOUNT_LOCKED,
        operator,
        subject=subject,
        client_id=client_id,
        detail={"reason": reason, "sessions_ended": sessions_ended},
    )


def account_unlocked(
    *, operator: str, subject: str, reason: str, client_id: str | None = None
) -> Event:
    return _by_operator(
        EventType.ACCOUNT_UNLOCKED,
        operator,
        subject=subject,
        client_id=client_id,
        detail={"reason": reason},
    )


def activation_code_issued(
    *,
    operator: str,
    subject: str,
    reason: str,
    expires_at: datetime,
    client_id: str | None = None,
) -> Event:
    """Never the code itself: only when it stops working."""
    return _by_operator(
        EventType.ACTIVATION_CODE_ISSUED,
        operator,
        subject=subject,
        client_id=client_id,
        detail={"reason": reason, "expires_at": expires_at.isoformat()},
    )


def browser_sessions_ended(
    *, operator: str, subject: str, reason: str, sessions_ended: int, client_id: str | None = None
) -> Event:
    return _by_operator(
        EventType.BROWSER_SESSIONS_ENDED,
        operator,
        subject=subject,
        client_id=client_id,
        detail={"reason": reason, "sessions_ended": sessions_ended},
    )


def account_history_read(
    *, operator: str, subject: str, reason: str, entries: int, client_id: str | None = None
) -> Event:
    """Support read a page of the citizen's entries in the log: a look the citizen is shown."""
    return _by_operator(
        EventType.ACCOUNT_HISTORY_READ,
        operator,
        subject=subject,
        client_id=client_id,
        detail={"reason": reason, "entries": entries},
    )
