"""Keeping the administrators' side on its own listener (`idp serve --admin-port P`), so that
operators can leave it off the public network: on that port only the console, the admin API,
the static files and the language switcher the console's pages carry answer; on the public port
everything under `/admin` is not found, as any unknown address is (a page for a browser, JSON
for an API client)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from idp.protocol.errors import NOT_FOUND
from idp.web.errors import error_for_anyone


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


def _console_page_path(path: str) -> bool:
    return path == "/language" or path.startswith("/static/")


class AdminListenerSplit:
    def __init__(self, app: ASGIApp, *, admin_port: int) -> None:
        self.app = app
        self.admin_port = admin_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            server = scope.get("server") or (None, None)
            path = scope["path"]
            if server[1] == self.admin_port:
                allowed = is_admin_path(path) or _console_page_path(path)
            else:
                allowed = not is_admin_path(path)
            if not allowed:
                # The same answer as any other unknown path (the error catalogue's).
                await error_for_anyone(Request(scope), NOT_FOUND)(scope, receive, send)
                return
        await self.app(scope, receive, send)
