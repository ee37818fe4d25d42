"""A form posted to one of an interaction's pages (sign-in, passkey, step-up, consent, more
time), taken the same way on every page: the body read before any work, then one step in a
worker thread, in one unit of work, on the interaction the form names.

A form that names no live interaction of this browser, or whose CSRF token does not match it, is
answered by the expired page; so is a form that loses the race for its interaction to another
post of the same page (ADR 0008). A step that finishes the interaction returns `Finished`, which
becomes the browser's answer only once the unit of work has committed: nobody is sent to the
client, or given a session cookie, for a sign-in or consent that was not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from idp.interactions.browser import BrowserState
from idp.interactions.outcomes import Outcome
from idp.models import Interaction
from idp.oauth.context import OperationContext
from idp.protocol.errors import BODY_NOT_A_FORM
from idp.web.cookies import browser_state, set_cookie
from idp.web.errors import error_page
from idp.web.http import page_form
from idp.web.outcomes import (
    expired_if_completed_meanwhile,
    expired_page,
    interaction_submitted,
    render_outcome,
)
from idp.web.state import operation, web_state

T = TypeVar("T")


@dataclass(frozen=True)
class PostedForm:
    """The fields of a page's form and the browser that posted it."""

    fields: dict[str, str]
    browser: BrowserState

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


@dataclass(frozen=True)
class CookieToSet:
    name: str
    value: str
    max_age: int | None = None


@dataclass(frozen=True)
class Finished:
    """Where an interaction's step sends the browser, and the cookies it then carries."""

    outcome: Outcome
    language: str | None  # the interaction's, for a page the outcome shows once it is over
    cookies: tuple[CookieToSet, ...] = ()


def _not_a_form(request: Request) -> Response:
    return error_page(request, BODY_NOT_A_FORM)


async def read_posted_form(
    request: Request, *, not_a_form: Callable[[Request], Response] = _not_a_form
) -> PostedForm | Response:
    """The posted form, or the answer to a body that is not a readable urlencoded form."""
    fields = await page_form(request)
    if fields is None:
        return not_a_form(request)
    return PostedForm(fields, browser_state(request))


async def on_posted_interaction(
    request: Request,
    posted: PostedForm,
    step: Callable[[OperationContext, Interaction], T],
    *,
    expired: Callable[[Request], Response] = expired_page,
) -> T | Response:
    """`step`'s result once its unit of work has committed, or `expired`'s answer."""
    return await run_in_threadpool(
        expired_if_completed_meanwhile(
            request, lambda: _step_on_posted(request, posted, step, expired), expired
        )
    )


async def answer_posted_interaction(
    request: Request,
    posted: PostedForm,
    step: Callable[[OperationContext, Interaction], Response | Finished],
) -> Response:
    """The page's answer: the one `step` gives (a page shown again), or, when it finished the
    interaction, the outcome's with its cookies, made only after the commit."""

    def finish() -> Response:
        result = _step_on_posted(request, posted, step, expired_page)
        if isinstance(result, Response):
            return result
        response = render_outcome(
            request, result.outcome, posted.browser, redirect_status=303, language=result.language
        )
        state = web_state(request)
        for cookie in result.cookies:
            set_cookie(state, response, cookie.name, cookie.value, max_age=cookie.max_age)
        return response

    return await run_in_threadpool(expired_if_completed_meanwhile(request, finish))


def _step_on_posted(
    request: Request,
    posted: PostedForm,
    step: Callable[[OperationContext, Interaction], T],
    expired: Callable[[Request], Response],
) -> T | Response:
    with operation(request) as ctx:
        interaction = interaction_submitted(ctx, posted.fields, posted.browser)
        if interaction is None:
            return expired(request)
        return step(ctx, interaction)
