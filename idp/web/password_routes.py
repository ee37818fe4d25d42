"""The change-password page (/account/password), linked from the account page: the signed-in
citizen types the current password and the new one twice (idp.authentication.change_password).

Its form carries the account page's token, derived from the session cookie, so a page on another
site cannot post it (CSRF). Signed out, the page sends the browser to the account page, which
offers to sign in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from idp.authentication.account_sign_in import ACCOUNT_HOME
from idp.authentication.allowances import allowance_values
from idp.authentication.change_password import (
    ChangeThrottled,
    CurrentPasswordCheck,
    CurrentPasswordWrong,
    complete_password_change,
    current_password_to_check,
)
from idp.interactions.browser import signed_in
from idp.interactions.csrf import account_form_token, account_form_token_matches
from idp.web.citizen_pages import render_page
from idp.web.cookies import ALLOWANCE_COOKIE, browser_state, cookie_name, set_cookie
from idp.web.form_errors import (
    CURRENT_PASSWORD_NOT_RIGHT,
    TOO_MANY_FOR_USERNAME,
    TOO_MANY_FROM_NETWORK,
    FieldError,
    message_for,
    password_change_errors,
)
from idp.web.http import page_form
from idp.web.outcomes import expired_page
from idp.web.state import operation, web_state

router = APIRouter()
ACCOUNT_PASSWORD = f"{ACCOUNT_HOME}/password"

_THROTTLED = {"source_address": TOO_MANY_FROM_NETWORK}


def _form(
    request: Request, session_secret: str, *, username: str, errors: Sequence[FieldError] = ()
) -> Response:
    """The page; with `errors`, in its error state (docs/page-patterns.md). Passwords never
    come back."""
    return render_page(
        request,
        "idp/change_password.html",
        back=ACCOUNT_PASSWORD,
        form_token=account_form_token(session_secret),
        username=username,
        errors=list(errors),
        current_password_error=message_for(errors, "current_password"),
        password_error=message_for(errors, "password"),
        password_again_error=message_for(errors, "password_again"),
    )


@router.get(ACCOUNT_PASSWORD, include_in_schema=False)
def password_page(request: Request) -> Response:
    browser = browser_state(request)
    with operation(request) as ctx:
        citizen = signed_in(ctx, browser)
        if citizen is None or browser.session_secret is None:
            return RedirectResponse(ACCOUNT_HOME, status_code=303)
        return _form(request, browser.session_secret, username=citizen.account.username)


@router.post(ACCOUNT_PASSWORD, include_in_schema=False)
async def change_password(request: Request) -> Response:
    form = await page_form(request)
    if form is None:
        return expired_page(request)
    state = web_state(request)
    browser = browser_state(request)
    allowances = allowance_values(request.cookies.get(cookie_name(state, ALLOWANCE_COOKIE)))
    current, new = form.get("current_password", ""), form.get("password", "")

    def prepare() -> Response | CurrentPasswordCheck:
        with operation(request) as ctx:
            citizen = signed_in(ctx, browser)
            if citizen is None or browser.session_secret is None:
                return expired_page(request)
            if not account_form_token_matches(form.get("form_token", ""), browser.session_secret):
                return expired_page(request)
            username = citizen.account.username
            errors = password_change_errors(
                current_password=current,
                password=new,
                password_again=form.get("password_again", ""),
                username=username,
            )
            if errors:
                return _form(request, browser.session_secret, username=username, errors=errors)
            checked = current_password_to_check(
                ctx, citizen, current_password=current, allowances=allowances
            )
            if isinstance(checked, ChangeThrottled):
                refusal = FieldError(None, _THROTTLED.get(checked.throttle, TOO_MANY_FOR_USERNAME))
                return _form(request, browser.session_secret, username=username, errors=[refusal])
            return checked

    prepared = await run_in_threadpool(prepare)
    if isinstance(prepared, Response):
        return prepared
    verdict = await asyncio.wrap_future(
        state.password_checker.submit(current, prepared.stored.password_hash)
    )
    # The new password is hashed only after the current one matched: a guess costs one check.
    new_hash: str | None = None
    if verdict.matches:
        new_hash = await asyncio.wrap_future(state.password_checker.submit_hash(new))

    def complete() -> Response:
        with operation(request) as ctx:
            citizen = signed_in(ctx, browser)
            if citizen is None or browser.session_secret is None:
                return expired_page(request)  # signed out meanwhile
            result = complete_password_change(
                ctx,
                citizen,
                checked=prepared,
                verdict=verdict,
                new_password_hash=new_hash,
                allowances=allowances,
            )
            if isinstance(result, CurrentPasswordWrong):
                wrong = [FieldError("current_password", CURRENT_PASSWORD_NOT_RIGHT)]
                username = citizen.account.username
                return _form(request, browser.session_secret, username=username, errors=wrong)
        # Committed: only now does the page say the password is changed, and the other
        # sessions' apps can be told.
        if result.sessions_ended:
            state.sign_out.wake()
        response = render_page(
            request,
            "idp/password_changed.html",
            back=ACCOUNT_HOME,
            sessions_ended=result.sessions_ended,
        )
        set_cookie(
            state,
            response,
            ALLOWANCE_COOKIE,
            result.allowance_cookie,
            max_age=int(state.provider.settings.sign_in_device_lifetime.total_seconds()),
        )
        return response

    return await run_in_threadpool(complete)
