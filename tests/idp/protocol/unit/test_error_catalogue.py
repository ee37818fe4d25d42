"""The error catalogue: only codes the specs define, sane statuses, descriptions within RFC
6749's characters, and private detail that never reaches an answer."""

from __future__ import annotations

import pytest

from idp.protocol import errors
from idp.protocol.errors import (
    BEARER_TOKEN_MISSING,
    INSUFFICIENT_SCOPE,
    INVALID_CLIENT,
    INVALID_CLIENT_IN_BODY,
    INVALID_TOKEN,
    ProtocolError,
    is_allowed_description,
    public_text,
    repeated_parameter,
    server_error,
    unvalidated_parameter_repeated,
)

# RFC 6749 4.1.2.1 (authorization) and 5.2 (token), RFC 6750 3.1 (bearer), RFC 7009 2.2.1
# (revocation), OIDC Core 3.1.2.6 (authentication errors).
SPEC_CODES = {
    "invalid_request",
    "unauthorized_client",
    "access_denied",
    "unsupported_response_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
    "invalid_client",
    "invalid_grant",
    "unsupported_grant_type",
    "invalid_token",
    "insufficient_scope",
    "unsupported_token_type",
    "interaction_required",
    "login_required",
    "account_selection_required",
    "consent_required",
    "invalid_request_uri",
    "invalid_request_object",
    "request_not_supported",
    "request_uri_not_supported",
    "registration_not_supported",
    # OpenID Connect Core Unmet Authentication Requirements 1.0.
    "unmet_authentication_requirements",
}
# Answers of paths that are no OAuth endpoint at all (an unknown path, the access log's
# proofs): no spec names a code for "nothing here".
GATEWAY_CODES = {"not_found"}

CATALOGUE = {
    name: value for name, value in vars(errors).items() if isinstance(value, ProtocolError)
}
SAMPLES = {
    **CATALOGUE,
    "repeated_parameter": repeated_parameter("scope"),
    "unvalidated_parameter_repeated": unvalidated_parameter_repeated("client_id"),
    "server_error": server_error("0f3a"),
}


def test_the_catalogue_is_not_empty() -> None:
    assert len(CATALOGUE) > 30
    assert {"INVALID_CLIENT", "INVALID_GRANT", "TEMPORARILY_UNAVAILABLE", "LOGIN_REQUIRED"} <= set(
        CATALOGUE
    )


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_code_is_one_a_spec_defines(name: str) -> None:
    error = SAMPLES[name]
    assert error is BEARER_TOKEN_MISSING or error.code in SPEC_CODES | GATEWAY_CODES


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_statuses_are_client_or_server_errors_that_fit_the_code(name: str) -> None:
    error = SAMPLES[name]
    assert 400 <= error.status <= 599
    if error.code == "server_error":
        assert error.status == 500
    elif error.code == "temporarily_unavailable":
        assert error.status == 503
    else:
        assert error.status < 500
    if error.status == 401:  # RFC 9110 15.5.2: a 401 carries a challenge
        assert error.www_authenticate() is not None


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_descriptions_hold_only_characters_rfc_6749_allows(name: str) -> None:
    error = SAMPLES[name]
    page = (error.page.title, error.page.message) if error.page else ()
    for text in (error.description, *page):
        if text is not None:
            assert text.strip() == text and text, name
            assert is_allowed_description(text), (name, text)


@pytest.mark.parametrize(
    ("char", "allowed"),
    [
        *[(" ", True), ("!", True), ('"', False), ("#", True), ("[", True), ("\\", False)],
        *[("]", True), ("~", True), ("\x7f", False), ("\x1f", False), ("é", False)],
    ],
)
def test_the_allowed_characters_are_exactly_those_of_rfc_6749(char: str, allowed: bool) -> None:
    assert is_allowed_description(f"a{char}b") is allowed


def test_a_value_a_client_sent_cannot_break_the_rule() -> None:
    """A parameter name is the client's text: a quote, a backslash or non-ASCII in it would make
    the error_description one RFC 6749 forbids (and would break a quoted header value)."""
    error = repeated_parameter('sco"pe\\é')
    assert error.description == "The parameter 'sco?pe??' is repeated."
    assert repeated_parameter("scope").description == "The parameter 'scope' is repeated."
    assert public_text("x\x00y\ny") == "x?y?y"


def test_private_detail_goes_into_no_part_of_an_answer() -> None:
    secret = "client 3f9 sent a wrong secret"
    refused = INVALID_CLIENT.because(secret)
    assert refused.detail == secret
    assert secret not in repr(refused.body()) + repr(refused.parameters())
    assert secret not in (refused.www_authenticate() or "")
    assert refused.body() == INVALID_CLIENT.body()


def test_bodies_and_redirect_parameters() -> None:
    assert INVALID_CLIENT.body() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }
    assert INVALID_CLIENT.www_authenticate() == 'Basic realm="token", charset="UTF-8"'
    assert INVALID_CLIENT_IN_BODY.status == 400
    assert INVALID_CLIENT_IN_BODY.www_authenticate() is None
    assert errors.NOT_FOUND.body() == {"error": "not_found"}
    assert errors.LOGIN_REQUIRED.parameters() == [
        ("error", "login_required"),
        ("error_description", "The citizen must sign in."),
    ]


def test_bearer_challenges_follow_rfc_6750() -> None:
    # No credentials at all: no error code, only the realm (RFC 6750 3.1).
    assert BEARER_TOKEN_MISSING.body() == {}
    assert BEARER_TOKEN_MISSING.www_authenticate() == 'Bearer realm="userinfo"'
    assert INVALID_TOKEN.www_authenticate() == (
        'Bearer error="invalid_token", error_description="The access token is not valid."'
    )
    assert INSUFFICIENT_SCOPE.status == 403


def test_pages_exist_where_a_citizen_can_meet_the_error() -> None:
    for error in (
        errors.TEMPORARILY_UNAVAILABLE,
        errors.NUL_IN_PARAMETER,
        errors.BODY_NOT_A_FORM,
        errors.BODY_TOO_LARGE,
        errors.PAGE_EXPIRED,
        errors.CLIENT_NOT_REGISTERED,
        errors.REDIRECT_URI_NOT_REGISTERED,
        unvalidated_parameter_repeated("redirect_uri"),
    ):
        assert error.page is not None


def test_server_error_names_the_request() -> None:
    assert server_error("0f3a").body() == {
        "error": "server_error",
        "error_description": "Something went wrong. Reference 0f3a.",
    }
