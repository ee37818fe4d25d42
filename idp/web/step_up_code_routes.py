"""The step-up page's one-time code forms: a code from the citizen's authenticator app, or one
of their recovery codes (idp.authenticators.verification). A refused code shows the step-up
page again with the error beside its field; a right one goes on with the request."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from idp.authenticators.verification import (
    CodeRefused,
    step_up_with_authenticator_app,
    step_up_with_recovery_code,
)
from idp.interactions.browser import BrowserState, SignedIn, signed_in
from idp.interactions.outcomes import Outcome
from idp.models import Interaction
from idp.oauth.context import OperationContext
from idp.web.form_errors import (
    APP_CODE_ALREADY_USED,
    APP_CODE_NOT_RIGHT,
    ENTER_APP_CODE,
    ENTER_RECOVERY_CODE,
    RECOVERY_CODE_NOT_RIGHT,
    TOO_MANY_WRONG_CODES,
    FieldError,
)
from idp.web.interaction_forms import Finished, answer_posted_interaction, read_posted_form
from idp.web.outcomes import (
    expired_page,
)
from idp.web.step_up_routes import STEP_UP_PATH, render_step_up_page

router = APIRouter()

StepUp = Callable[
    [OperationContext, Interaction, BrowserState, SignedIn, str], Outcome | CodeRefused
]
# The input each form's code is typed in (its id and name), and what it says when refused.
_APP_FIELD = "code"
_RECOVERY_FIELD = "recovery_code"
_APP_REFUSALS = {
    "wrong_code": APP_CODE_NOT_RIGHT,
    "code_already_used": APP_CODE_ALREADY_USED,
    "throttled": TOO_MANY_WRONG_CODES,
}
_RECOVERY_REFUSALS = {**_APP_REFUSALS, "wrong_code": RECOVERY_CODE_NOT_RIGHT}


@router.post(f"{STEP_UP_PATH}/authenticator-app", include_in_schema=False)
async def step_up_with_app(request: Request) -> Response:
    return await _step_up(
        request, _APP_FIELD, step_up_with_authenticator_app, ENTER_APP_CODE, _APP_REFUSALS
    )


@router.post(f"{STEP_UP_PATH}/recovery-code", include_in_schema=False)
async def step_up_with_recovery(request: Request) -> Response:
    return await _step_up(
        request,
        _RECOVERY_FIELD,
        step_up_with_recovery_code,
        ENTER_RECOVERY_CODE,
        _RECOVERY_REFUSALS,
    )


async def _step_up(
    request: Request,
    field: str,
    step_up: StepUp,
    missing: str,
    refusals: dict[str, str],
) -> Response:
    posted = await read_posted_form(request)
    if isinstance(posted, Response):
        return posted
    code = posted.get(field)

    def check(ctx: OperationContext, interaction: Interaction) -> Response | Finished:
        citizen = signed_in(ctx, posted.browser)
        if citizen is None:
            return expired_page(request)
        if not code.strip():
            return _ask_again(request, ctx, interaction, field, missing)
        result = step_up(ctx, interaction, posted.browser, citizen, code)
        if isinstance(result, CodeRefused):
            return _ask_again(request, ctx, interaction, field, refusals[result.reason])
        return Finished(result, interaction.language)

    return await answer_posted_interaction(request, posted, check)


def _ask_again(
    request: Request, ctx: OperationContext, interaction: Interaction, field: str, message: str
) -> Response:
    """The step-up page with the error beside `field`; the code typed never comes back."""
    return render_step_up_page(
        request,
        ctx,
        interaction,
        errors=[FieldError(field, message)],
        **{f"{field}_error": message},
    )
