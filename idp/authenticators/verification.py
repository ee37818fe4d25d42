"""Stepping up with a one-time code: the authenticator app's or a recovery code, checked within
the wrong-code throttle (idp.authenticators.code_attempts), refused and logged when it is not
right, and otherwise recorded with the session (idp.authentication.step_up). Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from idp import events
from idp.authentication.account_sign_in import agency_of
from idp.authentication.step_up import complete_step_up
from idp.authentication.throttle import ThrottleRules
from idp.authenticators.authenticator_apps import CodeVerdict, use_code
from idp.authenticators.code_attempts import claim_code_attempt, clear_code_attempts
from idp.authenticators.recovery_codes import unused_recovery_codes, use_recovery_code
from idp.events.citizen import OneTimeCodeMethod
from idp.interactions.browser import BrowserState, SignedIn
from idp.interactions.outcomes import Outcome
from idp.models import Interaction
from idp.oauth.context import OperationContext
from idp.protocol.assurance import AuthenticationMethod, MethodUse


@dataclass(frozen=True)
class CodeRefused:
    """Why the page asks again. The citizen is told only "not right" or "wait"."""

    reason: Literal["wrong_code", "code_already_used", "throttled"]


def step_up_with_authenticator_app(
    ctx: OperationContext,
    interaction: Interaction,
    browser: BrowserState,
    citizen: SignedIn,
    code: str,
) -> Outcome | CodeRefused:
    if not claim_code_attempt(
        ctx.session, citizen.account, now=ctx.now, rules=ThrottleRules.of(ctx.settings)
    ):
        return _refused(ctx, interaction, citizen, "authenticator_app", "throttled")
    verdict = use_code(ctx, citizen.account, code)
    if verdict is CodeVerdict.WRONG:
        return _refused(ctx, interaction, citizen, "authenticator_app", "wrong_code")
    if verdict is CodeVerdict.ALREADY_USED:
        return _refused(ctx, interaction, citizen, "authenticator_app", "code_already_used")
    clear_code_attempts(ctx.session, citizen.account, now=ctx.now)
    use = MethodUse.of(AuthenticationMethod.AUTHENTICATOR_APP, ctx.now)
    return complete_step_up(ctx, interaction, browser, citizen, use)


def step_up_with_recovery_code(
    ctx: OperationContext,
    interaction: Interaction,
    browser: BrowserState,
    citizen: SignedIn,
    code: str,
) -> Outcome | CodeRefused:
    if not claim_code_attempt(
        ctx.session, citizen.account, now=ctx.now, rules=ThrottleRules.of(ctx.settings)
    ):
        return _refused(ctx, interaction, citizen, "recovery_code", "throttled")
    if not use_recovery_code(ctx, citizen.account, code):
        # A used code and a wrong one look alike: only their digests are kept.
        return _refused(ctx, interaction, citizen, "recovery_code", "wrong_code")
    clear_code_attempts(ctx.session, citizen.account, now=ctx.now)
    ctx.record(
        events.recovery_code_used(
            subject=citizen.account.subject,
            client_id=agency_of(interaction),
            remaining=unused_recovery_codes(ctx.session, citizen.account),
        )
    )
    use = MethodUse.of(AuthenticationMethod.RECOVERY_CODE, ctx.now)
    return complete_step_up(ctx, interaction, browser, citizen, use)


def _refused(
    ctx: OperationContext,
    interaction: Interaction,
    citizen: SignedIn,
    method: OneTimeCodeMethod,
    reason: Literal["wrong_code", "code_already_used", "throttled"],
) -> CodeRefused:
    ctx.record(
        events.step_up_failed(
            subject=citizen.account.subject,
            client_id=agency_of(interaction),
            method=method,
            reason=reason,
        )
    )
    return CodeRefused(reason)
