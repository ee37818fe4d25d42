"""The enumeration of access-log event types and the constructor of each kind: names, and the
stored shape of every kind exactly as the log has always held it (the content hashes of old
entries, exported bundles and retention rules depend on it)."""

from __future__ import annotations

import dataclasses
import inspect
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from idp import events
from idp.events import Event, EventType
from idp.keys.keyring import KeyRecord

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
KEY = KeyRecord(kid="k1", alg="ES256", created_at=T0, activates_at=T0)
# `source.action`, lowercase, the words of each part joined by underscores (as logged so far).
EVENT_TYPE_NAME = re.compile(r"[a-z]+(_[a-z]+)*\.[a-z]+(_[a-z]+)*")


def test_event_types_are_unique_and_named_source_dot_action() -> None:
    members = EventType.__members__  # aliases included: a repeated value would show here
    values = [member.value for member in members.values()]
    assert len(values) == len(set(values))
    for name, member in members.items():
        assert EVENT_TYPE_NAME.fullmatch(member.value), member.value
        assert name == member.value.upper().replace(".", "_"), name


def _constructors() -> dict[str, Any]:
    return {
        name: function
        for name, function in inspect.getmembers(events, inspect.isfunction)
        if not name.startswith("_") and function.__module__.startswith(f"{events.__name__}.")
    }


def test_every_event_type_has_one_constructor_named_after_it() -> None:
    assert set(_constructors()) == {m.value.replace(".", "_") for m in EventType}


def _stored(**fields: Any) -> dict[str, Any]:
    defaults = {
        "occurred_at": T0,
        "client_id": None,
        "request_id": "req-1",
        "source_address": "192.0.2.1",
        "subject": None,
        "claims_released": (),
        "purpose": None,
        "detail": {},
    }
    return {**defaults, **fields}


# Each kind as its call site wrote it before the constructors existed.
SHAPES: list[tuple[Event, dict[str, Any]]] = [
    (
        events.sign_in_succeeded(subject="s", client_id="c", method="pwd", acr="loa"),
        _stored(
            event_type="sign_in.succeeded",
            actor_type="account",
            actor_id="s",
            subject="s",
            client_id="c",
            outcome="success",
            detail={"method": "pwd", "acr": "loa"},
        ),
    ),
    (
        events.sign_in_failed(client_id="c", method="pwd", reason="bad_credentials"),
        _stored(
            event_type="sign_in.failed",
            actor_type="account",
            actor_id=None,
            client_id="c",
            outcome="failure",
            detail={"reason": "bad_credentials", "method": "pwd"},
        ),
    ),
    (
        events.sign_in_throttled(subject="s", client_id=None, method="pwd", throttle="device"),
        _stored(
            event_type="sign_in.throttled",
            actor_type="account",
            actor_id=None,
            subject="s",
            outcome="failure",
            detail={"method": "pwd", "throttle": "device"},
        ),
    ),
    (
        events.sign_in_device_allowance_used(subject=None, client_id="c", method="pwd"),
        _stored(
            event_type="sign_in.device_allowance_used",
            actor_type="account",
            actor_id=None,
            client_id="c",
            outcome="success",
            detail={"method": "pwd"},
        ),
    ),
    (
        events.authorization_denied(client_id="c"),
        _stored(
            event_type="authorization.denied",
            actor_type="account",
            actor_id=None,
            client_id="c",
            outcome="failure",
        ),
    ),
    (
        events.authorization_code_issued(subject="s", client_id="c", purpose="p", scope="openid"),
        _stored(
            event_type="authorization_code.issued",
            actor_type="account",
            actor_id="s",
            subject="s",
            client_id="c",
            outcome="success",
            purpose="p",
            detail={"scope": "openid"},
        ),
    ),
    (
        events.consent_given(subject="s", client_id="c", purpose=None, scopes=["openid", "email"]),
        _stored(
            event_type="consent.given",
            actor_type="account",
            actor_id="s",
            subject="s",
            client_id="c",
            outcome="success",
            detail={"scopes": ["openid", "email"]},
        ),
    ),
    (
        events.consent_denied(subject="s", client_id="c"),
        _stored(
            event_type="consent.denied",
            actor_type="account",
            actor_id="s",
            subject="s",
            client_id="c",
            outcome="success",
        ),
    ),
    (
        events.consent_withdrawn(subject="s", client_id="c", scopes=["openid"], tokens_revoked=2),
        _stored(
            event_type="consent.withdrawn",
            actor_type="account",
            actor_id="s",
            subject="s",
            client_id="c",
            outcome="success",
            detail={"scopes": ["openid"], "tokens_revoked": 2},
        ),
    ),
    (
        events.token_issued(
            client_id="c",
            subject="s",
            grant_type="authorization_code",
            scope="openid",
            refresh_token=True,
            claims_released=("sub",),
            purpose="p",
        ),
        _stored(
            event_type="token.issued",
            actor_type="client",
            actor_id="c",
            client_id="c",
            subject="s",
            outcome="success",
            claims_released=("sub",),
            purpose="p",
            detail={"grant_type": "authorization_code", "scope": "openid", "refresh_token": True},
        ),
    ),
    (
        events.token_refreshed(
            client_id="c",
            subject=None,
            scope="openid",
            refresh_token=False,
            claims_released=(),
            purpose=None,
        ),
        _stored(
            event_type="token.refreshed",
            actor_type="client",
            actor_id="c",
            client_id="c",
            outcome="success",
            detail={"grant_type": "refresh_token", "scope": "openid", "refresh_token": False},
        ),
    ),
    (
        events.token_introspected(
            client_id="c", subject="s", claims_released=("sub", "username"), purpose="p"
        ),
        _stored(
            event_type="token.introspected",
            actor_type="client",
            actor_id="c",
            client_id="c",
            subject="s",
            outcome="success",
            claims_released=("sub", "username"),
            purpose="p",
        ),
    ),
    (
        events.token_revoked(client_id="c", token_type="refresh_token", tokens_revoked=3),
        _stored(
            event_type="token.revoked",
            actor_type="client",
            actor_id="c",
            client_id="c",
            outcome="success",
            detail={"token_type": "refresh_token", "tokens_revoked": 3},
        ),
    ),
    (
        events.userinfo_answered(
            client_id="c", subject="s", claims_released=("email",), purpose="p"
        ),
        _stored(
            event_type="userinfo.answered",
            actor_type="client",
            actor_id="c",
            client_id="c",
            subject="s",
            outcome="success",
            claims_released=("email",),
            purpose="p",
        ),
    ),
    (
        events.authorization_code_replayed(client_id="c", tokens_revoked=1),
        _stored(
            event_type="authorization_code.replayed",
            actor_type="client",
            actor_id="c",
            client_id="c",
            outcome="failure",
            detail={"tokens_revoked": 1},
        ),
    ),
    (
        events.refresh_token_replayed(client_id="c", tokens_revoked=0),
        _stored(
            event_type="refresh_token.replayed",
            actor_type="client",
            actor_id="c",
            client_id="c",
            outcome="failure",
            detail={"tokens_revoked": 0},
        ),
    ),
    (
        events.client_registered(
            operator="op",
            client_id="c",
            registration={"client_id": "c", "client_secret": "never", "name": "Tax"},
        ),
        _stored(
            event_type="client.registered",
            actor_type="admin",
            actor_id="op",
            client_id="c",
            outcome="success",
            detail={"client_id": "c", "name": "Tax"},
        ),
    ),
    (
        events.client_updated(operator="op", client_id="c", changes={"name": "Tax board"}),
        _stored(
            event_type="client.updated",
            actor_type="admin",
            actor_id="op",
            client_id="c",
            outcome="success",
            detail={"changes": {"name": "Tax board"}},
        ),
    ),
    (
        events.client_secret_rotated(operator="op", client_id="c", previous_secret_expires_at=T0),
        _stored(
            event_type="client.secret_rotated",
            actor_type="admin",
            actor_id="op",
            client_id="c",
            outcome="success",
            detail={"previous_secret_expires_at": "2026-11-29T12:00:00+00:00"},
        ),
    ),
    *(
        (
            change(operator="op", client_id="c"),
            _stored(
                event_type=event_type,
                actor_type="admin",
                actor_id="op",
                client_id="c",
                outcome="success",
            ),
        )
        for change, event_type in (
            (events.client_disabled, "client.disabled"),
            (events.client_enabled, "client.enabled"),
        )
    ),
    (
        events.account_created(operator="op", subject="s"),
        _stored(
            event_type="account.created",
            actor_type="admin",
            actor_id="op",
            subject="s",
            outcome="success",
        ),
    ),
    (
        events.account_listed(operator="op", accounts=4),
        _stored(
            event_type="account.listed",
            actor_type="admin",
            actor_id="op",
            outcome="success",
            detail={"accounts": 4},
        ),
    ),
    (
        events.account_read(operator="op", subject="s", fields=iter(["name", "email"])),
        _stored(
            event_type="account.read",
            actor_type="admin",
            actor_id="op",
            subject="s",
            outcome="success",
            detail={"fields": ["email", "name"]},
        ),
    ),
    *(
        (
            change(operator="op", keys=[KEY]),
            _stored(
                event_type=event_type,
                actor_type="admin",
                actor_id="op",
                outcome="success",
                detail={"keys": [{"kid": "k1", "alg": "ES256", "activates_at": T0.isoformat()}]},
            ),
        )
        for change, event_type in (
            (events.signing_key_created, "signing_key.created"),
            (events.signing_key_rotated, "signing_key.rotated"),
        )
    ),
    (
        events.access_log_exported(operator="op", since=0, start_size=0, end_size=9, entries=9),
        _stored(
            event_type="access_log.exported",
            actor_type="admin",
            actor_id="op",
            outcome="success",
            detail={"since": 0, "start_size": 0, "end_size": 9, "entries": 9},
        ),
    ),
    (
        events.access_log_pruned(operator="op", pruned={"userinfo.answered": 2}),
        _stored(
            event_type="access_log.pruned",
            actor_type="admin",
            actor_id="op",
            outcome="success",
            detail={"pruned": {"userinfo.answered": 2}},
        ),
    ),
    (
        events.personal_data_erased(operator="op", entries=5),
        _stored(
            event_type="personal_data.erased",
            actor_type="admin",
            actor_id="op",
            outcome="success",
            detail={"entries": 5},
        ),
    ),
    (
        events.issuer_moved(operator="op", from_issuer="https://a", to_issuer="https://b"),
        _stored(
            event_type="issuer.moved",
            actor_type="admin",
            actor_id="op",
            outcome="success",
            detail={"from": "https://a", "to": "https://b"},
        ),
    ),
    (
        events.access_log_searched(client_id="c", subject="s", filters={"type": "t"}, entries=2),
        _stored(
            event_type="access_log.searched",
            actor_type="client",
            actor_id="c",
            client_id="c",
            subject="s",
            outcome="success",
            detail={"filters": {"type": "t"}, "entries": 2},
        ),
    ),
    (
        events.access_log_entry_read(client_id="c", log_index=7, subject="s"),
        _stored(
            event_type="access_log.entry_read",
            actor_type="client",
            actor_id="c",
            client_id="c",
            subject="s",
            outcome="success",
            detail={"log_index": 7},
        ),
    ),
    (
        events.access_log_review_exported(client_id="c", subject=None, filters={}, format="csv"),
        _stored(
            event_type="access_log.review_exported",
            actor_type="client",
            actor_id="c",
            client_id="c",
            outcome="success",
            detail={"filters": {}, "format": "csv"},
        ),
    ),
    (
        events.access_log_searched(operator="ann (console)", subject="s", filters={}, entries=1),
        _stored(
            event_type="access_log.searched",
            actor_type="admin",
            actor_id="ann (console)",
            subject="s",
            outcome="success",
            detail={"filters": {}, "entries": 1},
        ),
    ),
    (
        events.access_log_verified(
            operator="ann (console)", intact=False, entries=3, tree_size=3, damage="changed"
        ),
        _stored(
            event_type="access_log.verified",
            actor_type="admin",
            actor_id="ann (console)",
            outcome="failure",
            detail={"entries": 3, "tree_size": 3, "damage": "changed"},
        ),
    ),
    (
        events.activation_code_redeemed(subject="s", sessions_ended=2),
        _stored(
            event_type="activation_code.redeemed",
            actor_type="account",
            actor_id="s",
            subject="s",
            outcome="success",
            detail={"sessions_ended": 2},
        ),
    ),
    (
        events.account_password_changed(subject="s", sessions_ended=1),
        _stored(
            event_type="account.password_changed",
            actor_type="account",
            actor_id="s",
            subject="s",
            outcome="success",
            detail={"sessions_ended": 1},
        ),
    ),
    (
        events.activation_code_failed(subject=None, reason="not_live", voided=False),
        _stored(
            event_type="activation_code.failed",
            actor_type="account",
            actor_id=None,
            outcome="failure",
            detail={"reason": "not_live", "voided": False},
        ),
    ),
    (
        events.authenticator_app_enrolled(subject="s", replaced=True),
        _stored(
            event_type="authenticator_app.enrolled",
            actor_type="account",
            actor_id="s",
            subject="s",
            outcome="success",
            detail={"replaced": True},
        ),
    ),
    (
        events.authenticator_app_removed(subject="s", recovery_codes_voided=7),
        _stored(
            event_type="authenticator_app.removed",
            actor_type="account",
            actor_id="s",
            subject="s",
            outcome="success",
            detail={"recovery_codes_voided": 7},
        ),
    ),
    (
        events.recovery_codes_issued(subject="s", codes=10, voided=3),
        _stored(
            event_type="recovery_codes.issued",
            actor_type="account",
            actor_id="s",
            subject="s",
            outcome="success",
            detail={"codes": 10, "voided": 3},
        ),
    ),
    (
        events.recovery_code_used(subject="s", client_id="c", remaining=9),
        _stored(
            event_type="recovery_code.used",
            actor_type="account",
            actor_id="s",
            subject="s",
            client_id="c",
            outcome="success",
            detail={"remaining": 9},
        ),
    ),
    (
        events.step_up_failed(
            subject="s", client_id=None, method="authenticator_app", reason="code_already_used"
        ),
        _stored(
            event_type="step_up.failed",
            actor_type="account",
            actor_id="s",
            subject="s",
            outcome="failure",
            detail={"method": "authenticator_app", "reason": "code_already_used"},
        ),
    ),
    (
        events.passkey_added(subject="s", passkeys=2, synced=True),
        _stored(
            event_type="passkey.added",
            actor_type="account",
            actor_id="s",
            subject="s",
            outcome="success",
            detail={"passkeys": 2, "synced": True},
        ),
    ),
    (
        events.passkey_renamed(subject="s"),
        _stored(
            event_type="passkey.renamed",
            actor_type="account",
            actor_id="s",
            subject="s",
            outcome="success",
        ),
    ),
    (
        events.passkey_removed(subject="s", passkeys=1),
        _stored(
            event_type="passkey.removed",
            actor_type="account",
            actor_id="s",
            subject="s",
            outcome="success",
            detail={"passkeys": 1},
        ),
    ),
    (
        events.passkey_refused(
            subject="s", client_id="c", ceremony="sign_in", reason="sign_count_regressed"
        ),
        _stored(
            event_type="passkey.refused",
            actor_type="account",
            actor_id="s",
            subject="s",
            client_id="c",
            outcome="failure",
            detail={"ceremony": "sign_in", "reason": "sign_count_regressed"},
        ),
    ),
    (
        events.passkey_refused(
            subject=None, client_id=None, ceremony="registration", reason="not_completed"
        ),
        _stored(
            event_type="passkey.refused",
            actor_type="account",
            actor_id=None,
            outcome="failure",
            detail={"ceremony": "registration", "reason": "not_completed"},
        ),
    ),
    (
        events.account_locked(
            operator="op", subject="s", reason="Phone call", sessions_ended=1, client_id="c"
        ),
        _stored(
            event_type="account.locked",
            actor_type="admin",
            actor_id="op",
            client_id="c",
            subject="s",
            outcome="success",
            detail={"reason": "Phone call", "sessions_ended": 1},
        ),
    ),
    (
        events.account_unlocked(operator="op", subject="s", reason="Phone call"),
        _stored(
            event_type="account.unlocked",
            actor_type="admin",
            actor_id="op",
            subject="s",
            outcome="success",
            detail={"reason": "Phone call"},
        ),
    ),
    (
        events.activation_code_issued(
            operator="op", subject="s", reason="Forgot password", expires_at=T0
        ),
        _stored(
            event_type="activation_code.issued",
            actor_type="admin",
            actor_id="op",
            subject="s",
            outcome="success",
            detail={"reason": "Forgot password", "expires_at": "2026-11-29T12:00:00+00:00"},
        ),
    ),
    (
        events.browser_sessions_ended(
            operator="op", subject="s", reason="Lost phone", sessions_ended=0
        ),
        _stored(
            event_type="browser_sessions.ended",
            actor_type="admin",
            actor_id="op",
            subject="s",
            outcome="success",
            detail={"reason": "Lost phone", "sessions_ended": 0},
        ),
    ),
    (
        events.account_history_read(operator="op", subject="s", reason="Asked", entries=3),
        _stored(
            event_type="account.history_read",
            actor_type="admin",
            actor_id="op",
            subject="s",
            outcome="success",
            detail={"reason": "Asked", "entries": 3},
        ),
    ),
    (
        events.admin_roles_granted(operator="op", subject="s", roles=["auditor", "support"]),
        _stored(
            event_type="admin_roles.granted",
            actor_type="admin",
            actor_id="op",
            subject="s",
            outcome="success",
            detail={"roles": ["auditor", "support"]},
        ),
    ),
    (
        events.admin_roles_revoked(operator="op", subject="s", roles=["support"]),
        _stored(
            event_type="admin_roles.revoked",
            actor_type="admin",
            actor_id="op",
            subject="s",
            outcome="success",
            detail={"roles": ["support"]},
        ),
    ),
    (
        events.browser_session_ended(
            actor_type="client",
            actor_id="app",
            subject="s",
            sid="sid-1",
            reason="app_signed_out",
            apps=["app", "other"],
            told_by_back_channel=["other"],
            client_id="app",
        ),
        _stored(
            event_type="browser_session.ended",
            actor_type="client",
            actor_id="app",
            client_id="app",
            subject="s",
            outcome="success",
            detail={
                "sid": "sid-1",
                "reason": "app_signed_out",
                "apps": ["app", "other"],
                "told_by_back_channel": ["other"],
            },
        ),
    ),
    (
        events.logout_token_delivered(
            client_id="app", subject="s", sid="sid-1", jti="j", attempt=1, status=200
        ),
        _stored(
            event_type="logout_token.delivered",
            actor_type="system",
            actor_id="logout-delivery",
            client_id="app",
            subject="s",
            outcome="success",
            detail={"sid": "sid-1", "jti": "j", "attempt": 1, "status": 200},
        ),
    ),
    (
        events.logout_token_delivery_failed(
            client_id="app",
            subject="s",
            sid="sid-1",
            jti="j",
            attempt=2,
            problem="HTTP 503",
            retry_at=T0,
        ),
        _stored(
            event_type="logout_token.delivery_failed",
            actor_type="system",
            actor_id="logout-delivery",
            client_id="app",
            subject="s",
            outcome="failure",
            detail={
                "sid": "sid-1",
                "jti": "j",
                "attempt": 2,
                "problem": "HTTP 503",
                "retry_at": T0.isoformat(),
            },
        ),
    ),
    (
        events.logout_token_given_up(
            client_id="app", subject="s", sid="sid-1", jti="j", attempts=9, problem="timed out"
        ),
        _stored(
            event_type="logout_token.given_up",
            actor_type="system",
            actor_id="logout-delivery",
            client_id="app",
            subject="s",
            outcome="failure",
            detail={"sid": "sid-1", "jti": "j", "attempts": 9, "problem": "timed out"},
        ),
    ),
]


def test_the_shapes_cover_every_event_type() -> None:
    # Some kinds appear twice (as an API client and as a console user did it).
    assert {event.event_type for event, _ in SHAPES} == set(EventType)


@pytest.mark.parametrize(
    ("event", "expected"),
    SHAPES,
    ids=[f"{event.event_type.value}-{event.actor_type}" for event, _ in SHAPES],
)
def test_each_kind_is_stored_as_before(event: Event, expected: dict[str, Any]) -> None:
    stored = dataclasses.asdict(event.occurred(T0, request_id="req-1", source_address="192.0.2.1"))
    assert stored == expected
    assert type(stored["event_type"]) is str  # the plain value, not the enumeration member
