"""Every kind of access-log event, and one typed constructor per kind, grouped by who acts:
the citizen, the agencies, operators and reviewers, support, and sign-out.

Each constructor fixes its kind's actor type, outcome and the keys of its `detail`, so that two
places can never write the same event type in two shapes and mypy checks every call site.
Callers use the package (`events.token_issued(...)`); the kinds are in `idp.events.kinds`.
"""

from __future__ import annotations

from idp.events.agency import (
    authorization_code_replayed,
    refresh_token_replayed,
    token_introspected,
    token_issued,
    token_refreshed,
    token_revoked,
    userinfo_answered,
)
from idp.events.citizen import (
    activation_code_failed,
    activation_code_redeemed,
    authorization_code_issued,
    authorization_denied,
    consent_denied,
    consent_given,
    consent_withdrawn,
    sign_in_device_allowance_used,
    sign_in_failed,
    sign_in_succeeded,
    sign_in_throttled,
)
from idp.events.kinds import ADMINISTRATOR_LOOKS, ActorType, Event, EventType, Outcome
from idp.events.operator import (
    access_log_entry_read,
    access_log_exported,
    access_log_pruned,
    access_log_review_exported,
    access_log_searched,
    access_log_verified,
    account_created,
    account_listed,
    account_read,
    admin_roles_granted,
    admin_roles_revoked,
    client_disabled,
    client_enabled,
    client_registered,
    client_secret_rotated,
    client_updated,
    issuer_moved,
    personal_data_erased,
    signing_key_created,
    signing_key_rotated,
)
from idp.events.sign_out import (
    browser_session_ended,
    logout_token_delivered,
    logout_token_delivery_failed,
    logout_token_given_up,
)
from idp.events.support import (
    account_history_read,
    account_locked,
    account_unlocked,
    activation_code_issued,
    browser_sessions_ended,
)

__all__ = [
    "ADMINISTRATOR_LOOKS",
    "ActorType",
    "Event",
    "EventType",
    "Outcome",
    "access_log_entry_read",
    "access_log_exported",
    "access_log_pruned",
    "access_log_review_exported",
    "access_log_searched",
    "access_log_verified",
    "account_created",
    "account_history_read",
    "account_listed",
    "account_locked",
    "account_read",
    "account_unlocked",
    "activation_code_failed",
    "activation_code_issued",
    "activation_code_redeemed",
    "admin_roles_granted",
    "admin_roles_revoked",
    "authorization_code_issued",
    "authorization_code_replayed",
    "authorization_denied",
    "browser_session_ended",
    "browser_sessions_ended",
    "client_disabled",
    "client_enabled",
    "client_registered",
    "client_secret_rotated",
    "client_updated",
    "consent_denied",
    "consent_given",
    "consent_withdrawn",
    "issuer_moved",
    "logout_token_delivered",
    "logout_token_delivery_failed",
    "logout_token_given_up",
    "personal_data_erased",
    "refresh_token_replayed",
    "sign_in_device_allowance_used",
    "sign_in_failed",
    "sign_in_succeeded",
    "sign_in_throttled",
    "signing_key_created",
    "signing_key_rotated",
    "token_introspected",
    "token_issued",
    "token_refreshed",
    "token_revoked",
    "userinfo_answered",
]
