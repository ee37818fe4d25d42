"""The authorization endpoint's refusals (RFC 6749 4.1.2.1, OIDC Core 3.1.2): error pages where the
redirect URI is not trusted, spec-shaped error redirects with state and iss where it is."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from tests.citizen import AppClient, Browser, authorization_params, callback_params, split_verifier
from tests.conftest import CitizenAccount, exchange_code, obtain_code
from tests.gateway_process import Gateway


def _request(app: AppClient, **overrides: str | None) -> dict[str, str]:
    params, _ = split_verifier(authorization_params(app, **overrides))
    return params


def _assert_error_page(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "text/html" in response.headers["content-type"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    "variant",
    [
        "{uri}/",
        "{uri}?foo=bar",
        "{uri}#frag",
        "{upper}",
        "{uri}%2F",
        "{uri}/../callback",
        "https://legit@evil.example/callback",
        "http://{host}/callback",
    ],
)
def test_redirect_uri_variants_get_an_error_page(
    browser: Browser, app_a: AppClient, variant: str
) -> None:
    uri = app_a.redirect_uri
    host = urlsplit(uri).netloc
    candidate = variant.format(uri=uri, upper=uri.replace(host, host.upper()), host=host)
    _assert_error_page(browser.authorize(_request(app_a, redirect_uri=candidate)))


def test_unknown_client_missing_or_foreign_redirect_get_error_pages(
    browser: Browser, app_a: AppClient, app_b: AppClient
) -> None:
    _assert_error_page(browser.authorize(_request(app_a, client_id="no-such-client")))
    _assert_error_page(browser.authorize(_request(app_a, redirect_uri=None)))
    _assert_error_page(browser.authorize(_request(app_a, redirect_uri=app_b.redirect_uri)))


def test_xss_in_parameters_is_not_reflected(browser: Browser) -> None:
    response = browser.authorize(
        {"client_id": "<script>alert(1)</script>", "redirect_uri": '"><svg onload=alert(1)>'}
    )
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.text and "<svg" not in response.text


def test_registered_uri_with_query_keeps_its_query(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    result = obtain_code(browser, app_a, citizen, redirect_uri=app_a.redirect_uris[1])
    assert result.params["tenant"] == "7" and result.params["code"]


def _error_redirect(browser: Browser, app: AppClient, **overrides: str | None) -> dict[str, str]:
    params = _request(app, **overrides)
    response = browser.authorize(params)
    assert response.status_code == 302, response.text[:300]
    assert response.headers["location"].startswith(params.get("redirect_uri", app.redirect_uri))
    return callback_params(response)


def test_response_type_errors_redirect_with_state_and_iss(
    gateway: Gateway, browser: Browser, app_a: AppClient
) -> None:
    for response_type in (None, "token", "id_token token", "code id_token"):
        result = _error_redirect(browser, app_a, response_type=response_type, state="s-1")
        assert result["error"] in ("unsupported_response_type", "invalid_request")
        assert result["state"] == "s-1"
        assert result["iss"] == gateway.issuer
        assert "code" not in result and "access_token" not in result


def test_pkce_rules(browser: Browser, app_a: AppClient, public_app: AppClient) -> None:
    missing = _error_redirect(browser, public_app, code_challenge=None, code_challenge_method=None)
    assert missing["error"] == "invalid_request"
    plain = _error_redirect(browser, app_a, code_challenge="a" * 43, code_challenge_method="plain")
    assert plain["error"] == "invalid_request"
    short = _error_redirect(browser, app_a, code_challenge="short")
    assert short["error"] == "invalid_request"
    no_method = _error_redirect(browser, app_a, code_challenge_method=None)
    assert no_method["error"] == "invalid_request"


def test_prompt_none_without_session_is_login_required(
    gateway: Gateway, browser: Browser, app_a: AppClient
) -> None:
    state = "x" * 64 + "&=?/+%" + "y" * 64
    result = _error_redirect(browser, app_a, prompt="none", state=state)
    assert result == {
        "error": "login_required",
        "error_description": result["error_description"],
        "state": state,
        "iss": gateway.issuer,
    }
    assert not any(c in result["error_description"] for c in "\r\n\t")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("prompt", "none login"),
        ("prompt", "sometimes"),
        ("max_age", "-1"),
        ("max_age", "abc"),
        ("max_age", "99999999999999999999"),
        ("claims", "{not json"),
        ("claims", "[1]"),
    ],
)
def test_malformed_parameters_are_invalid_request(
    browser: Browser, app_a: AppClient, name: str, value: str
) -> None:
    assert _error_redirect(browser, app_a, **{name: value})["error"] == "invalid_request"


def test_request_objects_are_refused_explicitly(browser: Browser, app_a: AppClient) -> None:
    assert (
        _error_redirect(browser, app_a, request="eyJhbGciOiJub25lIn0.e30.")["error"]
        == "request_not_supported"
    )
    assert (
        _error_redirect(browser, app_a, request_uri="http://169.254.169.254/")["error"]
        == "request_uri_not_supported"
    )


def test_repeated_parameters_are_refused(browser: Browser, app_a: AppClient) -> None:
    params = _request(app_a)
    query = "&".join(f"{k}={v}" for k, v in params.items()) + "&scope=openid"
    response = browser.http.get(f"{browser.issuer}/authorize?{query}")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["invalid_request"]
    doubled = "&".join(f"{k}={v}" for k, v in params.items()) + f"&client_id={app_a.client_id}"
    _assert_error_page(browser.http.get(f"{browser.issuer}/authorize?{doubled}"))


def test_unknown_parameters_and_post_requests_work(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    params, _ = split_verifier(
        authorization_params(
            app_a,
            extra="foobar",
            scope="email openid",
            display="popup",
            ui_locales="se",
            claims_locales="se",
            login_hint=citizen.username,
            acr_values="http://eidas.europa.eu/LoA/low",
        )
    )
    response = browser.follow_to_client(
        browser.authorize(params, method="POST"),
        username=citizen.username,
        password=citizen.password,
    )
    result = callback_params(response)
    assert result["state"] == params["state"] and result["code"]


def test_form_post_response_mode_keeps_the_code_out_of_urls(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    params, _ = split_verifier(authorization_params(app_a, response_mode="form_post"))
    response = browser.follow_to_client(
        browser.authorize(params), username=citizen.username, password=citizen.password
    )
    assert response.status_code == 200
    assert "location" not in response.headers
    page = response.text
    assert f'action="{app_a.redirect_uri}"' in page
    assert 'name="code"' in page and 'name="iss"' in page
    assert (
        f"form-action {urlsplit(app_a.redirect_uri).scheme}://"
        in response.headers["content-security-policy"]
    )


def test_code_entropy_and_uniqueness(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    codes = {obtain_code(browser, app_a, citizen).params["code"] for _ in range(5)}
    assert len(codes) == 5
    assert all(len(code) >= 43 for code in codes)  # 256 bits, base64url


def test_request_without_nonce_or_state_succeeds(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    result = obtain_code(browser, app_a, citizen, nonce=None, state=None)
    assert "state" not in result.params
    body = exchange_code(gateway, app_a, result).json()
    assert "nonce" not in jwt.decode(body["id_token"], options={"verify_signature": False})
