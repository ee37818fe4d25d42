"""The consent page: names the agency, lists the data in plain words, Allow or Deny."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from consent.requested import client_of_interaction, requested_scopes_of_interaction
from idp import events
from idp.interactions.browser import signed_in_account
from idp.oauth.continuation import deny_authorization, resume_authorization
from idp.protocol.claims import SCOPE_DESCRIPTIONS
from idp.web.citizen_pages import render_page
from idp.web.cookies import browser_state
from idp.web.http import page_form
from idp.web.outcomes import (
    expired_if_completed_meanwhile,
    expired_page,
    form_action_for,
    interaction_page,
    interaction_shown,
    interaction_submitted,
    page_lifetime,
    render_outcome,
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
    form = await page_form(request)
    if form is None:
        return expired_page(request)
    browser = browser_state(request)

    def work() -> Response:
        with operation(request) as ctx:
            interaction = interaction_submitted(ctx, form, browser)
            if interaction is None:
                return expired_page(request)
            client = client_of_interaction(ctx, interaction)
            account = signed_in_account(ctx, browser)
            if client is None or account is None:
                return expired_page(request)
            language = interaction.language
            if form.get("decision") != "allow":
                outcome = deny_authorization(ctx, interaction)
                ctx.record(
                    events.consent_denied(subject=account.subject, client_id=client.client_id)
                )
            else:
                # The scopes come from the stored request, never from the form: consent is bound
                # to the request the client made (RFC 9700 4.7).
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
                outcome = resume_authorization(ctx, interaction, browser, consented_here=True)
        return render_outcome(request, outcome, browser, redirect_status=303, language=language)

    return await run_in_threadpool(expired_if_completed_meanwhile(request, work))
