"""Step-up: a signed-in citizen confirms it is them with a stronger method because a request
needs a higher level of assurance than the session proves (idp.protocol.assurance).

Each method (an authenticator app, a passkey) checks its own proof on its own page; then it
calls `complete_step_up`, which records the authentication with the session, logs it, and goes
on with the request. The page that offers the methods is idp.web.step_up_routes.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from idp import events
from idp.authentication.account_sign_in import agency_of, continue_after_sign_in, is_account_sign_in
from idp.authentication.assurance import enrolled_methods, record_authentication
from idp.interactions.browser import BrowserState, SignedIn
from idp.interactions.outcomes import Outcome, ReturnToGateway
from idp.interactions.sessions import complete_interaction
from idp.models import Account, Interaction
from idp.oauth.context import OperationContext
from idp.oauth.continuation import decline_step_up
from idp.protocol.assurance import AuthenticationMethod, Level, MethodUse, level_of_methods


def step_up_methods(
    session: Session, account: Account, *, needed: Level = Level.LOW
) -> list[AuthenticationMethod]:
    """The methods above a password the citizen has that reach `needed` with it, in the order
    the page offers them (for high, a passkey only: an app's code would ask again)."""
    enrolled = enrolled_methods(session, account)
    return [
        method
        for method in AuthenticationMethod
        if method in enrolled
        and method.raises_level
        and level_of_methods({AuthenticationMethod.PASSWORD, method}) >= needed
    ]


def complete_step_up(
    ctx: OperationContext,
    interaction: Interaction,
    browser: BrowserState,
    citizen: SignedIn,
    use: MethodUse,
) -> Outcome:
    """After a method's proof was checked: the session's new level, in the log, and on."""
    assurance = record_authentication(ctx, citizen.browser_session, use)
    ctx.record(
        events.sign_in_succeeded(
            subject=citizen.account.subject,
            client_id=agency_of(interaction),
            method="+".join(use.amr),
            acr=assurance.acr,
        )
    )
    return continue_after_sign_in(ctx, interaction, browser)


def cannot_step_up(ctx: OperationContext, interaction: Interaction) -> Outcome:
    """The citizen cannot use a stronger method now: the agency's request fails with
    `unmet_authentication_requirements`; in the account area, back to the account page."""
    if is_account_sign_in(interaction):
        complete_interaction(ctx.session, interaction, now=ctx.now)
        return ReturnToGateway("/account")
    return decline_step_up(ctx, interaction)
