"""What every console page shares: its cookies, the check of the administrator's session and
role (and, for sensitive pages, how recent the sign-in is), the form token, and rendering.

Every console route goes through `console_page` or `console_form`, so none can forget the
role check: a request without a live session is sent to sign in, one without the role gets the
403 page and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from admin.console_sessions import SignedInAdministrator, find_administrator
from admin.roles import Role
from admin.settings import ConsoleSettings
from idp.interactions.csrf import console_form_token, console_form_token_matches
from idp.oauth.context import OperationContext
from idp.web.citizen_pages import render_page
from idp.web.http import page_form
from idp.web.state import operation, web_state

CONSOLE = "/admin"
SESSION_COOKIE = "idp-admin"
SIGN_IN_COOKIE = "idp-admin-sign-in"
# Where a sign-in may return: a console page, never anywhere else (no open redirect).
_CONSOLE_PATH = re.compile(r"^/admin(?:/[A-Za-z0-9/_.\-]*)?(?:\?[A-Za-z0-9_.\-=&%+]*)?$")

NAVIGATION = (
    (None, "/admin/", "Dashboard"),
    (Role.AUDITOR, "/admin/log", "Access log"),
    (Role.OPERATOR, "/admin/apps", "Agency apps"),
    (Role.OPERATOR, "/admin/keys", "Signing keys"),
    (Role.OPERATOR, "/admin/sign-outs", "Sign-out deliveries"),
    (Role.SUPPORT, "/admin/citizens", "Citizens"),
    (Role.SECURITY, "/admin/roles", "Administrators"),
)


def console_settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.console
    return settings


def console_base(request: Request) -> str:
    return console_settings(request).console_base(web_state(request).provider.settings.issuer)


def cookie_name(request: Request, base: str) -> str:
    # `__Host-` would need Path=/; the console's cookies stay under /admin, so `__Secure-`.
    return f"__Secure-{base}" if web_state(request).secure_cookies else base


def set_console_cookie(
    request: Request, response: Response, base: str, value: str, *, max_age: int | None = None
) -> None:
    response.set_cookie(
        cookie_name(request, base),
        value,
        max_age=max_age,
        path=CONSOLE,
        secure=web_state(request).secure_cookies,
        httponly=True,
        # The return from the authorization endpoint is a top-level navigation from the
        # gateway itself: Lax is enough for the sign-in cookie; the session needs no more than
        # Strict.
        samesite="strict" if base == SESSION_COOKIE else "lax",
    )


def clear_console_cookie(request: Request, response: Response, base: str) -> None:
    response.delete_cookie(
        cookie_name(request, base), path=CONSOLE, secure=web_state(request).secure_cookies
    )


def console_cookie(request: Request, base: str) -> str | None:
    return request.cookies.get(cookie_name(request, base))


def safe_return_path(candidate: str | None) -> str:
    if candidate and len(candidate) <= 500 and _CONSOLE_PATH.match(candidate):
        return candidate
    return "/admin/"


@dataclass
class Console:
    """One console request: its unit of work and the administrator signed in."""

    request: Request
    ctx: OperationContext
    administrator: SignedInAdministrator
    secret: str

    @property
    def actor(self) -> str:
        return self.administrator.actor

    def render(self, template: str, *, status: int = 200, **context: Any) -> Response:
        roles = self.administrator.roles
        return render_page(
            self.request,
            template,
            status=status,
            administrator=self.administrator,
            navigation=[
                (href, label) for role, href, label in NAVIGATION if role in (None, *roles)
            ],
            current_path=self.request.url.path,
            form_token=console_form_token(self.secret),
            **context,
        )

    def see_other(self, location: str) -> Response:
        response = RedirectResponse(location, status_code=303)
        response.headers["Cache-Control"] = "no-store"
        return response


def this_console_page(request: Request) -> str:
    query = request.url.query
    return safe_return_path(request.url.path + (f"?{query}" if query else ""))


def sign_in_link(return_to: str, *, fresh: bool = False) -> str:
    parameters = {"next": return_to, **({"fresh": "1"} if fresh else {})}
    return f"{CONSOLE}/sign-in?{urlencode(parameters)}"


async def console_page(
    request: Request,
    role: Role | None,
    work: Callable[[Console], Response],
    *,
    fresh: bool = False,
) -> Response:
    """A GET page: `work` runs only for a live session holding `role` (None: any console role)."""
    return await _run(request, role, work, fresh=fresh, form=None)


async def console_form(
    request: Request,
    role: Role | None,
    work: Callable[[Console, dict[str, str]], Response],
    *,
    fresh: bool = False,
) -> Response:
    """A form post: as `console_page`, and the form must carry this session's token."""
    form = await page_form(request)
    if form is None:
        return render_page(
            request, "admin/expired.html", status=400, sign_in=sign_in_link("/admin/")
        )
    return await _run(request, role, lambda console: work(console, form), fresh=fresh, form=form)


async def _run(
    request: Request,
    role: Role | None,
    work: Callable[[Console], Response],
    *,
    fresh: bool,
    form: dict[str, str] | None,
) -> Response:
    secret = console_cookie(request, SESSION_COOKIE)
    settings = console_settings(request)
    # A form says where it came from (`return_to`), so a sign-in it needs returns there.
    return_to = (
        this_console_page(request) if form is None else safe_return_path(form.get("return_to"))
    )

    def run() -> Response:
        with operation(request) as ctx:
            administrator = find_administrator(ctx.session, secret, now=ctx.now, settings=settings)
            if administrator is None or secret is None:
                if form is None:
                    return RedirectResponse(sign_in_link(return_to), status_code=303)
                return render_page(
                    request, "admin/expired.html", status=401, sign_in=sign_in_link(return_to)
                )
            console = Console(request=request, ctx=ctx, administrator=administrator, secret=secret)
            if not administrator.roles or (role is not None and role not in administrator.roles):
                return console.render("admin/refused.html", status=403, role=role)
            if form is not None and not console_form_token_matches(
                form.get("form_token", ""), secret
            ):
                return render_page(
                    request, "admin/expired.html", status=400, sign_in=sign_in_link("/admin/")
                )
            if fresh and not administrator.signed_in_within(
                settings.fresh_sign_in_lifetime, now=ctx.now
            ):
                return console.render(
                    "admin/fresh_sign_in.html",
                    status=403,
                    sign_in=sign_in_link(return_to, fresh=True),
                )
            return work(console)

    return await run_in_threadpool(run)
