"""Signing in to the console through the gateway (authorization code, PKCE S256, nonce, and
`max_age` when a page needs a recent sign-in), and signing out.

The code is exchanged at the gateway's own token endpoint over ASGI, inside this process: the
same endpoint an agency app calls, with no network hop and nothing to point elsewhere, so it
works the same on every node and on the console's own listener.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from admin.console_client import (
    InvalidConsoleSignIn,
    authorization_url,
    check_id_token,
    token_request_form,
)
from admin.console_sessions import (
    SIGN_IN_LIFETIME,
    claim_sign_in,
    end_console_session,
    start_console_session,
    start_sign_in,
)
from admin.console_web import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    clear_console_cookie,
    console_base,
    console_cookie,
    console_settings,
    safe_return_path,
    set_console_cookie,
    sign_in_link,
)
from admin.roles import roles_of
from idp.interactions.csrf import console_form_token_matches
from idp.models import Account
from idp.protocol.assurance import Level
from idp.web.citizen_pages import render_page
from idp.web.http import page_form
from idp.web.state import operation, web_state

log = logging.getLogger("admin.console")
router = APIRouter(include_in_schema=False)


@router.get("/admin/sign-in")
def begin_sign_in(request: Request) -> Response:
    state = web_state(request)
    settings = console_settings(request)
    return_to = safe_return_path(request.query_params.get("next"))
    max_age = settings.fresh_sign_in_lifetime if request.query_params.get("fresh") else None
    with operation(request) as ctx:
        started = start_sign_in(ctx.session, return_to=return_to, max_age=max_age, now=ctx.now)
    location = authorization_url(
        state.provider.settings.issuer,
        console_base=console_base(request),
        state=started.state,
        nonce=started.nonce,
        code_verifier=started.code_verifier,
        max_age=max_age,
    )
    response = RedirectResponse(location, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    set_console_cookie(
        request,
        response,
        SIGN_IN_COOKIE,
        started.state,
        max_age=int(SIGN_IN_LIFETIME.total_seconds()),
    )
    return response


@router.get("/admin/signed-in")
async def finish_sign_in(request: Request) -> Response:
    params = request.query_params
    state_value, code = params.get("state", ""), params.get("code", "")
    browser_state = console_cookie(request, SIGN_IN_COOKIE)

    def claim() -> tuple[str, str, str, int | None] | None:
        with operation(request) as ctx:
            pending = claim_sign_in(
                ctx.session, state=state_value, browser_state=browser_state, now=ctx.now
            )
            if pending is None:
                return None
            return pending.code_verifier, pending.nonce, pending.return_to, pending.max_age_seconds

    claimed = await run_in_threadpool(claim)
    if claimed is None:
        return _sign_in_page(request, "admin/sign_in_expired.html", status=400)
    code_verifier, nonce, return_to, max_age_seconds = claimed
    if params.get("error") or not code:
        # The administrator declined, or the gateway refused (the error code is the gateway's).
        return _sign_in_page(
            request,
            "admin/sign_in_failed.html",
            status=400,
            return_to=return_to,
            needs_stronger=params.get("error") == "unmet_authentication_requirements",
        )
    try:
        id_token = await _exchange(request, code=code, code_verifier=code_verifier)
    except InvalidConsoleSignIn as error:
        log.warning("console sign-in refused: %s", error)
        return _sign_in_page(request, "admin/sign_in_failed.html", status=400, return_to=return_to)
    return await run_in_threadpool(
        _start_session, request, id_token, nonce, return_to, max_age_seconds
    )


def _start_session(
    request: Request, id_token: str, nonce: str, return_to: str, max_age_seconds: int | None
) -> Response:
    state = web_state(request)
    with operation(request) as ctx:
        try:
            identity = check_id_token(
                id_token,
                keys=state.provider.keyring.verification_keys(),
                issuer=state.provider.settings.issuer,
                nonce=nonce,
                max_age=timedelta(seconds=max_age_seconds) if max_age_seconds is not None else None,
                acceptable_acr=_acceptable_acr(request),
                now=ctx.now,
            )
        except InvalidConsoleSignIn as error:
            log.warning("console sign-in refused: %s", error)
            return _sign_in_page(
                request, "admin/sign_in_failed.html", status=400, return_to=return_to
            )
        account = ctx.session.scalar(select(Account).where(Account.subject == identity.subject))
        if account is None or account.disabled_at is not None or not roles_of(ctx.session, account):
            # No session for an account without a role: it has nothing to open here.
            return render_page(request, "admin/no_role.html", status=403)
        secret = start_console_session(
            ctx.session,
            account,
            auth_time=identity.auth_time,
            now=ctx.now,
            settings=console_settings(request),
        )
    response = RedirectResponse(return_to, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    set_console_cookie(request, response, SESSION_COOKIE, secret)
    clear_console_cookie(request, response, SIGN_IN_COOKIE)
    return response


def _acceptable_acr(request: Request) -> frozenset[str]:
    vocabulary = web_state(request).provider.settings.acr_vocabulary
    minimum = Level.labelled(console_settings(request).minimum_level) or Level.HIGH
    return frozenset(vocabulary.uri_of(level) for level in Level if level >= minimum)


async def _exchange(request: Request, *, code: str, code_verifier: str) -> str:
    issuer = web_state(request).provider.settings.issuer
    form = token_request_form(
        code=code, code_verifier=code_verifier, console_base=console_base(request)
    )
    transport = httpx.ASGITransport(app=request.app, client=("127.0.0.1", 0))
    token_path = urlsplit(issuer).path.rstrip("/") + "/token"
    async with httpx.AsyncClient(transport=transport, base_url=issuer, timeout=30) as client:
        answer = await client.post(token_path, data=form)
    if answer.status_code != 200:
        raise InvalidConsoleSignIn(f"token endpoint answered {answer.status_code}")
    id_token = answer.json().get("id_token")
    if not isinstance(id_token, str):
        raise InvalidConsoleSignIn("token endpoint gave no ID token")
    return id_token


def _sign_in_page(
    request: Request,
    template: str,
    *,
    status: int,
    return_to: str = "/admin/",
    needs_stronger: bool = False,
) -> Response:
    """`needs_stronger`: the gateway said the administrator cannot reach the console's level."""
    response = render_page(
        request,
        template,
        status=status,
        sign_in=sign_in_link(return_to),
        needs_stronger=needs_stronger,
    )
    clear_console_cookie(request, response, SIGN_IN_COOKIE)
    return response


@router.post("/admin/sign-out")
async def sign_out(request: Request) -> Response:
    """Ends the session whatever roles it still holds (a revoked administrator can sign out)."""
    form = await page_form(request) or {}
    secret = console_cookie(request, SESSION_COOKIE)

    def work() -> Response:
        with operation(request) as ctx:
            if secret is None or not console_form_token_matches(form.get("form_token", ""), secret):
                return render_page(
                    request, "admin/expired.html", status=400, sign_in=sign_in_link("/admin/")
                )
            end_console_session(ctx.session, secret, now=ctx.now)
        response = render_page(request, "admin/signed_out.html", sign_in=sign_in_link("/admin/"))
        clear_console_cookie(request, response, SESSION_COOKIE)
        return response

    return await run_in_threadpool(work)
