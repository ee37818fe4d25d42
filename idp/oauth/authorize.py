"""The authorization endpoint as an ordered list of checks (OIDC Core 3.1.2), free of any web
framework. Each call returns one outcome for the web layer to render.

Until the client and its exact redirect URI are known to be good, every failure is an error page:
never a redirect to an unvalidated URI (RFC 6749 4.1.2.1, RFC 9700 4.1.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.base import OAuth2Error

from idp import events
from idp.accounts import get_active_account
from idp.clients import find_client
from idp.interactions.sessions import (
    find_browser_session,
    interaction_parameters,
    start_interaction,
)
from idp.keys.jose import InvalidJwt, verify_jwt
from idp.models import Account, BrowserSession, Client, Interaction
from idp.oauth.context import OperationContext
from idp.oauth.requests import GatewayOAuth2Request, ProtocolRequest
from idp.oauth.server import (
    RESPONSE_TYPES,
    GatewayAuthorizationServer,
    build_server,
    catalogue_error,
)
from idp.opaque_values import new_opaque_value
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
    ACCESS_DENIED,
    ASSURANCE_NOT_AVAILABLE,
    AUTHORIZATION_REQUEST_NOT_VALID,
    CLIENT_NO_LONGER_REGISTERED,
    CLIENT_NOT_REGISTERED,
    CONSENT_REQUIRED,
    ID_TOKEN_HINT_NOT_VALID,
    INVALID_REQUEST,
    LOGIN_REQUIRED,
    REDIRECT_URI_MISSING,
    REDIRECT_URI_NOT_REGISTERED,
    REQUEST_NOT_SUPPORTED,
    REQUEST_URI_NOT_SUPPORTED,
    UNSUPPORTED_RESPONSE_TYPE,
    ProtocolError,
    repeated_parameter,
    unvalidated_parameter_repeated,
)
from idp.redirect_uris import redirect_uri_is_registered

PASSWORD_ACR = "http://eidas.europa.eu/LoA/low"  # noqa: S105  (an assurance level, not a secret)
PASSWORD_AMR = ("pwd",)


@dataclass(frozen=True)
class RedirectToClient:
    location: str


@dataclass(frozen=True)
class PostToClient:
    """response_mode=form_post (OAuth 2.0 Form Post Response Mode): the code never enters a URL."""

    action: str
    params: list[tuple[str, str]]


@dataclass(frozen=True)
class ErrorPage:
    error: ProtocolError  # a catalogue entry with page text


@dataclass(frozen=True)
class ShowSignIn:
    interaction_handle: str


@dataclass(frozen=True)
class ShowConsent:
    interaction_handle: str


@dataclass(frozen=True)
class ReturnToGateway:
    """A page of the gateway itself (the citizen's account area), after signing in there."""

    path: str


Outcome = RedirectToClient | PostToClient | ErrorPage | ShowSignIn | ShowConsent | ReturnToGateway


@dataclass
class BrowserState:
    """The browser's cookies; `new_binding` is set when a binding cookie must be created."""

    session_secret: str | None
    binding: str | None
    new_binding: str | None = None

    def ensure_binding(self) -> str:
        if self.binding is None:
            self.binding = self.new_binding = new_opaque_value(32)
        return self.binding


@dataclass(frozen=True)
class _Reply:
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


@dataclass
class _CheckedRequest:
    client: Client
    reply: _Reply
    params: dict[str, str]
    pairs: list[tuple[str, str]]
    prompt: frozenset[str] = frozenset()
    max_age: timedelta | None = None
    claims_request: ClaimsRequest | None = None
    oauth_request: GatewayOAuth2Request | None = None
    server: GatewayAuthorizationServer | None = None
    grant: Any = None
    scopes: list[str] = field(default_factory=list)


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
        checked = _check_client_and_redirect_uri(ctx, request)
        _check_parameters(checked)
        _check_with_authlib(ctx, checked, request)
        return _continue(ctx, checked, browser, interaction, consented_here)
    except _Refusal as refusal:
        _finish(ctx, interaction)
        return refusal.outcome


def _check_client_and_redirect_uri(
    ctx: OperationContext, request: ProtocolRequest
) -> _CheckedRequest:
    """Until these pass, every failure is an error page, never a redirect."""
    pairs = request.query if request.method == "GET" else request.form
    params: dict[str, str] = {}
    for name, value in pairs:
        params.setdefault(name, value)
    repeated = find_repeated_parameter(pairs)
    if repeated in ("client_id", "redirect_uri"):
        raise _Refusal(ErrorPage(unvalidated_parameter_repeated(repeated)))
    client = find_client(ctx.session, params.get("client_id", ""))
    if client is None:
        raise _Refusal(ErrorPage(CLIENT_NOT_REGISTERED))
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise _Refusal(ErrorPage(REDIRECT_URI_MISSING))
    if not redirect_uri_is_registered(client, redirect_uri):
        raise _Refusal(ErrorPage(REDIRECT_URI_NOT_REGISTERED))
    state = params.get("state")
    try:
        mode = parse_response_mode(params.get("response_mode"))
    except InvalidAuthorizationParameter as error:
        reply = _Reply(redirect_uri, "query", state, ctx.settings.issuer)
        raise _Refusal(reply.error(INVALID_REQUEST.described(str(error)))) from error
    reply = _Reply(redirect_uri, mode, state, ctx.settings.issuer)
    return _CheckedRequest(client=client, reply=reply, params=params, pairs=list(pairs))


def _check_parameters(checked: _CheckedRequest) -> None:
    params, reply = checked.params, checked.reply
    repeated = find_repeated_parameter(checked.pairs)
    if repeated:
        raise _Refusal(reply.error(repeated_parameter(repeated)))
    if "request" in params:
        raise _Refusal(reply.error(REQUEST_NOT_SUPPORTED))
    if "request_uri" in params:
        raise _Refusal(reply.error(REQUEST_URI_NOT_SUPPORTED))
    try:
        check_parameter_lengths(checked.pairs)
        checked.prompt = parse_prompt(params.get("prompt"))
        checked.max_age = parse_max_age(params.get("max_age"))
        checked.claims_request = parse_claims_request(params.get("claims"))
    except (InvalidAuthorizationParameter, InvalidClaimsRequest) as error:
        raise _Refusal(reply.error(INVALID_REQUEST.described(str(error)))) from error


def _check_with_authlib(
    ctx: OperationContext, checked: _CheckedRequest, request: ProtocolRequest
) -> None:
    """Authlib's grant checks: response_type, scope, PKCE (S256 only), nonce."""
    assert checked.claims_request is not None
    oauth_request = GatewayOAuth2Request(request)
    oauth_request.operation_context = ctx
    oauth_request.claims_request = checked.claims_request
    server = build_server(ctx)
    if oauth_request.payload.response_type not in RESPONSE_TYPES:
        # Refused here with a fixed text: Authlib puts the value in its error_description and
        # then raises ValueError when the value holds a character RFC 6749 4.1.2.1 forbids there.
        raise _Refusal(checked.reply.error(UNSUPPORTED_RESPONSE_TYPE))
    try:
        checked.grant = server.get_consent_grant(oauth_request, end_user=None)
    except OAuth2Error as error:
        if error.redirect_uri:
            raise _Refusal(checked.reply.error(catalogue_error(error))) from error
        detail = error.description or error.error
        raise _Refusal(ErrorPage(AUTHORIZATION_REQUEST_NOT_VALID.because(detail))) from error
    # Claims asked for one by one need their scope's consent too (only allowed scopes count).
    extra = scopes_needed_for_claims(checked.claims_request) & set(checked.client.scopes)
    checked.scopes = list(dict.fromkeys([*oauth_request.scope.split(), *sorted(extra)]))
    oauth_request.scope = " ".join(checked.scopes)
    checked.oauth_request, checked.server = oauth_request, server


def _continue(
    ctx: OperationContext,
    checked: _CheckedRequest,
    browser: BrowserState,
    interaction: Interaction | None,
    consented_here: bool,
) -> Outcome:
    hinted_subject = None
    if checked.params.get("id_token_hint"):
        hinted_subject = _subject_from_id_token_hint(ctx, checked.params["id_token_hint"])
        if hinted_subject is None:
            raise _Refusal(checked.reply.error(ID_TOKEN_HINT_NOT_VALID))
    browser_session = find_browser_session(
        ctx.session,
        browser.session_secret,
        now=ctx.now,
        idle_lifetime=ctx.settings.session_idle_lifetime,
    )
    account = (
        get_active_account(ctx.session, browser_session.account_id) if (browser_session) else None
    )
    granted = (
        ctx.provider.consent.granted_scopes(
            ctx.session,
            account_id=account.id,
            client_id=checked.client.client_id,
        )
        if account
        else frozenset()
    )
    step = decide_next_step(
        request=RequestFacts(
            prompt=checked.prompt,
            max_age=checked.max_age,
            hinted_subject=hinted_subject,
            requested_scopes=frozenset(checked.scopes),
            consent_needed_by_client=True,
        ),
        session=SessionFacts(account.subject, browser_session.auth_time)
        if account and browser_session
        else None,
        granted_scopes=granted,
        interaction=InteractionFacts(
            signed_in_here=bool(
                interaction
                and browser_session
                and interaction.authenticated_session_id == browser_session.id
            ),
            consented_here=consented_here,
        ),
        now=ctx.now,
    )
    if step is NextStep.LOGIN_REQUIRED:
        raise _Refusal(checked.reply.error(LOGIN_REQUIRED))
    if step is NextStep.CONSENT_REQUIRED:
        raise _Refusal(checked.reply.error(CONSENT_REQUIRED))
    if step in (NextStep.SIGN_IN, NextStep.CONSENT):
        interaction = interaction or start_interaction(
            ctx.session,
            client_id=checked.client.client_id,
            parameters=checked.pairs,
            browser_binding=browser.ensure_binding(),
            now=ctx.now,
            lifetime=ctx.settings.interaction_lifetime,
        )
        return (ShowSignIn if step is NextStep.SIGN_IN else ShowConsent)(interaction.handle)
    assert account is not None
    assert browser_session is not None
    assert checked.claims_request is not None
    if not _acr_satisfied(checked.claims_request.essential("acr"), browser_session):
        raise _Refusal(checked.reply.error(ASSURANCE_NOT_AVAILABLE))
    _finish(ctx, interaction)
    return _issue_code(checked, account, browser_session)


def _issue_code(
    checked: _CheckedRequest, account: Account, browser_session: BrowserSession
) -> RedirectToClient | PostToClient:
    assert checked.server is not None
    assert checked.oauth_request is not None
    checked.oauth_request.browser_session = browser_session
    response = checked.server.create_authorization_response(
        checked.oauth_request, grant_user=account, grant=checked.grant
    )
    location = response.location or ""
    reply = checked.reply
    if reply.response_mode == "form_post":
        # The code and state were appended after the redirect URI's own query; send only those.
        own = len(parse_qsl(urlsplit(reply.redirect_uri).query, keep_blank_values=True))
        added = parse_qsl(urlsplit(location).query, keep_blank_values=True)[own:]
        return PostToClient(action=reply.redirect_uri, params=added)
    return RedirectToClient(location=location)


def _acr_satisfied(essential: object, browser_session: BrowserSession) -> bool:
    if not isinstance(essential, dict):
        return True
    wanted = essential.get("values") or ([essential["value"]] if "value" in essential else [])
    return not wanted or browser_session.acr in wanted


def _finish(ctx: OperationContext, interaction: Interaction | None) -> None:
    if interaction is not None:
        interaction.completed_at = ctx.now


def _subject_from_id_token_hint(ctx: OperationContext, hint: str) -> str | None:
    """The `sub` of an ID token we issued (it may have expired: OIDC Core 3.1.2.1)."""
    try:
        verified = verify_jwt(
            hint,
            keys=ctx.provider.keyring.verification_keys(),
            algorithms=["RS256", "ES256"],
            typ="JWT",
        )
    except InvalidJwt:
        return None
    if verified.claims.get("iss") != ctx.settings.issuer:
        return None
    subject = verified.claims.get("sub")
    return subject if isinstance(subject, str) else None


def resume_authorization(
    ctx: OperationContext,
    interaction: Interaction,
    browser: BrowserState,
    *,
    consented_here: bool = False,
) -> Outcome:
    """Continue a request after the sign-in or consent page."""
    request = _stored_request(ctx, interaction)
    return handle_authorization_request(
        ctx, request, browser, interaction=interaction, consented_here=consented_here
    )


def deny_authorization(ctx: OperationContext, interaction: Interaction) -> Outcome:
    """The citizen pressed Cancel or Deny: `access_denied` to the validated redirect URI."""
    params = dict(interaction_parameters(interaction))
    client: Client | None = find_client(ctx.session, params.get("client_id", ""))
    redirect_uri = params.get("redirect_uri", "")
    _finish(ctx, interaction)
    if client is None or not redirect_uri_is_registered(client, redirect_uri):
        return ErrorPage(CLIENT_NO_LONGER_REGISTERED)
    try:
        mode = parse_response_mode(params.get("response_mode"))
    except InvalidAuthorizationParameter:
        mode = "query"
    ctx.record(events.authorization_denied(client_id=client.client_id))
    return _Reply(redirect_uri, mode, params.get("state"), ctx.settings.issuer).error(ACCESS_DENIED)


def _stored_request(ctx: OperationContext, interaction: Interaction) -> ProtocolRequest:
    return ProtocolRequest(
        method="GET",
        url=ctx.settings.endpoint("/authorize"),
        query=interaction_parameters(interaction),
    )


def client_of_interaction(ctx: OperationContext, interaction: Interaction) -> Client | None:
    return find_client(ctx.session, interaction.client_id)


def requested_scopes_of_interaction(interaction: Interaction, client: Client) -> list[str]:
    """The scopes the consent page lists: requested, allowed for the client, plus those needed
    for individually requested claims."""
    params = dict(interaction_parameters(interaction))
    requested = [s for s in params.get("scope", "").split() if s in client.scopes]
    try:
        claims_request = parse_claims_request(params.get("claims"))
    except InvalidClaimsRequest:
        claims_request = parse_claims_request(None)
    extra = scopes_needed_for_claims(claims_request) & set(client.scopes)
    return list(dict.fromkeys([*requested, *sorted(extra)]))
