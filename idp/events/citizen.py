"""The citizen's events: signing in, consent, withdrawing it, activation codes, changing the
password, their authenticators (an authenticator app, recovery codes, passkeys) and stepping
up with them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from idp.events.kinds import Event, EventType

if TYPE_CHECKING:  # for annotations only: the access log's verifiers import this package too
    from idp.authentication.throttle import Throttle


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


# The citizen's authenticators. Never the secret, a code, or which code was used.

OneTimeCodeMethod = Literal["authenticator_app", "recovery_code"]


def authenticator_app_enrolled(*, subject: str, replaced: bool) -> Event:
    """An app confirmed by its first code; `replaced`: the account's app before it stopped
    working."""
    return Event(
        EventType.AUTHENTICATOR_APP_ENROLLED,
        "account",
        subject,
        "success",
        subject=subject,
        detail={"replaced": replaced},
    )


def authenticator_app_removed(*, subject: str, recovery_codes_voided: int) -> Event:
    return Event(
        EventType.AUTHENTICATOR_APP_REMOVED,
        "account",
        subject,
        "success",
        subject=subject,
        detail={"recovery_codes_voided": recovery_codes_voided},
    )


def recovery_codes_issued(*, subject: str, codes: int, voided: int) -> Event:
    """A new set; `voided`: the unused codes of the set it replaced."""
    return Event(
        EventType.RECOVERY_CODES_ISSUED,
        "account",
        subject,
        "success",
        subject=subject,
        detail={"codes": codes, "voided": voided},
    )


def recovery_code_used(*, subject: str, client_id: str | None, remaining: int) -> Event:
    return Event(
        EventType.RECOVERY_CODE_USED,
        "account",
        subject,
        "success",
        client_id=client_id,
        subject=subject,
        detail={"remaining": remaining},
    )


def step_up_failed(
    *,
    subject: str,
    client_id: str | None,
    method: OneTimeCodeMethod,
    reason: Literal["wrong_code", "code_already_used", "throttled"],
) -> Event:
    """A code refused at a step-up. `code_already_used`: the app's right code for a time step
    already used (a replay, or a second tab); `throttled`: too many wrong codes, not checked."""
    return Event(
        EventType.STEP_UP_FAILED,
        "account",
        subject,
        "failure",
        client_id=client_id,
        subject=subject,
        detail={"method": method, "reason": reason},
    )


# The citizen's passkeys. Never a credential ID, a public key or an assertion: a passkey is
# named by its place in the account's list only on the account page.

PasskeyCeremony = Literal["registration", "sign_in", "step_up"]
PasskeyRefusal = Literal[
    "user_not_verified",
    "sign_count_regressed",
    "invalid_response",
    "unknown_credential",
    "challenge_not_live",
    "wrong_account",
    "duplicate_credential",
    "account_locked",
    "not_completed",
]


def passkey_added(*, subject: str, passkeys: int, synced: bool) -> Event:
    """`passkeys`: how many the account has now; `synced`: the authenticator may copy the key
    to the citizen's other devices (backup eligible)."""
    return Event(
        EventType.PASSKEY_ADDED,
        "account",
        subject,
        "success",
        subject=subject,
        detail={"passkeys": passkeys, "synced": synced},
    )


def passkey_renamed(*, subject: str) -> Event:
    return Event(EventType.PASSKEY_RENAMED, "account", subject, "success", subject=subject)


def passkey_removed(*, subject: str, passkeys: int) -> Event:
    """`passkeys`: how many the account has left."""
    return Event(
        EventType.PASSKEY_REMOVED,
        "account",
        subject,
        "success",
        subject=subject,
        detail={"passkeys": passkeys},
    )


def passkey_refused(
    *,
    subject: str | None,
    client_id: str | None,
    ceremony: PasskeyCeremony,
    reason: PasskeyRefusal,
) -> Event:
    """A passkey ceremony that did not succeed. `subject`: the account when it is known (the
    signed-in citizen, the username typed, or the owner of the credential presented);
    `user_not_verified`: a valid answer without user verification; `sign_count_regressed`: a
    valid answer whose counter went back (a cloned authenticator); `not_completed`: the browser
    said the ceremony failed (cancelled, no passkey, the device refused)."""
    return Event(
        EventType.PASSKEY_REFUSED,
        "account",
        subject,
        "failure",
        client_id=client_id,
        subject=subject,
        detail={"ceremony": ceremony, "reason": reason},
    )


def account_password_changed(*, subject: str, sessions_ended: int) -> Event:
    """The citizen changed their password on the account page, after typing the current one;
    `sessions_ended`: their other browsers, signed out by it (this one stays signed in)."""
    return Event(
        EventType.ACCOUNT_PASSWORD_CHANGED,
        "account",
        subject,
        "success",
        subject=subject,
        detail={"sessions_ended": sessions_ended},
    )
