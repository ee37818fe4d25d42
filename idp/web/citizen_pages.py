"""A citizen's page in the citizen's language, with the language switcher every page carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from idp.models import Interaction
from idp.protocol.languages import LANGUAGE_NAMES, choose_language, other_languages
from idp.web.cookies import LANGUAGE_COOKIE, cookie_value
from idp.web.state import web_state


@dataclass(frozen=True)
class LanguageLink:
    language: str
    name: str  # in that language
    href: str


def page_language(request: Request, interaction: Interaction | None = None) -> str:
    return choose_language(
        interaction_language=interaction.language if interaction else None,
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
    **context: Any,
) -> HTMLResponse:
    """`back` is the address that shows this page again (for the switcher) when the request
    was a form post; `interaction` the sign-in or consent request the page belongs to."""
    language = page_language(request, interaction)
    back = back or this_page(request)
    switches = [
        LanguageLink(
            other, LANGUAGE_NAMES[other], "/language?" + urlencode({"to": other, "back": back})
        )
        for other in other_languages(language)
    ]
    return web_state(request).pages.render(
        template,
        language=language,
        status=status,
        form_action=form_action,
        language_links=switches,
        current_language_name=LANGUAGE_NAMES[language],
        interaction=interaction,
        back=back,
        **context,
    )
