"""A citizen's page in the citizen's language, with the language switcher every page carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from idp.interactions.csrf import account_form_token
from idp.models import Interaction
from idp.protocol.languages import (
    LANGUAGE_NAMES,
    choose_language,
    language_from_ui_locales,
    other_languages,
)
from idp.web.cookies import LANGUAGE_COOKIE, SESSION_COOKIE, cookie_value
from idp.web.state import web_state


@dataclass(frozen=True)
class LanguageLink:
    language: str
    name: str  # in that language
    href: str


def page_language(
    request: Request, interaction: Interaction | None = None, ui_locales: str | None = None
) -> str:
    """`ui_locales`: what a request that is no interaction asked for (a logout request)."""
    asked = interaction.language if interaction else language_from_ui_locales(ui_locales)
    return choose_language(
        interaction_language=asked,
        picked=cookie_value(request, LANGUAGE_COOKIE),
        accept_language=request.headers.get("accept-language"),
    )


def this_page(request: Request) -> str:
    """Where the switcher comes back to: this page, when a GET can show it again."""
    if request.method != "GET":
        return "/"
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def render_page(
    request: Request,
    template: str,
    *,
    interaction: Interaction | None = None,
    back: str | None = None,
    status: int = 200,
    form_action: str = "'self'",
    frame_src: str | None = None,
    ui_locales: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """`back` is the address that shows this page again (for the switcher) when the request
    was a form post; `interaction` the sign-in or consent request the page belongs to.

    A browser that holds a session cookie gets a "Sign out" button on the page (its form token
    is derived from the cookie, so reading no session from the database), unless the page's
    forms may go elsewhere only (the form post to an agency)."""
    language = page_language(request, interaction, ui_locales)
    back = back or this_page(request)
    switches = [
        LanguageLink(
            other, LANGUAGE_NAMES[other], "/language?" + urlencode({"to": other, "back": back})
        )
        for other in other_languages(language)
    ]
    session_secret = cookie_value(request, SESSION_COOKIE)
    sign_out_token = (
        account_form_token(session_secret)
        if session_secret and "'self'" in form_action and not context.get("signed_out")
        else None
    )
    return web_state(request).pages.render(
        template,
        language=language,
        status=status,
        form_action=form_action,
        frame_src=frame_src,
        sign_out_token=sign_out_token,
        language_links=switches,
        current_language_name=LANGUAGE_NAMES[language],
        interaction=interaction,
        back=back,
        **context,
    )
