"""Signing out: the end-session endpoint apps send the browser to (RP-Initiated Logout 1.0), the
"Sign out" button every gateway page carries, and the signed-out page with the front-channel
logout frames (Front-Channel Logout 1.0).

An app's request ends the session at once only when its `id_token_hint` names the citizen
signed in here; otherwise the citizen is asked, so no other site can sign them out. The session
ends in the request's transaction, with the outbox rows of its back-channel logout tokens
(idp.sign_out.ending); the process's sign-out worker is woken after the commit to send them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from idp.interactions.browser import signed_in
from idp.interactions.csrf import account_form_token, account_form_token_matches
from idp.oauth.context import OperationContext
from idp.protocol.errors import BODY_NOT_A_FORM, BODY_TOO_LARGE, ProtocolError
from idp.sign_out.ending import EndedBy, EndedSession, EndReason, end_browser_session
from idp.sign_out.logout_requests import CheckedLogout, LogoutRequest, check_logout_request
from idp.web.citizen_pages import render_page
from idp.web.cookies import SESSION_COOKIE, browser_state, clear_cookie
from idp.web.errors import error_page
from idp.web.http import BodyTooLarge, NotAForm, page_form, read_form
from idp.web.outcomes import expired_page
from idp.web.state import operation, web_state

router = APIRouter()

END_SESSION_PATH = "/logout"
SIGN_OUT_PATH = "/sign-out"


@dataclass(frozen=True)
class _Finished:
    checked: CheckedLogout
    ended: EndedSession | None
    app_names: tuple[str, ...]
    ui_locales: str | None


@dataclass(frozen=True)
class _Confirm:
    checked: CheckedLogout
    request: LogoutRequest
    form_token: str


@router.get(END_SESSION_PATH, include_in_schema=False)
async def end_session_get(request: Request) -> Response:
    return await _end_session(request, list(request.query_params.multi_items()))


@router.post(END_SESSION_PATH, include_in_schema=False)
async def end_session_post(request: Request) -> Response:
    try:
        form = await read_form(request)
    except NotAForm:
        return error_page(request, BODY_NOT_A_FORM)
    except BodyTooLarge:
        return error_page(request, BODY_TOO_LARGE)
    return await _end_session(request, form)


async def _end_session(request: Request, parameters: Sequence[tuple[str, str]]) -> Response:
    browser = browser_state(request)
    parsed = LogoutRequest.parse(parameters)
    if isinstance(parsed, ProtocolError):
        return error_page(request, parsed)

    def work() -> _Finished | _Confirm | ProtocolError:
        with operation(request) as ctx:
            checked = check_logout_request(ctx, parsed)
            if isinstance(checked, ProtocolError):
                return checked
            citizen = signed_in(ctx, browser)
            if citizen is None or browser.session_secret is None:
                return _Finished(checked, None, (), parsed.ui_locales)  # nothing to end
            account = citizen.account
            if not checked.names_citizen(account.subject, account.username):
                return _Confirm(checked, parsed, account_form_token(browser.session_secret))
            by = EndedBy("client", checked.client_id, checked.client_id)
            ended = end_browser_session(
                ctx, citizen.browser_session, reason=EndReason.APP_SIGNED_OUT, by=by
            )
            return _Finished(checked, ended, _app_names(ctx, ended), parsed.ui_locales)

    outcome = await run_in_threadpool(work)
    if isinstance(outcome, ProtocolError):
        return error_page(request, outcome)
    if isinstance(outcome, _Confirm):
        return _confirmation_page(request, outcome)
    return _signed_out(request, outcome)


@router.post(SIGN_OUT_PATH, include_in_schema=False)
async def sign_out(request: Request) -> Response:
    """The citizen's own "Sign out": the button on every page, or the confirmation form."""
    form = await page_form(request)
    if form is None:
        return expired_page(request)
    browser = browser_state(request)
    parsed = LogoutRequest.parse([(k, v) for k, v in form.items() if k != "id_token_hint"])
    if isinstance(parsed, ProtocolError):
        return error_page(request, parsed)

    def work() -> _Finished | ProtocolError | None:
        with operation(request) as ctx:
            checked = check_logout_request(ctx, parsed)
            if isinstance(checked, ProtocolError):
                return checked
            citizen = signed_in(ctx, browser)
            if citizen is None or browser.session_secret is None:
                return _Finished(checked, None, (), parsed.ui_locales)
            if not account_form_token_matches(form.get("form_token", ""), browser.session_secret):
                return None
            by = EndedBy("account", citizen.account.subject, checked.client_id)
            ended = end_browser_session(
                ctx, citizen.browser_session, reason=EndReason.SIGNED_OUT, by=by
            )
            return _Finished(checked, ended, _app_names(ctx, ended), parsed.ui_locales)

    outcome = await run_in_threadpool(work)
    if outcome is None:
        return expired_page(request)
    if isinstance(outcome, ProtocolError):
        return error_page(request, outcome)
    return _signed_out(request, outcome)


def _app_names(ctx: OperationContext, ended: EndedSession | None) -> tuple[str, ...]:
    if ended is None:
        return ()
    names = []
    for client_id in ended.apps:
        client = ctx.registered_client(client_id)
        names.append(client.name if client else client_id)
    return tuple(names)


def _confirmation_page(request: Request, confirm: _Confirm) -> Response:
    checked = confirm.checked
    return render_page(
        request,
        "idp/sign_out_confirm.html",
        # The post ends in a redirect to the app: browsers hold form-action to that target too.
        form_action=_self_and_origin_of(checked.return_to),
        ui_locales=confirm.request.ui_locales,
        app_name=checked.client.name if checked.client else None,
        form_token=confirm.form_token,
        carried=confirm.request.carried(),
    )


def _signed_out(request: Request, finished: _Finished) -> Response:
    checked, ended = finished.checked, finished.ended
    frames = ended.front_channel if ended else ()
    response: Response
    if checked.return_to and not frames:
        response = RedirectResponse(checked.return_to, status_code=303)
    else:
        response = render_page(
            request,
            "idp/signed_out.html",
            ui_locales=finished.ui_locales,
            frame_src=" ".join(frame_source(frame.uri) for frame in frames) or None,
            signed_out=True,
            apps=finished.app_names,
            frames=frames,
            continue_to=checked.return_to,
            app_name=checked.client.name if checked.client else None,
        )
    response.headers["Cache-Control"] = "no-store"
    state = web_state(request)
    clear_cookie(state, response, SESSION_COOKIE)
    if ended is not None:
        state.sign_out.wake()
    return response


def frame_source(uri: str) -> str:
    """The CSP source for one frame: its scheme, host, port and path (CSP matches no query).
    A registered path may hold `;`, `,` or a quote, which would end the directive or the
    source in the header: they are percent-encoded, which CSP decodes before it matches."""
    parts = urlsplit(uri)
    path = quote(parts.path or "/", safe="/%:@!$&()+=~-._")
    return f"{parts.scheme}://{parts.netloc}{path}"


def _self_and_origin_of(uri: str | None) -> str:
    if not uri:
        return "'self'"
    parts = urlsplit(uri)
    return f"'self' {parts.scheme}://{parts.netloc}"
