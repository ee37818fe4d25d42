"""The consent page: names the agency, lists the data in plain words, Allow or Deny."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from consent.requested import client_of_interaction, requested_scopes_of_interaction
from idp import events
from idp.interactions.browser import signed_in_account
from idp.models import Interaction
from idp.oauth.context import OperationContext
from idp.oauth.continuation import deny_authorization, resume_authorization
from idp.protocol.claims import SCOPE_DESCRIPTIONS
from idp.web.citizen_pages import render_page
from idp.web.cookies import browser_state
from idp.web.interaction_forms import Finished, answer_posted_interaction, read_posted_form
from idp.web.outcomes import (
    expired_page,
    form_action_for,
    interaction_page,
    interaction_shown,
    page_lifetime,
)
from idp.web.state import operation

router = APIRouter()


@router.get("/consent", include_in_schema=False)
def consent_page(request: Request) -> Response:
    browser = browser_state(request)
    with operation(request) as ctx:
        interaction = interaction_shown(ctx, request, browser)
        client = client_of_interaction(ctx, interaction) if interaction else None
        if interaction is None or client is None:
            return expired_page(request)
        scopes = requested_scopes_of_interaction(interaction, client)
        return render_page(
            request,
            "consent/consent.html",
            interaction=interaction,
            form_action=form_action_for(interaction),
            csrf_token=interaction.csrf_token,
            back=interaction_page("/consent", interaction),
            client_name=client.name,
            purpose=client.purpose,
            data_items=[SCOPE_DESCRIPTIONS[s] for s in scopes if s in SCOPE_DESCRIPTIONS],
            **page_lifetime(ctx, interaction),
        )


@router.post("/consent", include_in_schema=False)
async def consent_decision(request: Request) -> Response:
    posted = await read_posted_form(request)
    if isinstance(posted, Response):
        return posted

    def decide(ctx: OperationContext, interaction: Interaction) -> Response | Finished:
        client = client_of_interaction(ctx, interaction)
        account = signed_in_account(ctx, posted.browser)
        if client is None or account is None:
            return expired_page(request)
        if posted.get("decision") != "allow":
            outcome = deny_authorization(ctx, interaction)
            ctx.record(events.consent_denied(subject=account.subject, client_id=client.client_id))
            return Finished(outcome, interaction.language)
        # The scopes come from the stored request, never from the form: consent is bound to the
        # request the client made (RFC 9700 4.7).
        scopes = requested_scopes_of_interaction(interaction, client)
        ctx.provider.consent.record_consent(
            ctx.session,
            account_id=account.id,
            client_id=client.client_id,
            scopes=scopes,
            now=ctx.now,
        )
        ctx.record(
            events.consent_given(
                subject=account.subject,
                client_id=client.client_id,
                purpose=client.purpose,
                scopes=scopes,
            )
        )
        outcome = resume_authorization(ctx, interaction, posted.browser, consented_here=True)
        return Finished(outcome, interaction.language)

    return await answer_posted_interaction(request, posted, decide)
