"""Every kind of access-log event, and one typed constructor per kind.

Each constructor fixes its kind's actor type, outcome and the keys of its `detail`, so that two
places can never write the same event type in two shapes and mypy checks every call site. The
values are the event types stored since the log began: changing one would change what old
entries mean, and retention rules (IDP_LOG_RETENTION) name them.

An `Event` is what happened and who did it; `Event.occurred` adds when and, for a request,
which request and from where (idp.oauth.context.OperationContext.record does this per request).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum, unique
from typing import TYPE_CHECKING, Any, Literal

from idp.ports import AccessEvent

if TYPE_CHECKING:  # for annotations only: the access log's verifiers import this module too
    from idp.authentication.throttle import Throttle
    from idp.keys.keyring import KeyRecord

ActorType = Literal["account", "client", "admin", "system"]
Outcome = Literal["success", "failure"]


@unique
class EventType(StrEnum):
    """`source.action`: what the event is about, then what happened to it."""

    # The citizen, at the sign-in and consent pages and on their account page.
    SIGN_IN_SUCCEEDED = "sign_in.succeeded"
    SIGN_IN_FAILED = "sign_in.failed"
    SIGN_IN_THROTTLED = "sign_in.throttled"
    SIGN_IN_DEVICE_ALLOWANCE_USED = "sign_in.device_allowance_used"
    AUTHORIZATION_DENIED = "authorization.denied"
    AUTHORIZATION_CODE_ISSUED = "authorization_code.issued"
    CONSENT_GIVEN = "consent.given"
    CONSENT_DENIED = "consent.denied"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    ACTIVATION_CODE_REDEEMED = "activation_code.redeemed"
    ACTIVATION_CODE_FAILED = "activation_code.failed"
    # The agencies (clients), at the token, userinfo, introspection and revocation endpoints.
    TOKEN_ISSUED = "token.issued"  # noqa: S105  (an event type)
    TOKEN_REFRESHED = "token.refreshed"  # noqa: S105  (an event type)
    TOKEN_INTROSPECTED = "token.introspected"  # noqa: S105  (an event type)
    TOKEN_REVOKED = "token.revoked"  # noqa: S105  (an event type)
    USERINFO_ANSWERED = "userinfo.answered"
    AUTHORIZATION_CODE_REPLAYED = "authorization_code.replayed"
    REFRESH_TOKEN_REPLAYED = "refresh_token.replayed"  # noqa: S105  (an event type)
    # The operator, at the command line.
    CLIENT_REGISTERED = "client.registered"
    CLIENT_UPDATED = "client.updated"
    CLIENT_SECRET_ROTATED = "client.secret_rotated"  # noqa: S105  (an event type)
    CLIENT_DISABLED = "client.disabled"
    CLIENT_ENABLED = "client.enabled"
    ACCOUNT_CREATED = "account.created"
    ACCOUNT_LISTED = "account.listed"
    ACCOUNT_READ = "account.read"
    SIGNING_KEY_CREATED = "signing_key.created"
    SIGNING_KEY_ROTATED = "signing_key.rotated"
    ACCESS_LOG_EXPORTED = "access_log.exported"
    ACCESS_LOG_PRUNED = "access_log.pruned"
    PERSONAL_DATA_ERASED = "personal_data.erased"
    ISSUER_MOVED = "issuer.moved"
    # Administrators' API clients, reviewing the access log.
    ACCESS_LOG_SEARCHED = "access_log.searched"
    ACCESS_LOG_ENTRY_READ = "access_log.entry_read"
    ACCESS_LOG_REVIEW_EXPORTED = "access_log.review_exported"
    ACCESS_LOG_VERIFIED = "access_log.verified"
    # The security officer: who may administer the gateway.
    ADMIN_ROLES_GRANTED = "admin_roles.granted"
    ADMIN_ROLES_REVOKED = "admin_roles.revoked"
    # Support, helping one citizen (admin.support_operations).
    ACCOUNT_LOCKED = "account.locked"
    ACCOUNT_UNLOCKED = "account.unlocked"
    ACTIVATION_CODE_ISSUED = "activation_code.issued"
    BROWSER_SESSIONS_ENDED = "browser_sessions.ended"
    ACCOUNT_HISTORY_READ = "account.history_read"
    # Sign-out: a browser session ended (by the citizen, an app, expiry or support), and each
    # attempt to tell an app with a back-channel logout token (idp.sign_out).
    BROWSER_SESSION_ENDED = "browser_session.ended"
    LOGOUT_TOKEN_DELIVERED = "logout_token.delivered"  # noqa: S105  (an event type)
    LOGOUT_TOKEN_DELIVERY_FAILED = "logout_token.delivery_failed"  # noqa: S105  (an event type)
    LOGOUT_TOKEN_GIVEN_UP = "logout_token.given_up"  # noqa: S105  (an event type)


# The events that are someone looking at one citizen's data, shown to that citizen on the
# account page ("who looked at your information").
ADMINISTRATOR_LOOKS = (
    EventType.ACCOUNT_READ,
    EventType.ACCOUNT_HISTORY_READ,
    EventType.ACCESS_LOG_SEARCHED,
    EventType.ACCESS_LOG_ENTRY_READ,
    EventType.ACCESS_LOG_REVIEW_EXPORTED,
)


@dataclass(frozen=True)
class Event:
    """An access event before it is given its time and request. Never carries a password, code,
    token or secret."""

    event_type: EventType
    actor_type: ActorType
    actor_id: str | None
    outcome: Outcome
    client_id: str | None = None
    subject: str | None = None
    claims_released: tuple[str, ...] = ()
    purpose: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def occurred(
        self,
        at: datetime,
        *,
        request_id: str | None = None,
        source_address: str | None = None,
    ) -> AccessEvent:
        return AccessEvent(
            event_type=self.event_type.value,
            occurred_at=at,
            actor_type=self.actor_type,
            actor_id=self.actor_id,
            outcome=self.outcome,
            client_id=self.client_id,
            request_id=request_id,
            source_address=source_address,
            subject=self.subject,
            claims_released=self.claims_released,
            purpose=self.purpose,
            detail=self.detail,
        )


# The citizen. Before sign-in the actor is not known (actor_id None); `subject` is then named
# only when the browser's device allowance shows whose it is.


def sign_in_succeeded(*, subject: str, client_id: str | None, method: str, acr: str) -> Event:
    return Event(
        EventType.SIGN_IN_SUCCEEDED,
        "account",
        subject,
        "success",
        client_id=client_id,
        subject=subject,
        detail={"method": method, "acr": acr},
    )


def sign_in_failed(
    *, client_id: str | None, method: str, reason: Literal["bad_credentials", "account_locked"]
) -> Event:
    """`account_locked`: the right password, of an account support locked."""
    return Event(
        EventType.SIGN_IN_FAILED,
        "account",
        None,
        "failure",
        client_id=client_id,
        detail={"reason": reason, "method": method},
    )


def sign_in_throttled(
    *, subject: str | None, client_id: str | None, method: str, throttle: Throttle
) -> Event:
    return Event(
        EventType.SIGN_IN_THROTTLED,
        "account",
        None,
        "failure",
        client_id=client_id,
        subject=subject,
        detail={"method": method, "throttle": throttle},
    )


def sign_in_device_allowance_used(
    *, subject: str | None, client_id: str | None, method: str
) -> Event:
    return Event(
        EventType.SIGN_IN_DEVICE_ALLOWANCE_USED,
        "account",
        None,
        "success",
        client_id=client_id,
        subject=subject,
        detail={"method": method},
    )


def authorization_denied(*, client_id: str) -> Event:
    return Event(EventType.AUTHORIZATION_DENIED, "account", None, "failure", client_id=client_id)


def authorization_code_issued(
    *, subject: str, client_id: str, purpose: str | None, scope: str
) -> Event:
    return Event(
        EventType.AUTHORIZATION_CODE_ISSUED,
        "account",
        subject,
        "success",
        client_id=client_id,
        subject=subject,
        purpose=purpose,
        detail={"scope": scope},
    )


def consent_given(
    *, subject: str, client_id: str, purpose: str | None, scopes: Sequence[str]
) -> Event:
    return Event(
        EventType.CONSENT_GIVEN,
        "account",
        subject,
        "success",
        client_id=client_id,
        subject=subject,
        purpose=purpose,
        detail={"scopes": list(scopes)},
    )


def consent_denied(*, subject: str, client_id: str) -> Event:
    # "success": the citizen's decision was carried out (authorization.denied is the failure).
    return Event(
        EventType.CONSENT_DENIED,
        "account",
        subject,
        "success",
        client_id=client_id,
        subject=subject,
    )


def consent_withdrawn(
    *, subject: str, client_id: str, scopes: Sequence[str], tokens_revoked: int
) -> Event:
    return Event(
        EventType.CONSENT_WITHDRAWN,
        "account",
        subject,
        "success",
        client_id=client_id,
        subject=subject,
        detail={"scopes": list(scopes), "tokens_revoked": tokens_revoked},
    )


def activation_code_redeemed(*, subject: str, sessions_ended: int) -> Event:
    """The citizen set a new password with support's code; their other sessions ended."""
    return Event(
        EventType.ACTIVATION_CODE_REDEEMED,
        "account",
        subject,
        "success",
        subject=subject,
        detail={"sessions_ended": sessions_ended},
    )


def activation_code_failed(
    *, subject: str | None, reason: Literal["wrong_code", "not_live"], voided: bool
) -> Event:
    """A code that did not work. `subject` only when the username names an account (the page
    says the same either way); `not_live`: expired, used, void, or none was issued; `voided`:
    this was the last wrong try the code allowed."""
    return Event(
        EventType.ACTIVATION_CODE_FAILED,
        "account",
        None,
        "failure",
        subject=subject,
        detail={"reason": reason, "voided": voided},
    )


# The agency (client): it is the actor of every call it makes.


def token_issued(
    *,
    client_id: str,
    subject: str | None,
    grant_type: str,
    scope: str,
    refresh_token: bool,
    claims_released: tuple[str, ...],
    purpose: str | None,
) -> Event:
    return Event(
        EventType.TOKEN_ISSUED,
        "client",
        client_id,
        "success",
        client_id=client_id,
        subject=subject,
        claims_released=claims_released,
        purpose=purpose,
        detail={"grant_type": grant_type, "scope": scope, "refresh_token": refresh_token},
    )


def token_refreshed(
    *,
    client_id: str,
    subject: str | None,
    scope: str,
    refresh_token: bool,
    claims_released: tuple[str, ...],
    purpose: str | None,
) -> Event:
    return Event(
        EventType.TOKEN_REFRESHED,
        "client",
        client_id,
        "success",
        client_id=client_id,
        subject=subject,
        claims_released=claims_released,
        purpose=purpose,
        detail={"grant_type": "refresh_token", "scope": scope, "refresh_token": refresh_token},
    )


def token_introspected(
    *, client_id: str, subject: str | None, claims_released: tuple[str, ...], purpose: str | None
) -> Event:
    return Event(
        EventType.TOKEN_INTROSPECTED,
        "client",
        client_id,
        "success",
        client_id=client_id,
        subject=subject,
        claims_released=claims_released,
        purpose=purpose,
    )


def token_revoked(*, client_id: str, token_type: str, tokens_revoked: int) -> Event:
    return Event(
        EventType.TOKEN_REVOKED,
        "client",
        client_id,
        "success",
        client_id=client_id,
        detail={"token_type": token_type, "tokens_revoked": tokens_revoked},
    )


def userinfo_answered(
    *, client_id: str, subject: str, claims_released: tuple[str, ...], purpose: str | None
) -> Event:
    return Event(
        EventType.USERINFO_ANSWERED,
        "client",
        client_id,
        "success",
        client_id=client_id,
        subject=subject,
        claims_released=claims_released,
        purpose=purpose,
    )


def authorization_code_replayed(*, client_id: str, tokens_revoked: int) -> Event:
    return _replayed(EventType.AUTHORIZATION_CODE_REPLAYED, client_id, tokens_revoked)


def refresh_token_replayed(*, client_id: str, tokens_revoked: int) -> Event:
    return _replayed(EventType.REFRESH_TOKEN_REPLAYED, client_id, tokens_revoked)


def _replayed(event_type: EventType, client_id: str, tokens_revoked: int) -> Event:
    return Event(
        event_type,
        "client",
        client_id,
        "failure",
        client_id=client_id,
        detail={"tokens_revoked": tokens_revoked},
    )


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


def _by_operator(
    event_type: EventType,
    operator: str,
    *,
    client_id: str | None = None,
    subject: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Event:
    return Event(
        event_type,
        "admin",
        operator,
        "success",
        client_id=client_id,
        subject=subject,
        detail=detail or {},
    )
