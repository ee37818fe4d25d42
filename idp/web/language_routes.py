"""The language switcher: `GET /language?to=et&back=/sign-in?interaction=...` remembers the
citizen's pick in a cookie and, on a sign-in or consent page, for that interaction, then shows
the page again. A GET, so it works from a plain link on every page; it changes nothing but the
language, and `back` may only be a path on this gateway (no open redirect)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from idp.interactions.sessions import find_interaction
from idp.protocol.languages import SUPPORTED_LANGUAGES
from idp.web.cookies import (
    LANGUAGE_COOKIE,
    LANGUAGE_COOKIE_LIFETIME,
    browser_state,
    set_cookie,
)
from idp.web.state import operation, web_state

router = APIRouter()

_MAX_BACK = 2048


def local_path(back: str | None) -> str:
    """`back` when it is a path on this gateway, else the home page."""
    if not back or len(back) > _MAX_BACK or not back.startswith("/") or back.startswith("//"):
        return "/"
    if "\\" in back or any(ord(char) < 0x21 or ord(char) == 0x7F for char in back):
        return "/"
    return back


@router.get("/language", include_in_schema=False)
def switch_language(request: Request) -> Response:
    back = local_path(request.query_params.get("back"))
    language = request.query_params.get("to")
    response = RedirectResponse(back, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    if language not in SUPPORTED_LANGUAGES:
        return response
    handle = parse_qs(urlsplit(back).query).get("interaction", [None])[0]
    if handle:
        browser = browser_state(request)
        with operation(request) as ctx:
            interaction = find_interaction(
                ctx.session, handle, browser_binding=browser.binding, now=ctx.now, lock=True
            )
            if interaction is not None:
                interaction.language = language
    set_cookie(
        web_state(request), response, LANGUAGE_COOKIE, language, max_age=LANGUAGE_COOKIE_LIFETIME
    )
    return response
