"""A request continued after one of the citizen's pages, from its stored interaction: resumed
after sign-in or consent, refused when the citizen denies or cannot step up, and the level it
needs for the step-up page. The checks themselves are idp.oauth.authorize's."""

from __future__ import annotations

from idp import events
from idp.interactions.browser import BrowserState
from idp.interactions.outcomes import ErrorPage, Outcome
from idp.interactions.sessions import interaction_parameters
from idp.models import Client, Interaction
from idp.oauth.authorize import Reply, finish_interaction, handle_authorization_request
from idp.oauth.context import OperationContext
from idp.oauth.requests import ProtocolRequest
from idp.protocol.assurance import Level, required_level
from idp.protocol.authorization import InvalidAuthorizationParameter, parse_response_mode
from idp.protocol.claims import InvalidClaimsRequest, parse_claims_request
from idp.protocol.errors import (
    ACCESS_DENIED,
    CLIENT_NO_LONGER_REGISTERED,
    UNMET_AUTHENTICATION_REQUIREMENTS,
    ProtocolError,
)
from idp.redirect_uris import redirect_uri_is_registered


def resume_authorization(
    ctx: OperationContext,
    interaction: Interaction,
    browser: BrowserState,
    *,
    consented_here: bool = False,
) -> Outcome:
    """Continue a request after the sign-in or consent page."""
    request = _stored_request(ctx, interaction)
    return handle_authorization_request(
        ctx, request, browser, interaction=interaction, consented_here=consented_here
    )


def deny_authorization(ctx: OperationContext, interaction: Interaction) -> Outcome:
    """The citizen pressed Cancel or Deny: `access_denied` to the validated redirect URI."""
    return _refuse_to_client(ctx, interaction, ACCESS_DENIED)


def level_needed(ctx: OperationContext, interaction: Interaction) -> Level:
    """The level an interaction's request needs (checked when it began), for the step-up page
    to offer only the methods that reach it; low for the gateway's own account area."""
    params = dict(interaction_parameters(interaction))
    client = ctx.registered_client(params.get("client_id", ""))
    if client is None:
        return Level.LOW
    try:
        claims_request = parse_claims_request(params.get("claims"))
    except InvalidClaimsRequest:
        return Level.LOW
    return required_level(
        client_minimum=Level.labelled(client.minimum_level),
        acr_values=params.get("acr_values"),
        essential_acr=claims_request.essential("acr"),
        voluntary_acr=claims_request.id_token.get("acr"),
        vocabulary=ctx.settings.acr_vocabulary,
    ).level


def decline_step_up(ctx: OperationContext, interaction: Interaction) -> Outcome:
    """The citizen cannot confirm it is them with a stronger method now (OpenID Connect Core
    Unmet Authentication Requirements 1.0)."""
    return _refuse_to_client(ctx, interaction, UNMET_AUTHENTICATION_REQUIREMENTS)


def _refuse_to_client(
    ctx: OperationContext, interaction: Interaction, error: ProtocolError
) -> Outcome:
    params = dict(interaction_parameters(interaction))
    client: Client | None = ctx.registered_client(params.get("client_id", ""))
    redirect_uri = params.get("redirect_uri", "")
    finish_interaction(ctx, interaction)
    if client is None or not redirect_uri_is_registered(client, redirect_uri):
        return ErrorPage(CLIENT_NO_LONGER_REGISTERED)
    try:
        mode = parse_response_mode(params.get("response_mode"))
    except InvalidAuthorizationParameter:
        mode = "query"
    if error is ACCESS_DENIED:
        ctx.record(events.authorization_denied(client_id=client.client_id))
    return Reply(redirect_uri, mode, params.get("state"), ctx.settings.issuer).error(error)


def _stored_request(ctx: OperationContext, interaction: Interaction) -> ProtocolRequest:
    return ProtocolRequest(
        method="GET",
        url=ctx.settings.endpoint("/authorize"),
        query=interaction_parameters(interaction),
    )
