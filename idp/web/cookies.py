"""The browser's cookies: their names, and the flags every one of them is set with.

Every cookie is `HttpOnly` (no script reads it), `SameSite=Lax` (not sent on cross-site POSTs;
Strict would break the return from an agency), `Path=/`, and under https `Secure` with the
`__Host-` prefix, which makes the browser refuse a `Domain` attribute or a non-secure origin
(RFC 6265bis 4.1.3.2; ASVS 5.0 3.3.1-3.3.4). Cookies hold only random opaque values, whose
SHA-256 digests the database keeps (ADR 0003), or the language the citizen picked.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from idp.interactions.browser import BrowserState
from idp.web.state import WebState, web_state

SESSION_COOKIE = "idp-session"  # the single sign-on session
BINDING_COOKIE = "idp-browser"  # ties an interaction to the browser that started it
# A browser's own sign-in allowance for the accounts signed in there
# (idp.authentication.allowances).
ALLOWANCE_COOKIE = "idp-device"
# The language the citizen picked with the switcher (a language tag, not a secret).
LANGUAGE_COOKIE = "idp-lang"
LANGUAGE_COOKIE_LIFETIME = 365 * 24 * 3600


def cookie_name(state: WebState, base: str) -> str:
    return f"__Host-{base}" if state.secure_cookies else base


def cookie_value(request: Request, base: str) -> str | None:
    return request.cookies.get(cookie_name(web_state(request), base))


def browser_state(request: Request) -> BrowserState:
    return BrowserState(
        session_secret=cookie_value(request, SESSION_COOKIE),
        binding=cookie_value(request, BINDING_COOKIE),
    )


def set_cookie(
    state: WebState, response: Response, base: str, value: str, *, max_age: int | None = None
) -> None:
    response.set_cookie(
        cookie_name(state, base),
        value,
        max_age=max_age,
        path="/",
        secure=state.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(state: WebState, response: Response, base: str) -> None:
    """Tells the browser to drop the cookie (Max-Age=0), with the attributes it was set with."""
    response.delete_cookie(
        cookie_name(state, base),
        path="/",
        secure=state.secure_cookies,
        httponly=True,
        samesite="lax",
    )
