"""Authorization request rules that are not Authlib's: prompt, max_age, response_mode, and the
decision whether the citizen must sign in, consent, or can be sent straight back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from idp.protocol.assurance import NO_REQUIREMENT, Level, Requirement

# select_account is not offered: a browser has one citizen session at a time. In the order the
# discovery document lists them.
PROMPT_VALUES = ("none", "login", "consent")
RESPONSE_MODES = ("query", "form_post")
# Parameters that must appear at most once (RFC 6749 3.1; OIDC Core 3.1.2.1).
SINGLE_VALUED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "id_token_hint",
    "login_hint",
    "acr_values",
    "claims",
    "ui_locales",
    "request",
    "request_uri",
    "display",
)
MAX_PARAMETER_LENGTH = 4096


class InvalidAuthorizationParameter(ValueError):
    """A parameter is malformed; the message is safe to send to the client."""


def find_repeated_parameter(pairs: Sequence[tuple[str, str]]) -> str | None:
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen and name in SINGLE_VALUED:
            return name
        seen.add(name)
    return None


def parse_prompt(raw: str | None) -> frozenset[str]:
    if raw is None or raw == "":
        return frozenset()
    values = frozenset(raw.split(" "))
    if not values <= frozenset(PROMPT_VALUES):
        raise InvalidAuthorizationParameter("Unsupported 'prompt' value.")
    if "none" in values and len(values) > 1:
        raise InvalidAuthorizationParameter("'prompt=none' cannot be combined with other values.")
    return values


def parse_max_age(raw: str | None) -> timedelta | None:
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        raise InvalidAuthorizationParameter("'max_age' must be a non-negative number of seconds.")
    return timedelta(seconds=int(raw))


def parse_response_mode(raw: str | None) -> str:
    mode = raw or "query"
    if mode not in RESPONSE_MODES:
        raise InvalidAuthorizationParameter("Unsupported 'response_mode'.")
    return mode


def check_parameter_lengths(pairs: Iterable[tuple[str, str]]) -> None:
    for name, value in pairs:
        if len(value) > MAX_PARAMETER_LENGTH:
            raise InvalidAuthorizationParameter(f"'{name}' is too long.")


class NextStep(Enum):
    ISSUE_CODE = "issue_code"
    SIGN_IN = "sign_in"
    CONSENT = "consent"
    LOGIN_REQUIRED = "login_required"
    CONSENT_REQUIRED = "consent_required"
    # The session is weaker than the request needs (idp.protocol.assurance): a stronger method
    # the citizen has, or with prompt=none an error; without such a method the request fails.
    STEP_UP = "step_up"
    STEP_UP_REQUIRED = "interaction_required"
    UNMET_AUTHENTICATION_REQUIREMENTS = "unmet_authentication_requirements"


@dataclass(frozen=True)
class SessionFacts:
    subject: str
    auth_time: datetime
    level: Level = Level.LOW
    # The highest level the citizen's enrolled methods can reach.
    reachable: Level = Level.LOW


@dataclass(frozen=True)
class RequestFacts:
    prompt: frozenset[str]
    max_age: timedelta | None
    hinted_subject: str | None
    requested_scopes: frozenset[str]
    required: Requirement = NO_REQUIREMENT


@dataclass(frozen=True)
class InteractionFacts:
    """What the citizen already did for this very request (on the pages we showed)."""

    signed_in_here: bool = False
    consented_here: bool = False


def decide_next_step(
    *,
    request: RequestFacts,
    session: SessionFacts | None,
    granted_scopes: Mapping[str, object] | frozenset[str],
    interaction: InteractionFacts,
    now: datetime,
) -> NextStep:
    """OIDC Core 3.1.2.3-3.1.2.6: decide what the authorization endpoint does next. The level
    comes after signing in and before consent: the citizen is asked what they allow only once
    it is sure who they are."""
    silent = "none" in request.prompt
    if request.required.impossible:
        return NextStep.UNMET_AUTHENTICATION_REQUIREMENTS
    must_sign_in = session is None
    if session is not None and not interaction.signed_in_here:
        if "login" in request.prompt:
            must_sign_in = True
        if request.max_age is not None and now - session.auth_time > request.max_age:
            must_sign_in = True
        if request.hinted_subject is not None and request.hinted_subject != session.subject:
            must_sign_in = True
    if must_sign_in:
        return NextStep.LOGIN_REQUIRED if silent else NextStep.SIGN_IN
    if session is not None and session.level < request.required.level:
        if session.reachable < request.required.level:
            return NextStep.UNMET_AUTHENTICATION_REQUIREMENTS
        return NextStep.STEP_UP_REQUIRED if silent else NextStep.STEP_UP

    missing = request.requested_scopes - set(granted_scopes)
    wants_consent = bool(missing) or "consent" in request.prompt
    if wants_consent and not interaction.consented_here:
        return NextStep.CONSENT_REQUIRED if silent else NextStep.CONSENT
    return NextStep.ISSUE_CODE
