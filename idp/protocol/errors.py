"""The error catalogue: every error the gateway answers, as a named constant with its OAuth or
OpenID error code, its HTTP status, the public text and, for the citizen's pages, the page text.

Public text goes to the client or the browser; private detail (`ProtocolError.detail`, cf.
fosite's hint and debug) goes to the server log only. Errors here are answers, not exceptions
(ADR 0011): a refusal still lets its unit of work commit what it did, such as a replay's
revocation and its access log entry. Renderers: `idp.web.errors` (JSON and pages), and
`ProtocolError.parameters` for error redirects.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from idp.protocol.languages import translatable

# RFC 6749 4.1.2.1 and 5.2: error_description may hold only %x20-21 / %x23-5B / %x5D-7E.
_ALLOWED_RANGES = ((0x20, 0x21), (0x23, 0x5B), (0x5D, 0x7E))


def is_allowed_description(text: str) -> bool:
    return all(any(low <= ord(char) <= high for low, high in _ALLOWED_RANGES) for char in text)


def public_text(text: str) -> str:
    """`text` with every character RFC 6749 forbids in error_description replaced by '?', so a
    value a client sent (a parameter name, say) can never break the rule nor a header."""
    return "".join(char if is_allowed_description(char) else "?" for char in text)


@dataclass(frozen=True)
class CitizenPage:
    """What the citizen's error page says, in plain words and no protocol terms: what happened
    and what to do next. The texts are catalogue messages, translated where the page is shown."""

    title: str
    message: str
    next_step: str = ""


# Which HTTP authentication challenge the answer carries (RFC 6749 5.2, RFC 6750 3).
Challenge = Literal["basic", "bearer"]


@dataclass(frozen=True)
class ProtocolError:
    """One error answer. `code` is None only for RFC 6750 3.1's answer to a request that sent no
    credentials at all (no error code then); `description` None sends no error_description."""

    code: str | None
    status: int
    description: str | None
    page: CitizenPage | None = None
    challenge: Challenge | None = None
    # Private: why it happened, for the server log; never put into any response.
    detail: str | None = None

    def because(self, detail: str) -> ProtocolError:
        """The same answer with private detail for the log."""
        return replace(self, detail=detail)

    def described(self, description: str | None) -> ProtocolError:
        """The same code and status with another public text (one made elsewhere, such as a
        parsing rule's or Authlib's), made safe for error_description."""
        text = public_text(description) if description is not None else None
        return replace(self, description=text)

    def body(self) -> dict[str, str]:
        """The JSON error body (RFC 6749 5.2)."""
        return dict(self.parameters())

    def parameters(self) -> list[tuple[str, str]]:
        """`error` and `error_description`, for a body or an error redirect (RFC 6749 4.1.2.1)."""
        params: list[tuple[str, str]] = []
        if self.code is not None:
            params.append(("error", self.code))
            if self.description:
                params.append(("error_description", self.description))
        return params

    def www_authenticate(self) -> str | None:
        """The challenge RFC 6749 5.2 (Basic, for a client that used the Authorization header)
        or RFC 6750 3 (Bearer, at a protected resource) requires."""
        if self.challenge == "basic":
            return 'Basic realm="token", charset="UTF-8"'
        if self.challenge == "bearer":
            if self.code is None:  # no credentials sent: no error code (RFC 6750 3.1)
                return 'Bearer realm="userinfo"'
            return f'Bearer error="{self.code}", error_description="{self.description}"'
        return None


_START_AGAIN = translatable(
    "Go back to the website of the service you were using and start again from there."
)
_UNREADABLE = CitizenPage(
    title=translatable("This request could not be read"),
    message=translatable("The gateway could not read what your browser sent."),
    next_step=_START_AGAIN,
)


def _link_not_valid(description: str, message: str) -> ProtocolError:
    # Before the client and redirect URI are validated: a page, never a redirect (RFC 6749
    # 4.1.2.1, RFC 9700 4.1.3). `description` is the JSON text, `message` the page's.
    page = CitizenPage(translatable("This sign-in link is not valid"), message, _START_AGAIN)
    return ProtocolError("invalid_request", 400, description, page)


_LINK_NOT_RIGHT = translatable(
    "The service that sent you here made a mistake in the link. It is not something you did."
)

# --- Any endpoint -----------------------------------------------------------------------------

INVALID_REQUEST = ProtocolError("invalid_request", 400, None)
NOT_FOUND = ProtocolError(  # no such path: not an OAuth endpoint at all
    "not_found",
    404,
    None,
    CitizenPage(
        translatable("Page not found"),
        translatable(
            "If you typed the web address, check it is correct. If you pasted it, check you "
            "copied the whole address."
        ),
        translatable("Or start again from the website of the service you were using."),
    ),
)
METHOD_NOT_ALLOWED = ProtocolError(
    "invalid_request",
    405,
    "Method not allowed.",
    CitizenPage(
        translatable("This page cannot be opened like that"),
        translatable("Your browser sent something this address does not accept."),
        _START_AGAIN,
    ),
)
NUL_IN_PARAMETER = ProtocolError("invalid_request", 400, "A parameter holds NUL.", _UNREADABLE)
BODY_NOT_A_FORM = ProtocolError(
    "invalid_request", 400, "The body must be application/x-www-form-urlencoded.", _UNREADABLE
)
BODY_TOO_LARGE = ProtocolError(
    "invalid_request", 413, "The request body is too large.", _UNREADABLE
)
PAGE_EXPIRED = ProtocolError(
    "invalid_request",
    400,
    "The page has expired.",
    CitizenPage(
        translatable("This page has expired"),
        translatable(
            "Sign-in pages last a few minutes, and each can be used once. Nothing you typed was "
            "kept."
        ),
        _START_AGAIN,
    ),
)
TEMPORARILY_UNAVAILABLE = ProtocolError(
    "temporarily_unavailable",
    503,
    "The service is temporarily unavailable. Try again later.",
    CitizenPage(
        translatable("Sorry, the service is unavailable"),
        translatable("The gateway cannot answer at the moment. Nothing you did caused this."),
        translatable("Try again in a few minutes."),
    ),
)
SERVER_ERROR = ProtocolError("server_error", 500, "Something went wrong.")


def server_error(correlation: str) -> ProtocolError:
    """`server_error` naming the request, so the log entry with the detail can be found."""
    return SERVER_ERROR.described(f"Something went wrong. Reference {correlation}.")


def repeated_parameter(name: str) -> ProtocolError:
    return INVALID_REQUEST.described(f"The parameter '{name}' is repeated.")


# --- Token, introspection and revocation endpoints ------------------------------------------

PARAMETERS_IN_QUERY = ProtocolError("invalid_request", 400, "Parameters must be sent in the body.")
# One answer for every client authentication failure, so it never tells whether a client_id
# exists (RFC 6749 10.12); why it failed is private detail.
INVALID_CLIENT = ProtocolError(
    "invalid_client", 401, "Client authentication failed.", challenge="basic"
)
# A client that authenticated in the body gets 400 and no challenge: a 401 must carry one (RFC
# 9110 15.5.2), and strict relying parties then report the challenge instead of invalid_client.
INVALID_CLIENT_IN_BODY = ProtocolError("invalid_client", 400, "Client authentication failed.")
CLIENT_AUTHENTICATION_METHODS_MIXED = ProtocolError(
    "invalid_request",
    400,
    "Use one client authentication method, not two.",  # RFC 6749 2.3
)
INVALID_GRANT = ProtocolError("invalid_grant", 400, None)
UNAUTHORIZED_CLIENT = ProtocolError("unauthorized_client", 400, None)
UNSUPPORTED_GRANT_TYPE = ProtocolError("unsupported_grant_type", 400, None)
UNSUPPORTED_TOKEN_TYPE = ProtocolError("unsupported_token_type", 400, None)  # RFC 7009 2.2.1
INVALID_SCOPE = ProtocolError("invalid_scope", 400, None)

# --- Userinfo (a protected resource, RFC 6750) ----------------------------------------------

BEARER_TOKEN_MISSING = ProtocolError(None, 401, None, challenge="bearer")
INVALID_TOKEN = ProtocolError(
    "invalid_token", 401, "The access token is not valid.", challenge="bearer"
)
INSUFFICIENT_SCOPE = ProtocolError(
    "insufficient_scope", 403, "The token lacks the openid scope.", challenge="bearer"
)
ACCESS_TOKEN_IN_QUERY = ProtocolError(
    "invalid_request", 400, "Send the access token in a header or body."
)
ACCESS_TOKEN_SENT_TWICE = ProtocolError("invalid_request", 400, "Send the access token only once.")

# --- Authorization endpoint: pages (nothing validated to redirect to) -----------------------

CLIENT_NOT_REGISTERED = _link_not_valid(
    "The application that sent you here is not registered.",
    translatable("The service that sent you here is not known to the gateway."),
)
CLIENT_NO_LONGER_REGISTERED = _link_not_valid(
    "The application is no longer registered.",
    translatable("The service that sent you here can no longer use the gateway."),
)
REDIRECT_URI_MISSING = _link_not_valid(
    "The request does not say where to send you back.", _LINK_NOT_RIGHT
)
REDIRECT_URI_NOT_REGISTERED = _link_not_valid(
    "The return address is not registered for this application.", _LINK_NOT_RIGHT
)
AUTHORIZATION_REQUEST_NOT_VALID = _link_not_valid("The request is not valid.", _LINK_NOT_RIGHT)


def unvalidated_parameter_repeated(name: str) -> ProtocolError:
    """client_id or redirect_uri repeated: which one counts is unknown, so a page."""
    return _link_not_valid(public_text(f"The request repeats '{name}'."), _LINK_NOT_RIGHT)


# --- Authorization endpoint: error redirects (OIDC Core 3.1.2.6) ----------------------------

REQUEST_NOT_SUPPORTED = ProtocolError(
    "request_not_supported", 400, "Request objects are not supported."
)
REQUEST_URI_NOT_SUPPORTED = ProtocolError(
    "request_uri_not_supported", 400, "request_uri is not supported."
)
UNSUPPORTED_RESPONSE_TYPE = ProtocolError(
    "unsupported_response_type", 400, "Only response_type=code is supported."
)
ID_TOKEN_HINT_NOT_VALID = ProtocolError("invalid_request", 400, "The id_token_hint is not valid.")
LOGIN_REQUIRED = ProtocolError("login_required", 400, "The citizen must sign in.")
CONSENT_REQUIRED = ProtocolError("consent_required", 400, "The citizen must consent.")
# OpenID Connect Core Unmet Authentication Requirements 1.0: the citizen cannot reach the level.
UNMET_AUTHENTICATION_REQUIREMENTS = ProtocolError(
    "unmet_authentication_requirements",
    400,
    "The citizen cannot sign in at the level of assurance the request needs.",
)
# The level needs the citizen's action, and the request said prompt=none (OIDC Core 3.1.2.6).
STEP_UP_NEEDED = ProtocolError(
    "interaction_required", 400, "The citizen must confirm it is them with a stronger method."
)
ACCESS_DENIED = ProtocolError("access_denied", 400, "The citizen declined.")

# --- The end-session endpoint (RP-Initiated Logout 1.0): pages, never a redirect ------------

_SIGN_OUT_STILL_POSSIBLE = translatable(
    "You have not been signed out. To sign out, use the Sign out button at the top of this "
    "page, or close every window of your browser."
)


def _sign_out_link_not_valid(description: str) -> ProtocolError:
    page = CitizenPage(
        translatable("This sign-out link is not valid"), _LINK_NOT_RIGHT, _SIGN_OUT_STILL_POSSIBLE
    )
    return ProtocolError("invalid_request", 400, description, page)


LOGOUT_HINT_NOT_VALID = _sign_out_link_not_valid("The id_token_hint is not valid.")
LOGOUT_CLIENT_NOT_REGISTERED = _sign_out_link_not_valid("The client_id is not registered.")
LOGOUT_CLIENT_NOT_IN_HINT = _sign_out_link_not_valid(
    "The client_id is not an audience of the id_token_hint."
)
LOGOUT_REDIRECT_WITHOUT_CLIENT = _sign_out_link_not_valid(
    "post_logout_redirect_uri needs an id_token_hint or a client_id."
)
LOGOUT_REDIRECT_NOT_REGISTERED = _sign_out_link_not_valid(
    "The post_logout_redirect_uri is not registered for this client."
)
LOGOUT_REQUEST_NOT_VALID = _sign_out_link_not_valid("The request is not valid.")

# --- The access log's public face (transparency) --------------------------------------------

NO_CHECKPOINT = ProtocolError("not_found", 404, "No checkpoint has been published yet.")
INCLUSION_PARAMETERS_MISSING = INVALID_REQUEST.described("leaf_index and tree_size are required.")
INCLUSION_OUT_OF_RANGE = INVALID_REQUEST.described("Need leaf_index < tree_size <= log size.")
CONSISTENCY_PARAMETERS_MISSING = INVALID_REQUEST.described("first and second are required.")
CONSISTENCY_OUT_OF_RANGE = INVALID_REQUEST.described("Need first <= second <= log size.")
