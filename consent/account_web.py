"""The citizen's account page: which agencies receive their data, and withdrawing consent;
where they are signed in, and signing out a browser from another.

It is the gateway's own page, read with the single sign-on session. Without one, it offers to
sign in (an interaction that returns here). Its forms carry a token derived from the session
cookie, which a page on another site cannot read, so they cannot be forged (CSRF).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from consent.account import shared_with, was_withdrawn, who_looked, withdraw_consent
from consent.browser_sessions import (
    MAX_SID_LENGTH,
    sign_out_other_browser,
    signed_in_browsers,
    signed_out_browser,
)
from idp.authentication.account_sign_in import ACCOUNT_HOME, start_account_sign_in
from idp.authenticators.enrolment import authenticators_of
from idp.interactions.browser import SignedIn, signed_in
from idp.interactions.csrf import account_form_token, account_form_token_matches
from idp.oauth.context import OperationContext
from idp.passkeys.credentials import passkeys_of
from idp.web.citizen_pages import render_page
from idp.web.cookies import browser_state
from idp.web.http import page_form
from idp.web.outcomes import expired_page, render_outcome
from idp.web.state import operation, web_state

router = APIRouter()


@router.get(ACCOUNT_HOME, include_in_schema=False)
def account_page(request: Request) -> Response:
    browser = browser_state(request)
    with operation(request) as ctx:
        citizen = signed_in(ctx, browser)
        if citizen is None or browser.session_secret is None:
            return render_page(request, "consent/account_signed_out.html")
        account = citizen.account
        withdrawn_from = request.query_params.get("withdrawn", "")
        ended_sid = request.query_params.get("signed_out", "")
        return render_page(
            request,
            "consent/account.html",
            username=account.username,
            shared=shared_with(ctx, account),
            looks=who_looked(ctx, account),
            browsers=signed_in_browsers(ctx, citizen),
            authenticators=authenticators_of(ctx.session, account),
            app_removed=request.query_params.get("authenticator") == "removed",
            passkeys=passkeys_of(ctx.session, account),
            passkey_notice=request.query_params.get("passkey", "")[:16],
            form_token=account_form_token(browser.session_secret),
            withdrawn_agency=(
                was_withdrawn(ctx, account, withdrawn_from[:64]) if withdrawn_from else None
            ),
            signed_out_device=(
                signed_out_browser(ctx, account, ended_sid[:MAX_SID_LENGTH]) if ended_sid else None
            ),
        )


@router.get(f"{ACCOUNT_HOME}/sign-in", include_in_schema=False)
def account_sign_in(request: Request) -> Response:
    browser = browser_state(request)
    with operation(request) as ctx:
        outcome = start_account_sign_in(
            ctx, browser, return_to=request.query_params.get("return_to")
        )
    return render_outcome(request, outcome, browser, redirect_status=303)


@router.post(f"{ACCOUNT_HOME}/withdraw", include_in_schema=False)
async def withdraw(request: Request) -> Response:
    def withdraw_from(ctx: OperationContext, citizen: SignedIn, form: dict[str, str]) -> str:
        client_id = form.get("client_id", "")[:64]
        if withdraw_consent(ctx, citizen.account, client_id):
            return f"{ACCOUNT_HOME}?withdrawn={quote(client_id, safe='')}"
        return ACCOUNT_HOME

    return await _account_form_post(request, withdraw_from)


@router.post(f"{ACCOUNT_HOME}/sessions/end", include_in_schema=False)
async def sign_out_browser(request: Request) -> Response:
    """The "Sign out this browser" button beside another browser in the list: ends that
    session (its tokens, its apps told) and comes back to the list with a confirmation."""
    ended = False

    def end_session(ctx: OperationContext, citizen: SignedIn, form: dict[str, str]) -> str:
        nonlocal ended
        sid = form.get("sid", "")[:MAX_SID_LENGTH]
        ended = sign_out_other_browser(ctx, citizen, sid)
        return f"{ACCOUNT_HOME}?signed_out={quote(sid, safe='')}" if ended else ACCOUNT_HOME

    response = await _account_form_post(request, end_session)
    if ended:
        # Committed: the logout tokens the session's apps are owed can go out now.
        web_state(request).sign_out.wake()
    return response


async def _account_form_post(
    request: Request, change: Callable[[OperationContext, SignedIn, dict[str, str]], str]
) -> Response:
    """A form of the account page, posted: `change` makes its change for the citizen signed in
    on this browser, in one unit of work, and names the page to go to once that is committed.
    A body that is no form, no citizen signed in, or a form token that is not this session's:
    the expired page, nothing changed."""
    form = await page_form(request)
    if form is None:
        return expired_page(request)
    browser = browser_state(request)

    def work() -> Response:
        with operation(request) as ctx:
            citizen = signed_in(ctx, browser)
            if citizen is None or browser.session_secret is None:
                return expired_page(request)
            if not account_form_token_matches(form.get("form_token", ""), browser.session_secret):
                return expired_page(request)
            target = change(ctx, citizen, form)
        response = RedirectResponse(target, status_code=303)
        response.headers["Cache-Control"] = "no-store"
        return response

    return await run_in_threadpool(work)
