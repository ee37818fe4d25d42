"""Signing in and stepping up with a passkey (idp.passkeys.sign_in). The page's script
(static/passkeys.js) asks `.../options` for the ceremony's options, passes them to the browser,
and posts the browser's answer (or that it failed) with the page's form, so the answer ends in
the same redirect or page as any form of the interaction. A refused passkey shows the page
again with one message; the access log says why."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from idp.interactions.browser import signed_in
from idp.models import Interaction
from idp.oauth.context import OperationContext
from idp.passkeys.enrolment import CeremonyStart, Refused
from idp.passkeys.sign_in import (
    finish_sign_in,
    finish_step_up,
    start_sign_in,
    start_step_up,
)
from idp.web.cookies import SESSION_COOKIE
from idp.web.form_errors import PASSKEY_SIGN_IN_REFUSED, PASSKEY_STEP_UP_REFUSED, FieldError
from idp.web.http import json_response
from idp.web.interaction_forms import (
    CookieToSet,
    Finished,
    PostedForm,
    answer_posted_interaction,
    on_posted_interaction,
    read_posted_form,
)
from idp.web.interaction_routes import render_sign_in_page
from idp.web.outcomes import expired_page
from idp.web.state import web_state
from idp.web.step_up_routes import STEP_UP_PATH, render_step_up_page

router = APIRouter()

SIGN_IN_PASSKEY = "/sign-in/passkey"
STEP_UP_PASSKEY = f"{STEP_UP_PATH}/passkey"
_EXPIRED = {"error": "page_expired"}


def _options(start: CeremonyStart) -> Response:
    return json_response(200, {"ceremony": start.handle, "options": json.loads(start.options_json)})


def _answer(posted: PostedForm) -> str | None:
    """The browser's answer (`credential.toJSON()`), or None when the script said it failed."""
    credential = posted.get("credential")
    return credential if credential and not posted.get("failure") else None


def _expired_json(_request: Request) -> Response:
    return json_response(400, _EXPIRED)


async def _options_for(
    request: Request, start: Callable[[OperationContext, Interaction, PostedForm], Response]
) -> Response:
    posted = await read_posted_form(request, not_a_form=_expired_json)
    if isinstance(posted, Response):
        return posted
    return await on_posted_interaction(
        request,
        posted,
        lambda ctx, interaction: start(ctx, interaction, posted),
        expired=_expired_json,
    )


@router.post(f"{SIGN_IN_PASSKEY}/options", include_in_schema=False)
async def sign_in_options(request: Request) -> Response:
    def start(ctx: OperationContext, interaction: Interaction, posted: PostedForm) -> Response:
        return _options(start_sign_in(ctx, interaction, username=posted.get("username")))

    return await _options_for(request, start)


@router.post(SIGN_IN_PASSKEY, include_in_schema=False)
async def sign_in_with_passkey(request: Request) -> Response:
    posted = await read_posted_form(request)
    if isinstance(posted, Response):
        return posted
    state = web_state(request)

    def finish(ctx: OperationContext, interaction: Interaction) -> Response | Finished:
        result = finish_sign_in(
            ctx,
            interaction,
            posted.browser,
            handle=posted.get("ceremony"),
            credential_json=_answer(posted),
            user_agent=request.headers.get("user-agent"),
        )
        if isinstance(result, Refused):
            return render_sign_in_page(
                request,
                state,
                ctx,
                interaction,
                username=posted.get("username"),
                errors=[FieldError(None, PASSKEY_SIGN_IN_REFUSED)],
            )
        return Finished(
            result.outcome,
            interaction.language,
            cookies=(CookieToSet(SESSION_COOKIE, result.session_secret),),
        )

    return await answer_posted_interaction(request, posted, finish)


@router.post(f"{STEP_UP_PASSKEY}/options", include_in_schema=False)
async def step_up_options(request: Request) -> Response:
    def start(ctx: OperationContext, interaction: Interaction, posted: PostedForm) -> Response:
        citizen = signed_in(ctx, posted.browser)
        if citizen is None:
            return json_response(400, _EXPIRED)
        return _options(start_step_up(ctx, interaction, citizen))

    return await _options_for(request, start)


@router.post(STEP_UP_PASSKEY, include_in_schema=False)
async def step_up_with_passkey(request: Request) -> Response:
    posted = await read_posted_form(request)
    if isinstance(posted, Response):
        return posted

    def finish(ctx: OperationContext, interaction: Interaction) -> Response | Finished:
        citizen = signed_in(ctx, posted.browser)
        if citizen is None:
            return expired_page(request)
        result = finish_step_up(
            ctx,
            interaction,
            posted.browser,
            citizen,
            handle=posted.get("ceremony"),
            credential_json=_answer(posted),
        )
        if isinstance(result, Refused):
            return render_step_up_page(
                request,
                ctx,
                interaction,
                errors=[FieldError("passkey", PASSKEY_STEP_UP_REFUSED)],
                passkey_error=PASSKEY_STEP_UP_REFUSED,
            )
        return Finished(result, interaction.language)

    return await answer_posted_interaction(request, posted, finish)
