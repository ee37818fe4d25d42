"""HTML pages: one Jinja2 environment (autoescaped, with gettext) per language over every
package's templates, and the Content-Security-Policy each page is sent with."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from babel.dates import format_date, format_time, get_datetime_format
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from idp.protocol.languages import SUPPORTED_LANGUAGES
from idp.web.translations import translations

# No inline script or style anywhere: scripts and styles come from /static (CSP Level 3,
# ASVS 5.0 3.4.3).
BASE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
    "form-action {form_action}"
)


def content_security_policy(form_action: str = "'self'", frame_src: str | None = None) -> str:
    """`frame_src`: the exact frames a page loads (front-channel logout); none otherwise."""
    policy = BASE_CSP.format(form_action=form_action)
    return f"{policy}; frame-src {frame_src}" if frame_src else policy


class PageRenderer:
    def __init__(self, packages: list[str]) -> None:
        loader = ChoiceLoader([PackageLoader(p, "templates") for p in packages])
        self.environments = {
            language: _environment(loader, language) for language in SUPPORTED_LANGUAGES
        }

    def render(
        self,
        template: str,
        *,
        language: str,
        status: int = 200,
        form_action: str = "'self'",
        frame_src: str | None = None,
        **context: Any,
    ) -> HTMLResponse:
        environment = self.environments[language]
        html = environment.get_template(template).render(language=language, **context)
        return HTMLResponse(
            html,
            status_code=status,
            headers={
                "Content-Security-Policy": content_security_policy(form_action, frame_src),
                "Cache-Control": "no-store",
                "Content-Language": language,
            },
        )


def _environment(loader: ChoiceLoader, language: str) -> Environment:
    environment = Environment(
        loader=loader,
        autoescape=select_autoescape(default=True, default_for_string=True),
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    # {% trans %} blocks may span lines in the templates: their whitespace is collapsed, in
    # extraction (babel.cfg) as here.
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]

    # English dates as in the UK and most of Europe ("1 December 2026"), not the US order.
    date_locale = {"en": "en_GB"}.get(language, language)

    def long_date(value: date | datetime) -> str:
        return format_date(value, format="long", locale=date_locale)

    def date_and_time(value: datetime) -> str:
        # "1 December 2026, 14:05 UTC": the gateway keeps no time zone of the citizen's, so the
        # time says which it is in. Joined as the language joins a date and a time.
        joined = str(get_datetime_format("long", locale=date_locale)).replace("'", "")
        day = format_date(value, format="long", locale=date_locale)
        time = format_time(value, format="HH:mm z", tzinfo=UTC, locale=date_locale)
        return joined.replace("{1}", day).replace("{0}", time)

    def short_date(value: date | datetime) -> str:
        # Chart axes: "1 Dec" and "1. dets".
        return format_date(value, format="d MMM", locale=date_locale)

    environment.filters["long_date"] = long_date
    environment.filters["short_date"] = short_date
    environment.filters["date_and_time"] = date_and_time
    return environment
