"""The logout URIs an app registers (Back-Channel Logout 1.0 section 2.2, Front-Channel Logout
1.0 section 2) are held to the rules of redirect URIs, a query allowed; a front-channel one also
to the scheme, host and port of a redirect URI, since the signed-out page frames it."""

from __future__ import annotations

from typing import Any

import pytest

from idp.clients import InvalidClientData, checked_choices

REDIRECT_URIS = ["https://tax.example/cb", "http://127.0.0.1:8080/cb"]
DEVELOPMENT_ISSUER = "http://localhost:8000"
PRODUCTION_ISSUER = "https://gateway.example"


def _choices(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "issuer": DEVELOPMENT_ISSUER,
        "public": False,
        "name": "Tax office",
        "purpose": None,
        "redirect_uris": REDIRECT_URIS,
        "post_logout_redirect_uris": [],
        "backchannel_logout_uri": None,
        "frontchannel_logout_uri": None,
        "grant_types": ["authorization_code"],
        "scopes": ["openid"],
        "require_pkce": False,
        "id_token_signed_response_alg": "RS256",
        **overrides,
    }
    return checked_choices(**fields)


def test_logout_uris_with_a_query_are_kept_as_given() -> None:
    chosen = _choices(
        backchannel_logout_uri="https://api.tax.example/oidc/logout?tenant=7",
        frontchannel_logout_uri="https://tax.example:443/signed-out?tenant=7",
    )
    assert chosen["backchannel_logout_uri"] == "https://api.tax.example/oidc/logout?tenant=7"
    assert chosen["frontchannel_logout_uri"] == "https://tax.example:443/signed-out?tenant=7"
    loopback = _choices(
        backchannel_logout_uri="http://localhost:9000/logout",
        frontchannel_logout_uri="http://127.0.0.1:8080/logout",
    )
    assert loopback["frontchannel_logout_uri"] == "http://127.0.0.1:8080/logout"
    assert _choices()["backchannel_logout_uri"] is None


@pytest.mark.parametrize("field", ["backchannel_logout_uri", "frontchannel_logout_uri"])
@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://tax.example/logout", "must be an absolute https URI (http only on loopback)"),
        ("https://tax.example/logout#now", "must not have a fragment"),
        ("/logout", "must be an absolute https URI"),
        ("", "must be an absolute https URI"),
        ("https://tax.example:99999/logout", "port"),
        ("https://tax.example/log out", "without spaces"),
    ],
)
def test_unsafe_logout_uris_are_refused_by_name(field: str, uri: str, reason: str) -> None:
    with pytest.raises(InvalidClientData) as refused:
        _choices(**{field: uri})
    assert str(refused.value).startswith(f"{field} ") and reason in str(refused.value)


@pytest.mark.parametrize(
    "uri",
    [
        "https://elsewhere.example/logout",
        "https://tax.example:8443/logout",
        "http://127.0.0.1:9090/logout",
        "http://localhost:8080/logout",
    ],
)
def test_a_front_channel_uri_must_share_the_origin_of_a_redirect_uri(uri: str) -> None:
    with pytest.raises(InvalidClientData, match="scheme, host and port of a registered redirect"):
        _choices(frontchannel_logout_uri=uri)
    elsewhere = uri.replace("http:", "https:")
    assert _choices(backchannel_logout_uri=elsewhere)["backchannel_logout_uri"] == elsewhere


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:9000/logout",
        "https://localhost/logout",
        "http://127.0.0.1:8080/logout",
        "https://127.0.0.2/logout",
        "http://[::1]:8080/logout",
    ],
)
def test_a_gateway_off_loopback_posts_no_logout_token_to_loopback(uri: str) -> None:
    with pytest.raises(InvalidClientData, match="must not be on loopback unless the gateway is"):
        _choices(issuer=PRODUCTION_ISSUER, backchannel_logout_uri=uri)
    assert _choices(backchannel_logout_uri=uri)["backchannel_logout_uri"] == uri
    # The citizen's browser may still be sent to a loopback redirect URI (a native app's).
    chosen = _choices(
        issuer=PRODUCTION_ISSUER, backchannel_logout_uri="https://api.tax.example/logout"
    )
    assert chosen["redirect_uris"] == REDIRECT_URIS
