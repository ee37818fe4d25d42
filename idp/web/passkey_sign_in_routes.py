"""Signing in and stepping up with a passkey (idp.passkeys.sign_in). The page's script
(static/passkeys.js) asks `.../options` for the ceremony's options, passes them to the browser,
and posts the browser's answer (or that it failed) with the page's form, so the answer ends in
the same redirect or page as any form of the interaction. A refused passkey shows the page
again with one message; the access log says why."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from idp.interactions.browser import signed_in
from idp.models import Interaction
from idp.oauth.context import OperationContext
from idp.passkeys.enrolment import CeremonyStart, Refused
from idp.passkeys.sign_in import (
    PasskeySignedIn,
    finish_sign_in,
    finish_step_up,
    start_sign_in,
    start_step_up,
)
from idp.protocol.errors import BODY_NOT_A_FORM
from idp.web.cookies import SESSION_COOKIE, browser_state, set_cookie
from idp.web.errors import error_page
from idp.web.form_errors import PASSKEY_SIGN_IN_REFUSED, PASSKEY_STEP_UP_REFUSED, FieldError
from idp.web.http import json_response, page_form
from idp.web.interaction_routes import render_sign_in_page
from idp.web.outcomes import (
    expired_if_completed_meanwhile,
    expired_page,
    interaction_submitted,
    render_outcome,
)
from idp.web.state import operation, web_state
from idp.web.step_up_routes import STEP_UP_PATH, render_step_up_page

router = APIRouter()

SIGN_IN_PASSKEY = "/sign-in/passkey"
STEP_UP_PASSKEY = f"{STEP_UP_PATH}/passkey"
_EXPIRED = {"error": "page_expired"}


def _options(start: CeremonyStart) -> Response:
    return json_response(200, {"ceremony": start.handle, "options": json.loads(start.options_json)})


def _answer(form: dict[str, str]) -> str | None:
    """The browser's answer (`credential.toJSON()`), or None when the script said it failed."""
    credential = form.get("credential", "")
    return credential if credential and not form.get("failure") else None


async def _options_for(
    request: Request, start: Callable[[OperationContext, Interaction, dict[str, str]], Response]
) -> Response:
    form = await page_form(request)
    if form is None:
        return json_response(400, _EXPIRED)
    browser = browser_state(request)

    def work() -> Response:
        with operation(request) as ctx:
            interaction = interaction_submitted(ctx, form, browser)
            if interaction is None:
                return json_response(400, _EXPIRED)
            return start(ctx, interaction, form)

    return await run_in_threadpool(work)


@router.post(f"{SIGN_IN_PASSKEY}/options", include_in_schema=False)
async def sign_in_options(request: Request) -> Response:
    def start(ctx: OperationContext, interaction: Interaction, form: dict[str, str]) -> Response:
        return _options(start_sign_in(ctx, interaction, username=form.get("username", "")))

    return await _options_for(request, start)


@router.post(SIGN_IN_PASSKEY, include_in_schema=False)
async def sign_in_with_passkey(request: Request) -> Response:
    form = await page_form(request)
    if form is None:
        return error_page(request, BODY_NOT_A_FORM)
    state = web_state(request)
    browser = browser_state(request)

    def work() -> Response:
        with operation(request) as ctx:
            interaction = interaction_submitted(ctx, form, browser)
            if interaction is None:
                return expired_page(request)
            language = interaction.language
            result = finish_sign_in(
                ctx,
                interaction,
                browser,
                handle=form.get("ceremony", ""),
                credential_json=_answer(form),
                user_agent=request.headers.get("user-agent"),
            )
            if isinstance(result, Refused):
                return render_sign_in_page(
                    request,
                    state,
                    ctx,
                    interaction,
                    username=form.get("username", ""),
                    errors=[FieldError(None, PASSKEY_SIGN_IN_REFUSED)],
                )
        return _signed_in_response(request, result, language)

    def _signed_in_response(
        request: Request, result: PasskeySignedIn, language: str | None
    ) -> Response:
        # The transaction has committed: only now may the browser carry the new session.
        response = render_outcome(
            request, result.outcome, browser, redirect_status=303, language=language
        )
        set_cookie(state, response, SESSION_COOKIE, result.session_secret)
        return response

    return await run_in_threadpool(expired_if_completed_meanwhile(request, work))


@router.post(f"{STEP_UP_PASSKEY}/options", include_in_schema=False)
async def step_up_options(request: Request) -> Response:
    def start(ctx: OperationContext, interaction: Interaction, form: dict[str, str]) -> Response:
        citizen = signed_in(ctx, browser_state(request))
        if citizen is None:
            return json_response(400, _EXPIRED)
        return _options(start_step_up(ctx, interaction, citizen))

    return await _options_for(request, start)


@router.post(STEP_UP_PASSKEY, include_in_schema=False)
async def step_up_with_passkey(request: Request) -> Response:
    form = await page_form(request)
    if form is None:
        return error_page(request, BODY_NOT_A_FORM)
    browser = browser_state(request)

    def work() -> Response:
        with operation(request) as ctx:
            interaction = interaction_submitted(ctx, form, browser)
            citizen = signed_in(ctx, browser)
            if interaction is None or citizen is None:
                return expired_page(request)
            language = interaction.language
            result = finish_step_up(
                ctx,
                interaction,
                browser,
                citizen,
                handle=form.get("ceremony", ""),
                credential_json=_answer(form),
            )
            if isinstance(result, Refused):
                return render_step_up_page(
                    request,
                    ctx,
                    interaction,
                    errors=[FieldError("passkey", PASSKEY_STEP_UP_REFUSED)],
                    passkey_error=PASSKEY_STEP_UP_REFUSED,
                )
        return render_outcome(request, result, browser, redirect_status=303, language=language)

    return await run_in_threadpool(expired_if_completed_meanwhile(request, work))
