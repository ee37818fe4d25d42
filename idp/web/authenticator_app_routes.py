"""The account pages that change how the citizen signs in: setting up an authenticator app
(its QR code and key, confirmed by its first code), removing it, and getting new recovery codes
(idp.authenticators.enrolment). Each needs a fresh sign-in: an older session is sent through
the account sign-in first and comes back here. Their forms carry the account page's token
(derived from the session cookie), so a page on another site cannot post them (CSRF).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from idp.authentication.account_sign_in import (
    ACCOUNT_HOME,
    AUTHENTICATOR_APP_REMOVAL,
    AUTHENTICATOR_APP_SETUP,
    NEW_RECOVERY_CODES,
)
from idp.authentication.assurance import signed_in_recently
from idp.authenticators.authenticator_apps import has_authenticator_app, pending_setup
from idp.authenticators.enrolment import (
    enrol_authenticator_app,
    remove_app_and_codes,
    renew_recovery_codes,
)
from idp.authenticators.recovery_codes import IssuedRecoveryCodes
from idp.interactions.browser import SignedIn, signed_in
from idp.interactions.csrf import account_form_token, account_form_token_matches
from idp.oauth.context import OperationContext
from idp.protocol.languages import translatable
from idp.web.citizen_pages import page_language, render_page
from idp.web.cookies import browser_state
from idp.web.form_errors import ENTER_APP_CODE, SETUP_CODE_NOT_RIGHT, FieldError, message_for
from idp.web.http import page_form
from idp.web.outcomes import expired_page
from idp.web.qr_codes import qr_code_svg
from idp.web.state import operation
from idp.web.translations import translations

router = APIRouter()

QR_CODE_LABEL = translatable("QR code to scan with your authenticator app")


def see_other(path: str) -> Response:
    response = RedirectResponse(path, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def _sign_in_again(path: str) -> Response:
    """Through the account sign-in, and back to `path` after it."""
    return see_other(f"{ACCOUNT_HOME}/sign-in?return_to={quote(path, safe='/')}")


def fresh_citizen(
    ctx: OperationContext, request: Request, path: str
) -> tuple[SignedIn, str] | Response:
    """The citizen and their session cookie, signed in recently enough for a change; or where
    to go first (the account page when signed out, a fresh sign-in when it is too old)."""
    browser = browser_state(request)
    citizen = signed_in(ctx, browser)
    if citizen is None or browser.session_secret is None:
        return see_other(ACCOUNT_HOME)
    if not signed_in_recently(ctx, citizen.browser_session):
        return _sign_in_again(path)
    return citizen, browser.session_secret


@router.get(AUTHENTICATOR_APP_SETUP, include_in_schema=False)
def setup_page(request: Request) -> Response:
    with operation(request) as ctx:
        found = fresh_citizen(ctx, request, AUTHENTICATOR_APP_SETUP)
        if isinstance(found, Response):
            return found
        return _setup_form(request, ctx, *found)


def _setup_form(
    request: Request,
    ctx: OperationContext,
    citizen: SignedIn,
    session_secret: str,
    errors: Sequence[FieldError] = (),
) -> Response:
    setup = pending_setup(ctx, citizen.account)
    label = translations(page_language(request)).gettext(QR_CODE_LABEL)
    return render_page(
        request,
        "idp/authenticator_app_setup.html",
        back=AUTHENTICATOR_APP_SETUP,
        qr_code=qr_code_svg(setup.uri, label=label),
        secret=setup.grouped_secret,
        replacing=has_authenticator_app(ctx.session, citizen.account),
        form_token=account_form_token(session_secret),
        errors=list(errors),
        code_error=message_for(errors, "code"),
    )


def _issued_page(request: Request, issued: IssuedRecoveryCodes, *, enrolled: bool) -> Response:
    """The codes, shown this once (the page is never cached: render_page sends no-store)."""
    return render_page(
        request, "idp/recovery_codes.html", back=ACCOUNT_HOME, codes=issued.codes, enrolled=enrolled
    )


async def account_change_form(
    request: Request,
    path: str,
    work: Callable[[OperationContext, SignedIn, dict[str, str]], Response],
) -> Response:
    """A form of these pages: its token, the fresh sign-in, then `work` in one unit of work."""
    form = await page_form(request)
    if form is None:
        return expired_page(request)

    def run() -> Response:
        with operation(request) as ctx:
            found = fresh_citizen(ctx, request, path)
            if isinstance(found, Response):
                return found
            citizen, session_secret = found
            if not account_form_token_matches(form.get("form_token", ""), session_secret):
                return expired_page(request)
            return work(ctx, citizen, dict(form))

    return await run_in_threadpool(run)


@router.post(AUTHENTICATOR_APP_SETUP, include_in_schema=False)
async def confirm_setup(request: Request) -> Response:
    def work(ctx: OperationContext, citizen: SignedIn, form: dict[str, str]) -> Response:
        secret = browser_state(request).session_secret or ""
        code = form.get("code", "")
        if not code.strip():
            return _setup_form(request, ctx, citizen, secret, [FieldError("code", ENTER_APP_CODE)])
        issued = enrol_authenticator_app(ctx, citizen.account, code)
        if issued is None:
            refusal = [FieldError("code", SETUP_CODE_NOT_RIGHT)]
            return _setup_form(request, ctx, citizen, secret, refusal)
        return _issued_page(request, issued, enrolled=True)

    return await account_change_form(request, AUTHENTICATOR_APP_SETUP, work)


@router.get(AUTHENTICATOR_APP_REMOVAL, include_in_schema=False)
def removal_page(request: Request) -> Response:
    return _confirmation_page(
        request, AUTHENTICATOR_APP_REMOVAL, "idp/authenticator_app_remove.html"
    )


@router.post(AUTHENTICATOR_APP_REMOVAL, include_in_schema=False)
async def remove_app(request: Request) -> Response:
    def work(ctx: OperationContext, citizen: SignedIn, form: dict[str, str]) -> Response:
        removed = remove_app_and_codes(ctx, citizen.account)
        return see_other(f"{ACCOUNT_HOME}?authenticator=removed" if removed else ACCOUNT_HOME)

    return await account_change_form(request, AUTHENTICATOR_APP_REMOVAL, work)


@router.get(NEW_RECOVERY_CODES, include_in_schema=False)
def new_codes_page(request: Request) -> Response:
    return _confirmation_page(request, NEW_RECOVERY_CODES, "idp/recovery_codes_new.html")


@router.post(NEW_RECOVERY_CODES, include_in_schema=False)
async def new_codes(request: Request) -> Response:
    def work(ctx: OperationContext, citizen: SignedIn, form: dict[str, str]) -> Response:
        issued = renew_recovery_codes(ctx, citizen.account)
        if issued is None:
            return see_other(ACCOUNT_HOME)
        return _issued_page(request, issued, enrolled=False)

    return await account_change_form(request, NEW_RECOVERY_CODES, work)


def _confirmation_page(request: Request, path: str, template: str) -> Response:
    """ "Are you sure?" before a change that needs an authenticator app (none: the account)."""
    with operation(request) as ctx:
        found = fresh_citizen(ctx, request, path)
        if isinstance(found, Response):
            return found
        citizen, session_secret = found
        if not has_authenticator_app(ctx.session, citizen.account):
            return see_other(ACCOUNT_HOME)
        return render_page(request, template, form_token=account_form_token(session_secret))
