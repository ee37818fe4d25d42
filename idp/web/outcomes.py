"""Turning an authorization outcome into a browser response (cookies: idp.web.cookies)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from idp.interactions.browser import BrowserState
from idp.interactions.csrf import interaction_csrf_token_matches
from idp.interactions.outcomes import (
    ErrorPage,
    Outcome,
    PostToClient,
    RedirectToClient,
    ReturnToGateway,
    ShowConsent,
    ShowSignIn,
    ShowStepUp,
)
from idp.interactions.sessions import (
    InteractionAlreadyCompleted,
    find_interaction,
    interaction_parameters,
)
from idp.models import Interaction
from idp.oauth.context import OperationContext
from idp.protocol.errors import PAGE_EXPIRED
from idp.web.citizen_pages import render_page
from idp.web.cookies import BINDING_COOKIE, set_cookie
from idp.web.errors import error_page
from idp.web.state import web_state

T = TypeVar("T")


def render_outcome(
    request: Request,
    outcome: Outcome,
    browser: BrowserState,
    *,
    redirect_status: int = 302,
    language: str | None = None,
) -> Response:
    """`language`: the interaction's (`ui_locales`, or the switcher during it), for a page the
    outcome shows (the form post, an error) once the interaction is over."""
    state = web_state(request)
    response: Response
    if isinstance(outcome, RedirectToClient):
        response = RedirectResponse(outcome.location, status_code=redirect_status)
    elif isinstance(outcome, PostToClient):
        target = urlsplit(outcome.action)
        response = render_page(
            request,
            "idp/form_post.html",
            action=outcome.action,
            params=outcome.params,
            form_action=f"{target.scheme}://{target.netloc}",
            ui_locales=language,
        )
    elif isinstance(outcome, ErrorPage):
        response = error_page(request, outcome.error, ui_locales=language)
    elif isinstance(outcome, ShowSignIn):
        response = RedirectResponse(
            f"/sign-in?interaction={quote(outcome.interaction_handle)}", status_code=303
        )
    elif isinstance(outcome, ShowStepUp):
        response = RedirectResponse(
            f"/step-up?interaction={quote(outcome.interaction_handle)}", status_code=303
        )
    elif isinstance(outcome, ShowConsent):
        response = RedirectResponse(
            f"/consent?interaction={quote(outcome.interaction_handle)}", status_code=303
        )
    elif isinstance(outcome, ReturnToGateway):
        response = RedirectResponse(outcome.path, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    if browser.new_binding:
        set_cookie(state, response, BINDING_COOKIE, browser.new_binding)
    return response


def interaction_shown(
    ctx: OperationContext, request: Request, browser: BrowserState
) -> Interaction | None:
    """The open interaction a page link names, for the browser that started it only."""
    return find_interaction(
        ctx.session,
        request.query_params.get("interaction"),
        browser_binding=browser.binding,
        now=ctx.now,
    )


def interaction_submitted(
    ctx: OperationContext, form: Mapping[str, str], browser: BrowserState
) -> Interaction | None:
    """The interaction a form posts to, when its CSRF token matches (login and consent CSRF)."""
    interaction = find_interaction(
        ctx.session,
        form.get("interaction"),
        browser_binding=browser.binding,
        now=ctx.now,
        lock=True,
    )
    if interaction is None or not interaction_csrf_token_matches(
        form.get("csrf_token", ""), interaction
    ):
        return None
    return interaction


def interaction_page(path: str, interaction: Interaction) -> str:
    """The address that shows an interaction's page (`/sign-in`, `/consent`) again."""
    return f"{path}?interaction={quote(interaction.handle)}"


def page_lifetime(ctx: OperationContext, interaction: Interaction) -> dict[str, Any]:
    """What a sign-in or consent page says about how long it lasts (templates/idp/macros.html)."""
    return {
        "expires_in": max(0, int((interaction.expires_at - ctx.now).total_seconds())),
        "lifetime_minutes": max(1, int(ctx.settings.interaction_lifetime.total_seconds() // 60)),
    }


def form_action_for(interaction: Interaction) -> str:
    """CSP form-action for a page whose form ends in a redirect to the client: browsers apply
    form-action to the redirect target too, so the client's registered origin must be allowed."""
    redirect_uri = dict(interaction_parameters(interaction)).get("redirect_uri", "")
    target = urlsplit(redirect_uri)
    if target.scheme in ("http", "https") and target.netloc:
        return f"'self' {target.scheme}://{target.netloc}"
    return "'self'"


def expired_page(request: Request) -> Response:
    return error_page(request, PAGE_EXPIRED)


def expired_if_completed_meanwhile(
    request: Request,
    work: Callable[[], T],
    expired: Callable[[Request], Response] = expired_page,
) -> Callable[[], T | Response]:
    """`work`, where losing the race for its interaction (another post of the same form
    completed it first; `work`'s unit of work rolled back) is answered by `expired`."""

    def guarded() -> T | Response:
        try:
            return work()
        except InteractionAlreadyCompleted:
            return expired(request)

    return guarded
