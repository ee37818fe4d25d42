"""Signing in to the gateway's own pages (the citizen's account area) rather than for an agency.

Such a sign-in is an interaction like any other (bound to the browser that started it, with its
CSRF token and expiry), but it names no client and no authorization request: after the password
it returns to the page of the gateway it was started from.
"""

from __future__ import annotations

import re

from idp.interactions.browser import BrowserState
from idp.interactions.outcomes import Outcome, ReturnToGateway, ShowSignIn
from idp.interactions.sessions import (
    complete_interaction,
    interaction_parameters,
    start_interaction,
)
from idp.models import Interaction
from idp.oauth.context import OperationContext
from idp.oauth.continuation import deny_authorization, resume_authorization

# Stands where an agency's client_id would be. Registered client ids are URL-safe base64, which
# has no colon, so no agency can ever be mistaken for it.
ACCOUNT_AREA = "gateway:account"
ACCOUNT_HOME = "/account"
# The pages that change how the citizen signs in: they ask for a fresh sign-in
# (idp.authentication.assurance.signed_in_recently) and are returned to after it.
AUTHENTICATOR_APP_SETUP = "/account/authenticator-app/set-up"
AUTHENTICATOR_APP_REMOVAL = "/account/authenticator-app/remove"
NEW_RECOVERY_CODES = "/account/recovery-codes/new"
PASSKEY_REMOVAL = "/account/passkeys/remove"
RETURN_PATHS = frozenset(
    {ACCOUNT_HOME, AUTHENTICATOR_APP_SETUP, AUTHENTICATOR_APP_REMOVAL, NEW_RECOVERY_CODES}
)
# The one return path with a query: which passkey the citizen was about to remove.
_PASSKEY_REMOVAL_OF_ONE = re.compile(rf"{re.escape(PASSKEY_REMOVAL)}\?passkey=[0-9]{{1,9}}")


def is_return_path(path: str) -> bool:
    """Whether `path` is a page of the gateway a sign-in may return to: only fixed pages (and
    the removal of one passkey, by number), never an address the request chose."""
    return path in RETURN_PATHS or _PASSKEY_REMOVAL_OF_ONE.fullmatch(path) is not None


def start_account_sign_in(
    ctx: OperationContext, browser: BrowserState, *, return_to: str | None = None
) -> ShowSignIn:
    """`return_to`: a return path (`is_return_path`; anything else is the account page)."""
    interaction = start_interaction(
        ctx.session,
        client_id=ACCOUNT_AREA,
        parameters=[
            ("return_to", return_to if return_to and is_return_path(return_to) else ACCOUNT_HOME)
        ],
        browser_binding=browser.ensure_binding(),
        now=ctx.now,
        lifetime=ctx.settings.interaction_lifetime,
    )
    return ShowSignIn(interaction.handle)


def is_account_sign_in(interaction: Interaction) -> bool:
    return interaction.client_id == ACCOUNT_AREA


def agency_of(interaction: Interaction) -> str | None:
    """The client the citizen is signing in for; None in the account area."""
    return None if is_account_sign_in(interaction) else interaction.client_id


def continue_after_sign_in(
    ctx: OperationContext, interaction: Interaction, browser: BrowserState
) -> Outcome:
    """After a successful sign-in: back to the account page, or on with the agency's request."""
    if is_account_sign_in(interaction):
        complete_interaction(ctx.session, interaction, now=ctx.now)
        return ReturnToGateway(_return_path(interaction))
    return resume_authorization(ctx, interaction, browser)


def cancel_sign_in(ctx: OperationContext, interaction: Interaction) -> Outcome:
    """The citizen pressed Cancel: back to the account page, or access_denied to the agency."""
    if is_account_sign_in(interaction):
        complete_interaction(ctx.session, interaction, now=ctx.now)
        return ReturnToGateway(_return_path(interaction))
    return deny_authorization(ctx, interaction)


def _return_path(interaction: Interaction) -> str:
    # Only ever a fixed page of the gateway: the stored value is checked, never trusted.
    stored = dict(interaction_parameters(interaction)).get("return_to")
    return stored if stored is not None and is_return_path(stored) else ACCOUNT_HOME


def returns_to_a_change(interaction: Interaction) -> bool:
    """Whether the sign-in is the fresh one a change to how the citizen signs in asks for."""
    return is_account_sign_in(interaction) and _return_path(interaction) != ACCOUNT_HOME
