"""What the citizen changes about their authenticators on the account pages: confirming a new
authenticator app (which gives them a first set of recovery codes), removing it (its recovery
codes go with it), and a new set of recovery codes. Each is logged. The pages ask for a fresh
sign-in first (idp.authentication.assurance.signed_in_recently). Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from idp import events
from idp.authenticators.authenticator_apps import (
    confirm_setup,
    confirmed_app,
    has_authenticator_app,
    remove_authenticator_app,
)
from idp.authenticators.recovery_codes import (
    IssuedRecoveryCodes,
    issue_recovery_codes,
    unused_recovery_codes,
    void_recovery_codes,
)
from idp.models import Account
from idp.oauth.context import OperationContext


@dataclass(frozen=True)
class Authenticators:
    """What the account page says about them: when the app was set up (None: there is
    none), when it was last used, and how many recovery codes are left."""

    app_set_up_at: datetime | None
    app_last_used_at: datetime | None
    recovery_codes_left: int


def authenticators_of(session: Session, account: Account) -> Authenticators:
    app = confirmed_app(session, account)
    return Authenticators(
        app_set_up_at=app.confirmed_at if app else None,
        app_last_used_at=app.last_used_at if app else None,
        recovery_codes_left=unused_recovery_codes(session, account),
    )


def enrol_authenticator_app(
    ctx: OperationContext, account: Account, code: str
) -> IssuedRecoveryCodes | None:
    """The app's first code confirms it; the citizen gets a new set of recovery codes. None
    when the code is not right (nothing changes then)."""
    confirmed = confirm_setup(ctx, account, code)
    if confirmed is None:
        return None
    ctx.record(
        events.authenticator_app_enrolled(subject=account.subject, replaced=confirmed.replaced)
    )
    return _issue(ctx, account)


def remove_app_and_codes(ctx: OperationContext, account: Account) -> bool:
    """Without the app its recovery codes would be a second factor on their own: both go."""
    if not remove_authenticator_app(ctx.session, account):
        return False
    voided = void_recovery_codes(ctx.session, account)
    ctx.record(
        events.authenticator_app_removed(subject=account.subject, recovery_codes_voided=voided)
    )
    return True


def renew_recovery_codes(ctx: OperationContext, account: Account) -> IssuedRecoveryCodes | None:
    """A new set, the old one void; None without an authenticator app (the codes stand in
    for it)."""
    if not has_authenticator_app(ctx.session, account):
        return None
    return _issue(ctx, account)


def _issue(ctx: OperationContext, account: Account) -> IssuedRecoveryCodes:
    issued = issue_recovery_codes(ctx, account)
    ctx.record(
        events.recovery_codes_issued(
            subject=account.subject, codes=len(issued.codes), voided=issued.voided
        )
    )
    return issued
