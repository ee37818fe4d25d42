"""The step-up page: a signed-in citizen whose session is weaker than a request needs chooses a
stronger method they have (idp.authentication.step_up). Each method's own form or script posts
to that method's routes; this page offers them and lets the citizen say they cannot."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from idp.authentication.step_up import cannot_step_up, step_up_methods
from idp.interactions.browser import signed_in
from idp.models import Interaction
from idp.oauth.context import OperationContext
from idp.oauth.continuation import level_needed
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

STEP_UP_PATH = "/step-up"


@router.get(STEP_UP_PATH, include_in_schema=False)
def step_up_page(request: Request) -> Response:
    browser = browser_state(request)
    with operation(request) as ctx:
        interaction = interaction_shown(ctx, request, browser)
        citizen = signed_in(ctx, browser)
        if interaction is None or citizen is None:
            return expired_page(request)
        return render_step_up_page(request, ctx, interaction)


def render_step_up_page(
    request: Request, ctx: OperationContext, interaction: Interaction, **method_context: Any
) -> Response:
    """The page, also in a method's error state (`method_context`: what its section shows)."""
    citizen = signed_in(ctx, browser_state(request))
    if citizen is None:
        return expired_page(request)
    client = ctx.registered_client(interaction.client_id)
    return render_page(
        request,
        "idp/step_up.html",
        interaction=interaction,
        back=interaction_page(STEP_UP_PATH, interaction),
        form_action=form_action_for(interaction),
        csrf_token=interaction.csrf_token,
        client_name=client.name if client else "",
        methods=[
            method.value
            for method in step_up_methods(
                ctx.session, citizen.account, needed=level_needed(ctx, interaction)
            )
        ],
        errors=method_context.pop("errors", []),
        **method_context,
        **page_lifetime(ctx, interaction),
    )


@router.post(STEP_UP_PATH, include_in_schema=False)
async def step_up_declined(request: Request) -> Response:
    """ "I cannot do this now": the request fails, the agency learns the level was not met."""
    posted = await read_posted_form(request)
    if isinstance(posted, Response):
        return posted

    def decline(ctx: OperationContext, interaction: Interaction) -> Finished:
        return Finished(cannot_step_up(ctx, interaction), interaction.language)

    return await answer_posted_interaction(request, posted, decline)
