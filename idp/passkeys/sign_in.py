"""Signing in and stepping up with a passkey: the options for the browser and the checks of its
answer, then a new browser session (a sign-in) or a further authentication in the session (a
step-up, idp.authentication.step_up). Every refusal is logged with its reason. Never commits.

A sign-in without a username asks for any discoverable credential (an empty
`allowCredentials`); the answer's user handle names the account, and the credential must be
that account's. After a username is typed, the account's own passkeys are asked for, and
only they are accepted. That list tells whoever types a username whether the account has
passkeys (WebAuthn 14.6.2): a trade-off accepted so that a citizen who typed their username is
offered only their own passkeys (ADR 0022).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from idp import events
from idp.accounts import find_account_by_username, get_active_account
from idp.authentication.account_sign_in import agency_of, continue_after_sign_in
from idp.authentication.assurance import begin_browser_session
from idp.authentication.step_up import complete_step_up
from idp.events.citizen import PasskeyCeremony, PasskeyRefusal
from idp.interactions.browser import BrowserState, SignedIn
from idp.interactions.outcomes import Outcome
from idp.interactions.sessions import session_of_cookie
from idp.models import Account, Interaction
from idp.oauth.context import OperationContext
from idp.passkeys.ceremonies import (
    Assertion,
    CeremonyRefused,
    authentication_options,
    read_assertion,
    verify_assertion,
)
from idp.passkeys.challenges import Binding, Purpose, claim_challenge, issue_challenge
from idp.passkeys.credentials import find_passkey, passkeys_of, record_use
from idp.passkeys.enrolment import CeremonyStart, Refused, relying_party, user_handle
from idp.passkeys.models import Passkey
from idp.protocol.assurance import AuthenticationMethod, MethodUse
from idp.sign_out.ending import EndedBy, EndReason, end_browser_session


@dataclass(frozen=True)
class PasskeySignedIn:
    outcome: Outcome
    session_secret: str


def passkey_use(passkey: Passkey, *, multi_device: bool, at: datetime) -> MethodUse:
    """RFC 8176: `hwk` for a key bound to its device, `swk` for one the authenticator may sync
    (backup eligible); `user` for the presence test (ADR 0022)."""
    synced = multi_device or passkey.backup_eligible
    return MethodUse(
        method=AuthenticationMethod.PASSKEY,
        amr=("swk" if synced else "hwk", "user"),
        authenticated_at=at,
    )


def start_sign_in(
    ctx: OperationContext, interaction: Interaction, *, username: str
) -> CeremonyStart:
    account = find_account_by_username(ctx.session, username[:128]) if username.strip() else None
    allowed = [p.credential_id for p in passkeys_of(ctx.session, account)] if account else []
    options = authentication_options(relying_party(ctx), allowed=allowed)
    binding = Binding(
        interaction_id=interaction.id, account_id=account.id if account and allowed else None
    )
    handle = issue_challenge(ctx, Purpose.SIGN_IN, binding, options.challenge)
    return CeremonyStart(handle=handle, options_json=options.json)


def finish_sign_in(
    ctx: OperationContext,
    interaction: Interaction,
    browser: BrowserState,
    *,
    handle: str,
    credential_json: str | None,
    user_agent: str | None = None,
) -> PasskeySignedIn | Refused:
    claimed = claim_challenge(ctx, Purpose.SIGN_IN, Binding(interaction_id=interaction.id), handle)
    checked = _checked(
        ctx,
        interaction,
        "sign_in",
        claimed_challenge=claimed.challenge if claimed else None,
        expected_account_id=claimed.account_id if claimed else None,
        credential_json=credential_json,
    )
    if isinstance(checked, Refused):
        return checked
    account, use = checked
    earlier = session_of_cookie(ctx.session, browser.session_secret)
    if earlier is not None:
        end_browser_session(
            ctx, earlier, reason=EndReason.REPLACED, by=EndedBy("account", account.subject)
        )
    new = begin_browser_session(ctx, account, use, user_agent=user_agent)
    interaction.authenticated_session_id = new.record.id
    ctx.record(
        events.sign_in_succeeded(
            subject=account.subject,
            client_id=agency_of(interaction),
            method="+".join(use.amr),
            acr=new.record.acr,
        )
    )
    browser.session_secret = new.cookie_secret
    return PasskeySignedIn(
        outcome=continue_after_sign_in(ctx, interaction, browser), session_secret=new.cookie_secret
    )


def start_step_up(
    ctx: OperationContext, interaction: Interaction, citizen: SignedIn
) -> CeremonyStart:
    allowed = [p.credential_id for p in passkeys_of(ctx.session, citizen.account)]
    options = authentication_options(relying_party(ctx), allowed=allowed)
    binding = Binding(
        interaction_id=interaction.id,
        browser_session_id=citizen.browser_session.id,
        account_id=citizen.account.id,
    )
    handle = issue_challenge(ctx, Purpose.STEP_UP, binding, options.challenge)
    return CeremonyStart(handle=handle, options_json=options.json)


def finish_step_up(
    ctx: OperationContext,
    interaction: Interaction,
    browser: BrowserState,
    citizen: SignedIn,
    *,
    handle: str,
    credential_json: str | None,
) -> Outcome | Refused:
    binding = Binding(interaction_id=interaction.id, browser_session_id=citizen.browser_session.id)
    claimed = claim_challenge(ctx, Purpose.STEP_UP, binding, handle)
    checked = _checked(
        ctx,
        interaction,
        "step_up",
        claimed_challenge=claimed.challenge if claimed else None,
        expected_account_id=citizen.account.id,
        credential_json=credential_json,
        subject=citizen.account.subject,
    )
    if isinstance(checked, Refused):
        return checked
    _, use = checked
    return complete_step_up(ctx, interaction, browser, citizen, use)


def _checked(  # noqa: PLR0911  (one return per refusal reason, each logged)
    ctx: OperationContext,
    interaction: Interaction,
    ceremony: PasskeyCeremony,
    *,
    claimed_challenge: bytes | None,
    expected_account_id: int | None,
    credential_json: str | None,
    subject: str | None = None,
) -> tuple[Account, MethodUse] | Refused:
    """The answer verified against its passkey, the counter moved on; or the refusal, logged
    (naming the account when it is known)."""

    def refuse(reason: PasskeyRefusal, named: str | None = subject) -> Refused:
        ctx.record(
            events.passkey_refused(
                subject=named, client_id=agency_of(interaction), ceremony=ceremony, reason=reason
            )
        )
        return Refused(reason)

    if credential_json is None:
        return refuse("not_completed")
    if claimed_challenge is None:
        return refuse("challenge_not_live")
    assertion = read_assertion(credential_json)
    if isinstance(assertion, CeremonyRefused):
        return refuse(assertion.reason)
    passkey = find_passkey(ctx.session, assertion.credential_id)
    if passkey is None:
        return refuse("unknown_credential")
    owner = ctx.session.get(Account, passkey.account_id)
    owner_subject = owner.subject if owner else None
    if not _handle_matches(assertion, passkey, owner) or (
        expected_account_id is not None and passkey.account_id != expected_account_id
    ):
        return refuse("wrong_account", subject or owner_subject)
    verified = verify_assertion(
        relying_party(ctx),
        assertion,
        challenge=claimed_challenge,
        public_key=passkey.public_key,
        stored_sign_count=passkey.sign_count,
    )
    if isinstance(verified, CeremonyRefused):
        return refuse(verified.reason, owner_subject)
    account = get_active_account(ctx.session, passkey.account_id)
    if account is None:
        return refuse("account_locked", owner_subject)
    if not record_use(ctx.session, passkey, new_sign_count=verified.new_sign_count, now=ctx.now):
        # Another answer with this counter value won the race: one of the two is a clone.
        return refuse("sign_count_regressed", owner_subject)
    return account, passkey_use(passkey, multi_device=verified.multi_device, at=ctx.now)


def _handle_matches(assertion: Assertion, passkey: Passkey, owner: Account | None) -> bool:
    """The user handle the authenticator returned (always, for a discoverable credential) must
    be the credential's account's (WebAuthn 7.2 step 6)."""
    if owner is None:
        return False
    return assertion.user_handle is None or assertion.user_handle == user_handle(owner)
