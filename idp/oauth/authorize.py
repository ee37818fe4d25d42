"""The authorization endpoint as an ordered list of checks (OIDC Core 3.1.2), free of any web
framework. Each call returns one outcome for the web layer to render.

Until the client and its exact redirect URI are known to be good, every failure is an error page:
never a redirect to an unvalidated URI (RFC 6749 4.1.2.1, RFC 9700 4.1.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.base import OAuth2Error

from idp.authentication.assurance import SessionAssurance, assess_session, level_reachable
from idp.interactions.browser import BrowserState, SignedIn, signed_in
from idp.interactions.outcomes import (
    ErrorPage,
    Outcome,
    PostToClient,
    RedirectToClient,
    ShowConsent,
    ShowSignIn,
    ShowStepUp,
)
from idp.interactions.sessions import (
    complete_interaction,
    start_interaction,
)
from idp.models import Client, Interaction
from idp.oauth.context import OperationContext
from idp.oauth.id_tokens import verify_id_token_hint
from idp.oauth.requests import GatewayOAuth2Request, ProtocolRequest
from idp.oauth.server import (
    RESPONSE_TYPES,
    GatewayAuthorizationServer,
    build_server,
    catalogue_error,
)
from idp.protocol.assurance import Level, Requirement, required_level
from idp.protocol.authorization import (
    InteractionFacts,
    InvalidAuthorizationParameter,
    NextStep,
    RequestFacts,
    SessionFacts,
    check_parameter_lengths,
    decide_next_step,
    find_repeated_parameter,
    parse_max_age,
    parse_prompt,
    parse_response_mode,
)
from idp.protocol.claims import (
    ClaimsRequest,
    InvalidClaimsRequest,
    parse_claims_request,
    scopes_needed_for_claims,
)
from idp.protocol.errors import (
    AUTHORIZATION_REQUEST_NOT_VALID,
    CLIENT_NOT_REGISTERED,
    CONSENT_REQUIRED,
    ID_TOKEN_HINT_NOT_VALID,
    INVALID_REQUEST,
    LOGIN_REQUIRED,
    REDIRECT_URI_MISSING,
    REDIRECT_URI_NOT_REGISTERED,
    REQUEST_NOT_SUPPORTED,
    REQUEST_URI_NOT_SUPPORTED,
    STEP_UP_NEEDED,
    UNMET_AUTHENTICATION_REQUIREMENTS,
    UNSUPPORTED_RESPONSE_TYPE,
    ProtocolError,
    repeated_parameter,
    unvalidated_parameter_repeated,
)
from idp.redirect_uris import redirect_uri_is_registered

Pairs = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Reply:
    """Where and how errors and codes go once the redirect URI is validated."""

    redirect_uri: str
    response_mode: str
    state: str | None
    issuer: str

    def send(self, params: list[tuple[str, str]]) -> RedirectToClient | PostToClient:
        params = (
            [*params, ("iss", self.issuer)] if not any(n == "iss" for n, _ in params) else (params)
        )
        if self.response_mode == "form_post":
            return PostToClient(action=self.redirect_uri, params=params)
        return RedirectToClient(location=add_params_to_uri(self.redirect_uri, params))

    def error(self, error: ProtocolError) -> RedirectToClient | PostToClient:
        params = error.parameters()
        if self.state is not None:
            params.append(("state", self.state))
        return self.send(params)


class _Refusal(Exception):
    """Ends the checks early with the outcome to send (an error page or an error redirect)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("authorization request refused")
        self.outcome = outcome


@dataclass(frozen=True)
class _Parameters:
    """prompt, max_age and claims, parsed (OIDC Core 3.1.2.1, 5.5)."""

    prompt: frozenset[str]
    max_age: timedelta | None
    claims_request: ClaimsRequest
    required: Requirement


@dataclass(frozen=True)
class _Grant:
    """What Authlib accepted: the request (scope widened for claims), its server and grant."""

    oauth_request: GatewayOAuth2Request
    server: GatewayAuthorizationServer
    grant: Any
    scopes: list[str]


def handle_authorization_request(
    ctx: OperationContext,
    request: ProtocolRequest,
    browser: BrowserState,
    *,
    interaction: Interaction | None = None,
    consented_here: bool = False,
) -> Outcome:
    """OIDC Core 3.1.2: run the checks in order, then sign in, consent or issue a code."""
    try:
        return _authorize(ctx, request, browser, interaction, consented_here)
    except _Refusal as refusal:
        finish_interaction(ctx, interaction)
        return refusal.outcome


def _authorize(
    ctx: OperationContext,
    request: ProtocolRequest,
    browser: BrowserState,
    interaction: Interaction | None,
    consented_here: bool,
) -> Outcome:
    """The checks in the order of OIDC Core 3.1.2.1-3.1.2.6 and RFC 6749 4.1.1, 4.1.2.1."""
    pairs = request.query if request.method == "GET" else request.form
    params = _first_values(pairs)
    # Until the redirect URI is validated, a failure is an error page (RFC 6749 4.1.2.1).
    check_client_parameters_not_repeated(pairs)
    client = check_client(ctx, params)
    redirect_uri = check_redirect_uri(client, params)
    reply = check_response_mode(ctx, params, redirect_uri)
    # From here on, errors go back to the client.
    check_no_repeated_parameters(pairs, reply)
    check_request_objects_unsupported(params, reply)
    parameters = parse_prompt_max_age_and_claims(ctx, client, pairs, params, reply)
    grant = check_with_authlib(ctx, request, client, parameters, reply)
    hinted_subject = check_id_token_hint(ctx, params, reply)
    citizen = find_signed_in_account(ctx, browser)
    # Assessed once: the decision and the code both need what the session proves.
    assurance = assess_session(ctx, citizen.browser_session) if citizen else None
    decision = decide(
        ctx,
        client=client,
        parameters=parameters,
        scopes=grant.scopes,
        hinted_subject=hinted_subject,
        citizen=citizen,
        assurance=assurance,
        interaction=interaction,
        consented_here=consented_here,
        reply=reply,
    )
    if isinstance(decision, NextStep):
        return ask_citizen(
            ctx, decision, client=client, pairs=pairs, browser=browser, interaction=interaction
        )
    finish_interaction(ctx, interaction)
    # `decision` is `citizen` here, so `assurance` is its session's.
    return issue_code(
        grant, reply, decision, assurance or assess_session(ctx, decision.browser_session)
    )


def _first_values(pairs: Pairs) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in pairs:
        params.setdefault(name, value)
    return params


def check_client_parameters_not_repeated(pairs: Pairs) -> None:
    repeated = find_repeated_parameter(pairs)
    if repeated in ("client_id", "redirect_uri"):
        raise _Refusal(ErrorPage(unvalidated_parameter_repeated(repeated)))


def check_client(ctx: OperationContext, params: dict[str, str]) -> Client:
    client = ctx.registered_client(params.get("client_id", ""))
    if client is None:
        raise _Refusal(ErrorPage(CLIENT_NOT_REGISTERED))
    return client


def check_redirect_uri(client: Client, params: dict[str, str]) -> str:
    """Exact match with a registered URI (RFC 9700 2.1; OIDC Core 3.1.2.1)."""
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise _Refusal(ErrorPage(REDIRECT_URI_MISSING))
    if not redirect_uri_is_registered(client, redirect_uri):
        raise _Refusal(ErrorPage(REDIRECT_URI_NOT_REGISTERED))
    return redirect_uri


def check_response_mode(ctx: OperationContext, params: dict[str, str], redirect_uri: str) -> Reply:
    """How to reply; an unknown response_mode is reported to the redirect URI by query."""
    state = params.get("state")
    try:
        mode = parse_response_mode(params.get("response_mode"))
    except InvalidAuthorizationParameter as error:
        reply = Reply(redirect_uri, "query", state, ctx.settings.issuer)
        raise _Refusal(reply.error(INVALID_REQUEST.described(str(error)))) from error
    return Reply(redirect_uri, mode, state, ctx.settings.issuer)


def check_no_repeated_parameters(pairs: Pairs, reply: Reply) -> None:
    repeated = find_repeated_parameter(pairs)
    if repeated:
        raise _Refusal(reply.error(repeated_parameter(repeated)))


def check_request_objects_unsupported(params: dict[str, str], reply: Reply) -> None:
    """OIDC Core 6: request objects are optional; we say so with their error codes."""
    if "request" in params:
        raise _Refusal(reply.error(REQUEST_NOT_SUPPORTED))
    if "request_uri" in params:
        raise _Refusal(reply.error(REQUEST_URI_NOT_SUPPORTED))


def parse_prompt_max_age_and_claims(
    ctx: OperationContext, client: Client, pairs: Pairs, params: dict[str, str], reply: Reply
) -> _Parameters:
    """And the level of assurance the request needs, with the client's registered minimum."""
    try:
        check_parameter_lengths(pairs)
        claims_request = parse_claims_request(params.get("claims"))
        prompt = parse_prompt(params.get("prompt"))
        max_age = parse_max_age(params.get("max_age"))
    except (InvalidAuthorizationParameter, InvalidClaimsRequest) as error:
        raise _Refusal(reply.error(INVALID_REQUEST.described(str(error)))) from error
    return _Parameters(
        prompt=prompt,
        max_age=max_age,
        claims_request=claims_request,
        required=required_level(
            client_minimum=Level.labelled(client.minimum_level),
            acr_values=params.get("acr_values"),
            essential_acr=claims_request.essential("acr"),
            voluntary_acr=claims_request.id_token.get("acr"),
            vocabulary=ctx.settings.acr_vocabulary,
        ),
    )


def check_with_authlib(
    ctx: OperationContext,
    request: ProtocolRequest,
    client: Client,
    parameters: _Parameters,
    reply: Reply,
) -> _Grant:
    """Authlib's grant checks: response_type, scope, PKCE (S256 only), nonce."""
    oauth_request = GatewayOAuth2Request(request)
    oauth_request.operation_context = ctx
    oauth_request.claims_request = parameters.claims_request
    server = build_server(ctx)
    if oauth_request.payload.response_type not in RESPONSE_TYPES:
        # Refused here with a fixed text: Authlib puts the value in its error_description and
        # then raises ValueError when the value holds a character RFC 6749 4.1.2.1 forbids there.
        raise _Refusal(reply.error(UNSUPPORTED_RESPONSE_TYPE))
    try:
        grant = server.get_consent_grant(oauth_request, end_user=None)
    except OAuth2Error as error:
        if error.redirect_uri:
            raise _Refusal(reply.error(catalogue_error(error))) from error
        detail = error.description or error.error
        raise _Refusal(ErrorPage(AUTHORIZATION_REQUEST_NOT_VALID.because(detail))) from error
    # Claims asked for one by one need their scope's consent too (only allowed scopes count).
    extra = scopes_needed_for_claims(parameters.claims_request) & set(client.scopes)
    scopes = list(dict.fromkeys([*oauth_request.scope.split(), *sorted(extra)]))
    oauth_request.scope = " ".join(scopes)
    return _Grant(oauth_request=oauth_request, server=server, grant=grant, scopes=scopes)


def check_id_token_hint(ctx: OperationContext, params: dict[str, str], reply: Reply) -> str | None:
    """The subject the client expects (OIDC Core 3.1.2.1), or None without a hint."""
    hint = params.get("id_token_hint")
    if not hint:
        return None
    hinted_subject = _subject_from_id_token_hint(ctx, hint)
    if hinted_subject is None:
        raise _Refusal(reply.error(ID_TOKEN_HINT_NOT_VALID))
    return hinted_subject


def _subject_from_id_token_hint(ctx: OperationContext, hint: str) -> str | None:
    verified = verify_id_token_hint(ctx, hint)
    return verified.subject if verified else None


def find_signed_in_account(ctx: OperationContext, browser: BrowserState) -> SignedIn | None:
    """The end-user's session (OIDC Core 3.1.2.3)."""
    return signed_in(ctx, browser)


def decide(
    ctx: OperationContext,
    *,
    client: Client,
    parameters: _Parameters,
    scopes: list[str],
    hinted_subject: str | None,
    citizen: SignedIn | None,
    assurance: SessionAssurance | None,
    interaction: Interaction | None,
    consented_here: bool,
    reply: Reply,
) -> SignedIn | NextStep:
    """Sign in and consent (OIDC Core 3.1.2.3, 3.1.2.4): the citizen a code may be issued for,
    or the page to show next. With prompt=none those pages are errors instead (3.1.2.6)."""
    granted = (
        ctx.provider.consent.granted_scopes(
            ctx.session, account_id=citizen.account.id, client_id=client.client_id
        )
        if citizen
        else frozenset()
    )
    step = decide_next_step(
        request=RequestFacts(
            prompt=parameters.prompt,
            max_age=parameters.max_age,
            hinted_subject=hinted_subject,
            requested_scopes=frozenset(scopes),
            required=parameters.required,
        ),
        session=(
            _session_facts(ctx, citizen, assurance, parameters.required)
            if citizen and assurance
            else None
        ),
        granted_scopes=granted,
        interaction=InteractionFacts(
            signed_in_here=bool(
                interaction
                and citizen
                and interaction.authenticated_session_id == citizen.browser_session.id
            ),
            consented_here=consented_here,
        ),
        now=ctx.now,
    )
    if step is NextStep.LOGIN_REQUIRED:
        raise _Refusal(reply.error(LOGIN_REQUIRED))
    if step is NextStep.CONSENT_REQUIRED:
        raise _Refusal(reply.error(CONSENT_REQUIRED))
    if step is NextStep.STEP_UP_REQUIRED:
        raise _Refusal(reply.error(STEP_UP_NEEDED))
    if step is NextStep.UNMET_AUTHENTICATION_REQUIREMENTS:
        raise _Refusal(reply.error(UNMET_AUTHENTICATION_REQUIREMENTS))
    if step is NextStep.ISSUE_CODE and citizen is not None:
        return citizen
    return step


def _session_facts(
    ctx: OperationContext,
    citizen: SignedIn,
    assurance: SessionAssurance,
    required: Requirement,
) -> SessionFacts:
    # What the citizen's enrolled methods could reach matters only when the session falls short
    # of the level asked for, and costs a query per method: it is not read otherwise.
    short = assurance.level < required.level
    return SessionFacts(
        subject=citizen.account.subject,
        auth_time=citizen.browser_session.auth_time,
        level=assurance.level,
        reachable=level_reachable(ctx.session, citizen.account) if short else assurance.level,
    )


def ask_citizen(
    ctx: OperationContext,
    step: NextStep,
    *,
    client: Client,
    pairs: Pairs,
    browser: BrowserState,
    interaction: Interaction | None,
) -> ShowSignIn | ShowStepUp | ShowConsent:
    """The sign-in, step-up or consent page, for an interaction that keeps the request's
    parameters."""
    interaction = interaction or start_interaction(
        ctx.session,
        client_id=client.client_id,
        parameters=list(pairs),
        browser_binding=browser.ensure_binding(),
        now=ctx.now,
        lifetime=ctx.settings.interaction_lifetime,
    )
    if step is NextStep.CONSENT:
        return ShowConsent(interaction.handle)
    if step is NextStep.STEP_UP:
        return ShowStepUp(interaction.handle)
    # Anything else means signing in (decide_next_step issues a code only with a session).
    return ShowSignIn(interaction.handle)


def issue_code(
    grant: _Grant, reply: Reply, citizen: SignedIn, assurance: SessionAssurance
) -> RedirectToClient | PostToClient:
    """RFC 6749 4.1.2: the code (stored by Authlib's hooks) to the redirect URI, with the
    level the session proves at this moment."""
    grant.oauth_request.browser_session = citizen.browser_session
    grant.oauth_request.assurance = assurance
    response = grant.server.create_authorization_response(
        grant.oauth_request, grant_user=citizen.account, grant=grant.grant
    )
    location = response.location or ""
    if reply.response_mode == "form_post":
        # The code and state were appended after the redirect URI's own query; send only those.
        own = len(parse_qsl(urlsplit(reply.redirect_uri).query, keep_blank_values=True))
        added = parse_qsl(urlsplit(location).query, keep_blank_values=True)[own:]
        return PostToClient(action=reply.redirect_uri, params=added)
    return RedirectToClient(location=location)


def finish_interaction(ctx: OperationContext, interaction: Interaction | None) -> None:
    """Raises InteractionAlreadyCompleted when a parallel request finished it first."""
    if interaction is not None:
        complete_interaction(ctx.session, interaction, now=ctx.now)
