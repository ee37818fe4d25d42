"""The one renderer of catalogue errors (idp.protocol.errors): a JSON body with `Cache-Control:
no-store` and the challenge the spec requires, or the citizen's error page. Private detail goes
to the server log here and nowhere else."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import Response

from idp.protocol.errors import ProtocolError
from idp.web.citizen_pages import render_page
from idp.web.http import json_response

log = logging.getLogger("idp.errors")


def _log_detail(error: ProtocolError) -> None:
    if error.detail is not None:
        log.info("answered %s (%d): %s", error.code, error.status, error.detail)


def error_response(error: ProtocolError, headers: dict[str, str] | None = None) -> Response:
    """The JSON answer (RFC 6749 5.2, RFC 6750 3); `headers` adds e.g. Retry-After or Allow."""
    _log_detail(error)
    challenge = error.www_authenticate()
    extra = {**(headers or {}), **({"WWW-Authenticate": challenge} if challenge else {})}
    return json_response(error.status, error.body(), extra)


def error_page(
    request: Request,
    error: ProtocolError,
    headers: dict[str, str] | None = None,
    *,
    ui_locales: str | None = None,
) -> Response:
    """The citizen's error page, in plain words; an entry without page text gets the JSON.
    `ui_locales`: the language the request asked for, where it is no interaction's."""
    if error.page is None:
        return error_response(error, headers)
    _log_detail(error)
    response = render_page(
        request,
        "idp/error.html",
        status=error.status,
        title=error.page.title,
        message=error.page.message,
        next_step=error.page.next_step,
        ui_locales=ui_locales,
    )
    response.headers.update(headers or {})
    return response


def wants_page(request: Request) -> bool:
    """A browser navigating (it accepts HTML) gets a page; an API client gets JSON."""
    return "text/html" in request.headers.get("accept", "")


def error_for_anyone(
    request: Request, error: ProtocolError, headers: dict[str, str] | None = None
) -> Response:
    """The page for a browser, the JSON for a client: for errors on no particular endpoint."""
    if wants_page(request):
        return error_page(request, error, headers)
    return error_response(error, headers)
