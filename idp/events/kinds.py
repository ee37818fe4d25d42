"""The kinds of access-log event (`EventType`), the `Event` every constructor returns, and what
the constructors share.

The values are the event types stored since the log began: changing one would change what old
entries mean, and retention rules (IDP_LOG_RETENTION) name them. An `Event` is what happened and
who did it; `Event.occurred` adds when and, for a request, which request and from where
(idp.oauth.context.OperationContext.record does this per request).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum, unique
from typing import Any, Literal

from idp.ports import AccessEvent

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
    ACCOUNT_PASSWORD_CHANGED = "account.password_changed"  # noqa: S105  (an event type)
    # The citizen's authenticators (idp.authenticators): set up, removed, codes issued and
    # used, and the codes refused at a step-up.
    AUTHENTICATOR_APP_ENROLLED = "authenticator_app.enrolled"
    AUTHENTICATOR_APP_REMOVED = "authenticator_app.removed"
    RECOVERY_CODES_ISSUED = "recovery_codes.issued"
    RECOVERY_CODE_USED = "recovery_code.used"
    STEP_UP_FAILED = "step_up.failed"
    # The citizen's passkeys (idp.passkeys): added, renamed, removed, and every ceremony
    # refused, with its reason (a sign-in with one is `sign_in.succeeded`).
    PASSKEY_ADDED = "passkey.added"
    PASSKEY_RENAMED = "passkey.renamed"
    PASSKEY_REMOVED = "passkey.removed"
    PASSKEY_REFUSED = "passkey.refused"
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
