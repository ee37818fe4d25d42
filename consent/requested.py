"""What an interaction asks the citizen to consent to: the agency and the data, as the consent
page lists them and as a decision records them (read from the stored request, never the form)."""

from __future__ import annotations

from idp.interactions.sessions import interaction_parameters
from idp.models import Client, Interaction
from idp.oauth.context import OperationContext
from idp.protocol.claims import InvalidClaimsRequest, parse_claims_request, scopes_needed_for_claims


def client_of_interaction(ctx: OperationContext, interaction: Interaction) -> Client | None:
    return ctx.registered_client(interaction.client_id)


def requested_scopes_of_interaction(interaction: Interaction, client: Client) -> list[str]:
    """The scopes the consent page lists: requested, allowed for the client, plus those needed
    for individually requested claims."""
    params = dict(interaction_parameters(interaction))
    requested = [s for s in params.get("scope", "").split() if s in client.scopes]
    try:
        claims_request = parse_claims_request(params.get("claims"))
    except InvalidClaimsRequest:
        claims_request = parse_claims_request(None)
    extra = scopes_needed_for_claims(claims_request) & set(client.scopes)
    return list(dict.fromkeys([*requested, *sorted(extra)]))
