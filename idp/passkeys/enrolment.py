"""What the citizen changes about their passkeys on the account page: adding one (a
registration ceremony), renaming and removing one. Each is logged, and so is every refused
registration. Adding and removing need a fresh sign-in, which the pages ask for first
(idp.authentication.assurance.signed_in_recently). Never commits."""

from __future__ import annotations

from dataclasses import dataclass

from idp import events
from idp.events.citizen import PasskeyRefusal
from idp.interactions.browser import SignedIn
from idp.models import Account
from idp.oauth.context import OperationContext
from idp.passkeys.ceremonies import (
    CeremonyRefused,
    RelyingParty,
    registration_options,
    verify_registration,
)
from idp.passkeys.challenges import Binding, Purpose, claim_challenge, issue_challenge
from idp.passkeys.credentials import (
    add_passkey,
    passkeys_of,
    remove_passkey,
    rename_passkey,
)
from idp.passkeys.models import Passkey

# How the citizen's device names the gateway beside the passkey.
RP_NAME = "Citizen sign-in"


def relying_party(ctx: OperationContext) -> RelyingParty:
    return RelyingParty.of_issuer(ctx.settings.issuer, name=RP_NAME)


def user_handle(account: Account) -> bytes:
    """What the authenticator stores as the passkey's user (WebAuthn `user.id`, at most 64
    bytes, no personal data): the account's subject, random and public already."""
    return account.subject.encode()


@dataclass(frozen=True)
class CeremonyStart:
    """The options the page's script passes to the browser, and the handle its answer names."""

    handle: str
    options_json: str


@dataclass(frozen=True)
class Refused:
    reason: PasskeyRefusal


def start_registration(ctx: OperationContext, citizen: SignedIn) -> CeremonyStart:
    account = citizen.account
    names = " ".join(part for part in (account.given_name, account.family_name) if part)
    options = registration_options(
        relying_party(ctx),
        user_handle=user_handle(account),
        username=account.username,
        display_name=names or account.username,
        existing=[passkey.credential_id for passkey in passkeys_of(ctx.session, account)],
    )
    binding = Binding(browser_session_id=citizen.browser_session.id, account_id=account.id)
    handle = issue_challenge(ctx, Purpose.REGISTRATION, binding, options.challenge)
    return CeremonyStart(handle=handle, options_json=options.json)


def finish_registration(
    ctx: OperationContext,
    citizen: SignedIn,
    *,
    handle: str,
    credential_json: str | None,
    name: str,
) -> Passkey | Refused:
    """The browser's answer; `credential_json` None: the browser said it failed."""
    account = citizen.account
    binding = Binding(browser_session_id=citizen.browser_session.id)
    claimed = claim_challenge(ctx, Purpose.REGISTRATION, binding, handle)
    if credential_json is None:
        return _refused(ctx, account, "not_completed")
    if claimed is None or claimed.account_id != account.id:
        return _refused(ctx, account, "challenge_not_live")
    verified = verify_registration(
        relying_party(ctx), credential_json=credential_json, challenge=claimed.challenge
    )
    if isinstance(verified, CeremonyRefused):
        return _refused(ctx, account, verified.reason)
    passkey = add_passkey(ctx.session, account, verified, name=name, now=ctx.now)
    if passkey is None:
        return _refused(ctx, account, "duplicate_credential")
    ctx.record(
        events.passkey_added(
            subject=account.subject,
            passkeys=len(passkeys_of(ctx.session, account)),
            synced=verified.backup_eligible,
        )
    )
    return passkey


def rename(ctx: OperationContext, account: Account, passkey_id: int, name: str) -> bool:
    if not rename_passkey(ctx.session, account, passkey_id, name):
        return False
    ctx.record(events.passkey_renamed(subject=account.subject))
    return True


def remove(ctx: OperationContext, account: Account, passkey_id: int) -> bool:
    if remove_passkey(ctx.session, account, passkey_id) is None:
        return False
    ctx.record(
        events.passkey_removed(
            subject=account.subject, passkeys=len(passkeys_of(ctx.session, account))
        )
    )
    return True


def _refused(ctx: OperationContext, account: Account, reason: PasskeyRefusal) -> Refused:
    ctx.record(
        events.passkey_refused(
            subject=account.subject, client_id=None, ceremony="registration", reason=reason
        )
    )
    return Refused(reason)
