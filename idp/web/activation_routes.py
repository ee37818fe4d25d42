"""The activation page (/account/activate): a citizen signed out sets a new password with the
code support gave them (idp.authentication.activate_account).

Its form carries a token derived from the browser-binding cookie, set when the page is shown,
so a page on another site cannot post it (CSRF).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from idp.authentication.activate_account import (
    ActivationRefused,
    CodeAccepted,
    check_activation_code,
    complete_activation,
)
from idp.interactions.browser import BrowserState
from idp.interactions.csrf import activation_form_token, activation_form_token_matches
from idp.web.citizen_pages import render_page
from idp.web.cookies import BINDING_COOKIE, browser_state, set_cookie
from idp.web.form_errors import (
    ACTIVATION_NOT_RIGHT,
    FieldError,
    activation_form_errors,
    message_for,
)
from idp.web.http import page_form
from idp.web.outcomes import expired_page
from idp.web.state import operation, web_state

router = APIRouter()
ACTIVATE = "/account/activate"


def _form(
    request: Request,
    browser: BrowserState,
    *,
    username: str = "",
    code: str = "",
    errors: Sequence[FieldError] = (),
) -> Response:
    """The page; with `errors`, in its error state (docs/page-patterns.md). Passwords never
    come back."""
    response = render_page(
        request,
        "idp/activate.html",
        back=ACTIVATE,
        form_token=activation_form_token(browser.ensure_binding()),
        username=username[:128],
        code=code[:64],
        errors=list(errors),
        username_error=message_for(errors, "username"),
        code_error=message_for(errors, "code"),
        password_error=message_for(errors, "password"),
        password_again_error=message_for(errors, "password_again"),
    )
    if browser.new_binding:
        set_cookie(web_state(request), response, BINDING_COOKIE, browser.new_binding)
    return response


@router.get(ACTIVATE, include_in_schema=False)
def activation_page(request: Request) -> Response:
    return _form(request, browser_state(request))


@router.post(ACTIVATE, include_in_schema=False)
async def activate(request: Request) -> Response:
    form = await page_form(request)
    browser = browser_state(request)
    if form is None or browser.binding is None:
        return expired_page(request)
    if not activation_form_token_matches(form.get("form_token", ""), browser.binding):
        return expired_page(request)
    username, code = form.get("username", ""), form.get("code", "")
    password = form.get("password", "")
    errors = activation_form_errors(
        username=username,
        code=code,
        password=password,
        password_again=form.get("password_again", ""),
    )
    if errors:
        return _form(request, browser, username=username, code=code, errors=errors)
    refused = [FieldError("code", ACTIVATION_NOT_RIGHT)]

    def check() -> CodeAccepted | ActivationRefused:
        with operation(request) as ctx:
            return check_activation_code(ctx, username=username, code=code)

    checked = await run_in_threadpool(check)
    if isinstance(checked, ActivationRefused):
        return _form(request, browser, username=username, code=code, errors=refused)
    password_hash = await asyncio.wrap_future(
        web_state(request).password_checker.submit_hash(password)
    )

    def complete() -> Response:
        with operation(request) as ctx:
            result = complete_activation(
                ctx, accepted=checked, code=code, password_hash=password_hash
            )
        # Committed: only now does the page say the password is set.
        if isinstance(result, ActivationRefused):
            return _form(request, browser, username=username, code=code, errors=refused)
        return render_page(request, "idp/activated.html", back=ACTIVATE, username=result.username)

    return await run_in_threadpool(complete)
