"""Answers that come before or instead of a route's own: a query string holding NUL, and a
database that cannot be reached. Citizens' pages get a readable page, every other endpoint an
OAuth error in JSON."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from idp.protocol.errors import NUL_IN_PARAMETER, TEMPORARILY_UNAVAILABLE
from idp.web.errors import error_page, error_response

# Where a browser navigates, so an answer there is a page: these and everything under them,
# and the home page and the open data page alone (the open data's files are data).
PAGES = ("/", "/open-data/")
PAGE_PATHS = (
    "/authorize",
    "/sign-in",
    "/consent",
    "/account",
    "/step-up",
    "/logout",
    "/sign-out",
    "/language",
    "/help",
    "/privacy",
    "/accessibility",
    "/admin",
)
# The admin API is under /admin too, and answers JSON like every other API.
API_PATHS = ("/admin/api",)
# How long a client should wait before retrying when the database is unreachable (RFC 9110
# 10.2.3); long enough not to hammer a recovering server, short enough for a citizen to retry.
RETRY_AFTER_SECONDS = 5


def _under(path: str, paths: tuple[str, ...]) -> bool:
    return any(path == top or path.startswith(f"{top}/") for top in paths)


def is_page(path: str) -> bool:
    return path in PAGES or (_under(path, PAGE_PATHS) and not _under(path, API_PATHS))


def database_unavailable(request: Request) -> Response:
    """503 with Retry-After: `temporarily_unavailable` (RFC 6749 4.1.2.1) or a page."""
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if is_page(request.url.path):
        return error_page(request, TEMPORARILY_UNAVAILABLE, retry)
    return error_response(TEMPORARILY_UNAVAILABLE, retry)


def unreadable_request(request: Request) -> Response:
    if is_page(request.url.path):
        return error_page(request, NUL_IN_PARAMETER)
    return error_response(NUL_IN_PARAMETER)


def query_holds_nul(query: bytes) -> bool:
    return b"\x00" in query or b"%00" in query


class RefuseNulInQuery:
    """No OAuth or OpenID parameter may hold NUL (RFC 6749 Appendix A allows none of %x00), and
    PostgreSQL cannot store or even compare text that does: such a query is refused here, once,
    before any route reads it. (Urlencoded bodies are checked where they are read.) Paths under
    `answered_elsewhere` are passed on: an app mounted there refuses NUL in its own shape."""

    def __init__(self, app: ASGIApp, answered_elsewhere: tuple[str, ...] = ()) -> None:
        self.app = app
        self.answered_elsewhere = answered_elsewhere

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and query_holds_nul(scope.get("query_string", b""))
            and not scope["path"].startswith(self.answered_elsewhere)
        ):
            await unreadable_request(Request(scope))(scope, receive, send)
            return
        await self.app(scope, receive, send)
