"""The operators' and reviewers' events: apps, accounts, keys, the access log, roles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from idp.events.kinds import Event, EventType, _by_operator

if TYPE_CHECKING:  # for annotations only: the access log's verifiers import this package too
    from idp.keys.keyring import KeyRecord


# The operator: the actor is the operating-system account that ran the command.


def client_registered(
    *, operator: str, client_id: str, registration: Mapping[str, object]
) -> Event:
    """`registration` is the command's summary of the client; its secret is never logged."""
    detail = {k: v for k, v in registration.items() if k != "client_secret"}
    return _by_operator(EventType.CLIENT_REGISTERED, operator, client_id=client_id, detail=detail)


def client_updated(*, operator: str, client_id: str, changes: Mapping[str, object]) -> Event:
    """`changes`: each changed field of the registration with its new value."""
    return _by_operator(
        EventType.CLIENT_UPDATED, operator, client_id=client_id, detail={"changes": dict(changes)}
    )


def client_secret_rotated(
    *, operator: str, client_id: str, previous_secret_expires_at: datetime | None
) -> Event:
    """A new secret was issued (never logged); the replaced one works until
    `previous_secret_expires_at` (None: it stopped at once)."""
    ends = previous_secret_expires_at.isoformat() if previous_secret_expires_at else None
    return _by_operator(
        EventType.CLIENT_SECRET_ROTATED,
        operator,
        client_id=client_id,
        detail={"previous_secret_expires_at": ends},
    )


def client_disabled(*, operator: str, client_id: str) -> Event:
    return _by_operator(EventType.CLIENT_DISABLED, operator, client_id=client_id)


def client_enabled(*, operator: str, client_id: str) -> Event:
    return _by_operator(EventType.CLIENT_ENABLED, operator, client_id=client_id)


def account_created(*, operator: str, subject: str) -> Event:
    return _by_operator(EventType.ACCOUNT_CREATED, operator, subject=subject)


def account_listed(*, operator: str, accounts: int) -> Event:
    return _by_operator(EventType.ACCOUNT_LISTED, operator, detail={"accounts": accounts})


def account_read(
    *,
    operator: str,
    subject: str,
    fields: Iterable[str],
    reason: str | None = None,
    client_id: str | None = None,
) -> Event:
    """`fields`: the names of the fields the operator was shown (never their values); `reason`:
    why, in the administrator's words (the admin API requires one; the citizen sees it);
    `client_id`: the administrators' API client it came through, if any."""
    detail: dict[str, Any] = {"fields": sorted(fields)}
    if reason is not None:
        detail["reason"] = reason
    return _by_operator(
        EventType.ACCOUNT_READ, operator, subject=subject, client_id=client_id, detail=detail
    )


def signing_key_created(*, operator: str, keys: Sequence[KeyRecord]) -> Event:
    return _by_operator(EventType.SIGNING_KEY_CREATED, operator, detail=_keys_detail(keys))


def signing_key_rotated(*, operator: str, keys: Sequence[KeyRecord]) -> Event:
    return _by_operator(EventType.SIGNING_KEY_ROTATED, operator, detail=_keys_detail(keys))


def _keys_detail(keys: Sequence[KeyRecord]) -> dict[str, Any]:
    return {
        "keys": [
            {"kid": k.kid, "alg": k.alg, "activates_at": k.activates_at.isoformat()} for k in keys
        ]
    }


def access_log_exported(
    *, operator: str, since: int, start_size: int, end_size: int, entries: int
) -> Event:
    return _by_operator(
        EventType.ACCESS_LOG_EXPORTED,
        operator,
        detail={
            "since": since,
            "start_size": start_size,
            "end_size": end_size,
            "entries": entries,
        },
    )


def access_log_pruned(*, operator: str, pruned: Mapping[str, int]) -> Event:
    """`pruned`: how many entries of each event type had their content cleared."""
    return _by_operator(EventType.ACCESS_LOG_PRUNED, operator, detail={"pruned": dict(pruned)})


def personal_data_erased(*, operator: str, entries: int) -> Event:
    # It names no one: the subject is what was erased.
    return _by_operator(EventType.PERSONAL_DATA_ERASED, operator, detail={"entries": entries})


def issuer_moved(*, operator: str, from_issuer: str, to_issuer: str) -> Event:
    """Its detail {"from", "to"} is the log's issuer history (transparency.verification)."""
    return _by_operator(
        EventType.ISSUER_MOVED, operator, detail={"from": from_issuer, "to": to_issuer}
    )


def access_log_searched(
    *,
    client_id: str | None = None,
    operator: str | None = None,
    subject: str | None,
    filters: Mapping[str, str],
    entries: int,
) -> Event:
    """An administrator read a page of the log, through an administrators' client
    (`client_id`) or in the console (`operator`). `subject` is the citizen it filtered on (whose
    data was looked at); the other filters are in `detail`."""
    return _by_reviewer(
        EventType.ACCESS_LOG_SEARCHED,
        client_id,
        operator,
        subject,
        {"filters": dict(filters), "entries": entries},
    )


def access_log_review_exported(
    *,
    client_id: str | None = None,
    operator: str | None = None,
    subject: str | None,
    filters: Mapping[str, str],
    format: str,
) -> Event:
    """An administrator began an export of a filtered view (written before the first entry is
    sent, so an export cut short is on the record too)."""
    return _by_reviewer(
        EventType.ACCESS_LOG_REVIEW_EXPORTED,
        client_id,
        operator,
        subject,
        {"filters": dict(filters), "format": format},
    )


def access_log_entry_read(
    *,
    client_id: str | None = None,
    operator: str | None = None,
    log_index: int,
    subject: str | None,
) -> Event:
    """An administrator read one entry; `subject` is the citizen the entry is about."""
    return _by_reviewer(
        EventType.ACCESS_LOG_ENTRY_READ, client_id, operator, subject, {"log_index": log_index}
    )


def access_log_verified(
    *, operator: str, intact: bool, entries: int, tree_size: int, damage: str | None
) -> Event:
    """An auditor's "verify the log" in the console ended: the whole log recomputed and every
    checkpoint checked (`damage` says what was found when it was not intact)."""
    detail: dict[str, Any] = {"entries": entries, "tree_size": tree_size}
    if damage is not None:
        detail["damage"] = damage
    return Event(
        EventType.ACCESS_LOG_VERIFIED,
        "admin",
        operator,
        "success" if intact else "failure",
        detail=detail,
    )


def _by_reviewer(
    event_type: EventType,
    client_id: str | None,
    operator: str | None,
    subject: str | None,
    detail: Mapping[str, Any],
) -> Event:
    if operator is not None:
        return _by_operator(event_type, operator, subject=subject, detail=detail)
    assert client_id is not None, "a review is by a client or by an operator"
    return _by_admin_client(event_type, client_id, subject, detail)


def _by_admin_client(
    event_type: EventType, client_id: str, subject: str | None, detail: Mapping[str, Any]
) -> Event:
    return Event(
        event_type=event_type,
        actor_type="client",
        actor_id=client_id,
        outcome="success",
        client_id=client_id,
        subject=subject,
        detail=detail,
    )


def admin_roles_granted(*, operator: str, subject: str, roles: Iterable[str]) -> Event:
    """`subject`: the account given the roles (erasable, like every subject)."""
    return _by_operator(
        EventType.ADMIN_ROLES_GRANTED, operator, subject=subject, detail={"roles": list(roles)}
    )


def admin_roles_revoked(*, operator: str, subject: str, roles: Iterable[str]) -> Event:
    return _by_operator(
        EventType.ADMIN_ROLES_REVOKED, operator, subject=subject, detail={"roles": list(roles)}
    )
