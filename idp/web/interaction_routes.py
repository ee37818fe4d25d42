"""Front-channel pages: the authorization endpoint and the sign-in page."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from idp.authentication.account_sign_in import (
    cancel_sign_in,
    is_account_sign_in,
    returns_to_a_change,
)
from idp.authentication.allowances import allowance_values
from idp.authentication.sign_in import (
    PasswordCheck,
    SignInFailed,
    SignInLocked,
    SignInThrottled,
    complete_password_sign_in,
    password_to_check,
)
from idp.interactions.outcomes import ErrorPage, Outcome
from idp.interactions.sessions import extend_interaction, interaction_parameters
from idp.models import Interaction
from idp.oauth.authorize import handle_authorization_request
from idp.oauth.context import OperationContext
from idp.protocol.errors import BODY_NOT_A_FORM, BODY_TOO_LARGE, ProtocolError
from idp.web.citizen_pages import render_page
from idp.web.cookies import (
    ALLOWANCE_COOKIE,
    SESSION_COOKIE,
    browser_state,
    cookie_name,
)
from idp.web.form_errors import (
    ACCOUNT_LOCKED,
    CREDENTIALS_NOT_RIGHT,
    TOO_MANY_FOR_USERNAME,
    TOO_MANY_FROM_NETWORK,
    FieldError,
    message_for,
    missing_sign_in_fields,
)
from idp.web.http import (
    BodyTooLarge,
    NotAForm,
    json_response,
    protocol_request,
    read_form,
)
from idp.web.interaction_forms import (
    CookieToSet,
    Finished,
    answer_posted_interaction,
    on_posted_interaction,
    read_posted_form,
)
from idp.web.language_routes import local_path
from idp.web.outcomes import (
    expired_page,
    form_action_for,
    interaction_page,
    interaction_shown,
    page_lifetime,
    render_outcome,
)
from idp.web.state import WebState, operation, run_unit_of_work, web_state

router = APIRouter()

_THROTTLED = {"source_address": TOO_MANY_FROM_NETWORK}


async def _authorize(request: Request, form: list[tuple[str, str]] | None) -> Response:
    state = web_state(request)
    proto = protocol_request(request, url=state.provider.settings.endpoint("/authorize"), form=form)
    browser = browser_state(request)
    # A page the request ends in at once (the form post, an error) in the language it asks for.
    asked = dict(form if form is not None else request.query_params.multi_items())
    language = asked.get("ui_locales")

    def work() -> Outcome:
        with operation(request) as ctx:
            return handle_authorization_request(ctx, proto, browser)

    # An agency's every sign-in passes here, most of them on a session already: as the back
    # channel's requests, on the event loop on SQLite (ADR 0028). The page is rendered after,
    # so the database's turn is not held while it is.
    outcome = await run_unit_of_work(state, work)
    return render_outcome(request, outcome, browser, language=language)


def _bad_form_page(request: Request, error: ProtocolError) -> Response:
    return render_outcome(request, ErrorPage(error), browser_state(request))


@router.get("/authorize", include_in_schema=False)
async def authorize_get(request: Request) -> Response:
    return await _authorize(request, None)


@router.post("/authorize", include_in_schema=False)
async def authorize_post(request: Request) -> Response:
    try:
        form = await read_form(request)
    except NotAForm:
        return _bad_form_page(request, BODY_NOT_A_FORM)
    except BodyTooLarge:
        return _bad_form_page(request, BODY_TOO_LARGE)
    return await _authorize(request, form)


@router.get("/sign-in", include_in_schema=False)
def sign_in_page(request: Request) -> Response:
    state = web_state(request)
    browser = browser_state(request)
    with operation(request) as ctx:
        interaction = interaction_shown(ctx, request, browser)
        if interaction is None:
            return expired_page(request)
        login_hint = dict(interaction_parameters(interaction)).get("login_hint", "")
        return render_sign_in_page(request, state, ctx, interaction, username=login_hint)


def render_sign_in_page(
    request: Request,
    state: WebState,
    ctx: OperationContext,
    interaction: Interaction,
    *,
    username: str,
    errors: Sequence[FieldError] = (),
    credentials_not_right: bool = False,
) -> Response:
    """The sign-in page; with `errors`, in its error state (the GOV.UK pattern, docs/
    page-patterns.md). `credentials_not_right` marks both fields with one message, which never
    says which of the two was wrong."""
    client = ctx.registered_client(interaction.client_id)
    if credentials_not_right:
        errors = [FieldError("username", CREDENTIALS_NOT_RIGHT)]
    return render_page(
        request,
        "idp/sign_in.html",
        interaction=interaction,
        back=interaction_page("/sign-in", interaction),
        form_action=form_action_for(interaction),
        csrf_token=interaction.csrf_token,
        client_name=client.name if client else "",
        for_account=is_account_sign_in(interaction),
        for_change=returns_to_a_change(interaction),
        username=username[:128],
        errors=list(errors),
        username_error=message_for(errors, "username") if not credentials_not_right else None,
        password_error=message_for(errors, "password"),
        credentials_error=CREDENTIALS_NOT_RIGHT if credentials_not_right else None,
        **page_lifetime(ctx, interaction),
    )


@router.post("/sign-in", include_in_schema=False)
async def sign_in_submit(request: Request) -> Response:
    posted = await read_posted_form(request)
    if isinstance(posted, Response):
        return posted
    state = web_state(request)
    username, password = posted.get("username"), posted.get("password")
    allowances = allowance_values(request.cookies.get(cookie_name(state, ALLOWANCE_COOKIE)))

    def prepare(ctx: OperationContext, interaction: Interaction) -> Response | PasswordCheck:
        if "cancel" in posted.fields:
            outcome = cancel_sign_in(ctx, interaction)
            return render_outcome(
                request, outcome, posted.browser, redirect_status=303, language=interaction.language
            )
        missing = missing_sign_in_fields(username, password)
        if missing:
            return render_sign_in_page(
                request, state, ctx, interaction, username=username, errors=missing
            )
        checked = password_to_check(
            ctx, interaction, username=username, password=password, allowances=allowances
        )
        if isinstance(checked, SignInThrottled):
            refusal = FieldError(None, _THROTTLED.get(checked.throttle, TOO_MANY_FOR_USERNAME))
            return render_sign_in_page(
                request, state, ctx, interaction, username=username, errors=[refusal]
            )
        return checked

    prepared = await on_posted_interaction(request, posted, prepare)
    if isinstance(prepared, Response):
        return prepared
    verdict = await asyncio.wrap_future(
        state.password_checker.submit(password, prepared.stored.password_hash)
    )

    def complete(ctx: OperationContext, interaction: Interaction) -> Response | Finished:
        result = complete_password_sign_in(
            ctx,
            interaction,
            posted.browser,
            checked=prepared,
            verdict=verdict,
            allowances=allowances,
            user_agent=request.headers.get("user-agent"),
        )
        if isinstance(result, SignInFailed):
            return render_sign_in_page(
                request, state, ctx, interaction, username=username, credentials_not_right=True
            )
        if isinstance(result, SignInLocked):
            locked = [FieldError(None, ACCOUNT_LOCKED)]
            return render_sign_in_page(
                request, state, ctx, interaction, username=username, errors=locked
            )
        device_lifetime = state.provider.settings.sign_in_device_lifetime
        return Finished(
            result.outcome,
            interaction.language,
            cookies=(
                CookieToSet(SESSION_COOKIE, result.session_secret),
                CookieToSet(
                    ALLOWANCE_COOKIE,
                    result.allowance_cookie,
                    max_age=int(device_lifetime.total_seconds()),
                ),
            ),
        )

    return await answer_posted_interaction(request, posted, complete)


@router.post("/interaction/more-time", include_in_schema=False)
async def more_time(request: Request) -> Response:
    """The citizen asks for more time on a sign-in or consent page: a script asks for JSON and
    stays on the page; a plain form post comes back to the page."""
    posted = await read_posted_form(request)
    if isinstance(posted, Response):
        return posted
    settings = web_state(request).provider.settings

    def extend(ctx: OperationContext, interaction: Interaction) -> Response:
        ends = extend_interaction(
            interaction,
            now=ctx.now,
            lifetime=settings.interaction_lifetime,
            longest=settings.interaction_longest_lifetime,
        )
        expires_in = int((ends - ctx.now).total_seconds())
        if "application/json" in request.headers.get("accept", ""):
            return json_response(200, {"expires_in": expires_in})
        return RedirectResponse(local_path(posted.fields.get("back")), status_code=303)

    return await on_posted_interaction(request, posted, extend)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Browsers ask for it on every page; an empty answer keeps their consoles quiet."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})
