"""The account page's passkeys (idp.passkeys.enrolment): adding one (the page's script asks
`/account/passkeys/options` for the registration options and posts the browser's answer),
renaming one, and removing one after asking. Adding and removing need a fresh sign-in, as the
authenticator app's changes do; renaming does not. Every form carries the account page's token.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from idp.authentication.account_sign_in import ACCOUNT_HOME, PASSKEY_REMOVAL
from idp.authentication.assurance import signed_in_recently
from idp.interactions.browser import BrowserState, SignedIn, signed_in
from idp.interactions.csrf import account_form_token, account_form_token_matches
from idp.oauth.context import OperationContext
from idp.passkeys.credentials import passkeys_of
from idp.passkeys.enrolment import Refused, finish_registration, remove, rename, start_registration
from idp.protocol.languages import translatable
from idp.web.authenticator_app_routes import account_change_form, fresh_citizen, see_other
from idp.web.citizen_pages import page_language, render_page
from idp.web.cookies import browser_state
from idp.web.http import json_response, page_form
from idp.web.state import operation
from idp.web.translations import translations

router = APIRouter()

PASSKEYS = f"{ACCOUNT_HOME}/passkeys"
DEFAULT_NAME = translatable("Passkey %(num)d")


def _passkey_id(form: dict[str, str]) -> int | None:
    value = form.get("passkey", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


def _posting_citizen(
    ctx: OperationContext, browser: BrowserState, form: dict[str, str] | None
) -> SignedIn | None:
    """The citizen signed in here, when the form carries this session's account form token."""
    citizen = signed_in(ctx, browser)
    if form is None or citizen is None or browser.session_secret is None:
        return None
    if not account_form_token_matches(form.get("form_token", ""), browser.session_secret):
        return None
    return citizen


@router.post(f"{PASSKEYS}/options", include_in_schema=False)
async def registration_options(request: Request) -> Response:
    """JSON for the script: the options, or where to sign in again first."""
    form = await page_form(request)
    browser = browser_state(request)

    def work() -> Response:
        with operation(request) as ctx:
            citizen = _posting_citizen(ctx, browser, form)
            if form is None or citizen is None:
                return json_response(400, {"error": "page_expired"})
            if not signed_in_recently(ctx, citizen.browser_session):
                return json_response(
                    200, {"sign_in": f"{ACCOUNT_HOME}/sign-in?return_to={quote(ACCOUNT_HOME)}"}
                )
            start = start_registration(ctx, citizen)
            return json_response(
                200, {"ceremony": start.handle, "options": json.loads(start.options_json)}
            )

    return await run_in_threadpool(work)


@router.post(f"{PASSKEYS}/add", include_in_schema=False)
async def add(request: Request) -> Response:
    language = page_language(request)

    def work(ctx: OperationContext, citizen: SignedIn, form: dict[str, str]) -> Response:
        number = len(passkeys_of(ctx.session, citizen.account)) + 1
        name = translations(language).gettext(DEFAULT_NAME) % {"num": number}
        credential = form.get("credential", "")
        added = finish_registration(
            ctx,
            citizen,
            handle=form.get("ceremony", ""),
            credential_json=credential if credential and not form.get("failure") else None,
            name=name,
        )
        if isinstance(added, Refused):
            return see_other(f"{ACCOUNT_HOME}?passkey=not_added#passkeys")
        return see_other(f"{ACCOUNT_HOME}?passkey=added#passkeys")

    return await account_change_form(request, ACCOUNT_HOME, work)


@router.post(f"{PASSKEYS}/rename", include_in_schema=False)
async def rename_one(request: Request) -> Response:
    form = await page_form(request)
    browser = browser_state(request)

    def work() -> Response:
        with operation(request) as ctx:
            citizen = _posting_citizen(ctx, browser, form)
            if form is None or citizen is None:
                return see_other(ACCOUNT_HOME)
            passkey_id = _passkey_id(form)
            name = form.get("name", "")
            if passkey_id is None or not rename(ctx, citizen.account, passkey_id, name):
                return see_other(f"{ACCOUNT_HOME}?passkey=not_renamed#passkeys")
        return see_other(f"{ACCOUNT_HOME}?passkey=renamed#passkeys")

    return await run_in_threadpool(work)


@router.get(PASSKEY_REMOVAL, include_in_schema=False)
def removal_page(request: Request) -> Response:
    """ "Are you sure?", naming the passkey; after a fresh sign-in, which returns here."""
    raw = request.query_params.get("passkey", "")
    passkey_id = _passkey_id({"passkey": raw})
    with operation(request) as ctx:
        path = f"{PASSKEY_REMOVAL}?passkey={passkey_id}" if passkey_id else ACCOUNT_HOME
        found = fresh_citizen(ctx, request, path)
        if isinstance(found, Response):
            return found
        citizen, session_secret = found
        passkey = next(
            (p for p in passkeys_of(ctx.session, citizen.account) if p.id == passkey_id), None
        )
        if passkey is None:
            return see_other(ACCOUNT_HOME)
        return render_page(
            request,
            "idp/passkey_remove.html",
            passkey=passkey,
            form_token=account_form_token(session_secret),
        )


@router.post(PASSKEY_REMOVAL, include_in_schema=False)
async def remove_one(request: Request) -> Response:
    def work(ctx: OperationContext, citizen: SignedIn, form: dict[str, str]) -> Response:
        passkey_id = _passkey_id(form)
        if passkey_id is None or not remove(ctx, citizen.account, passkey_id):
            return see_other(ACCOUNT_HOME)
        return see_other(f"{ACCOUNT_HOME}?passkey=removed#passkeys")

    return await account_change_form(request, ACCOUNT_HOME, work)
