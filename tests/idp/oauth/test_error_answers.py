"""Error answers rendered from the one catalogue (idp.protocol.errors, idp.web.errors): the same
headers on every JSON error, and descriptions within RFC 6749's characters even when they name
something the client sent."""

from __future__ import annotations

from urllib.parse import urlencode

from tests import http_client
from tests.gateway_process import Gateway


def _allowed(text: str) -> bool:  # RFC 6749 5.2, written out here rather than imported
    return all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in text)


def test_every_json_error_is_marked_not_to_be_stored(gateway: Gateway) -> None:
    """404 and 405 (framework handlers) answer like the endpoints' own errors do."""
    answers = [
        http_client.get(f"{gateway.issuer}/.env"),
        http_client.request("TRACE", f"{gateway.issuer}/token"),
        http_client.post(
            f"{gateway.issuer}/token", content=b"x", headers={"content-type": "text/plain"}
        ),
    ]
    for response in answers:
        assert response.status_code in (400, 404, 405), response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-store", response.url
        assert response.headers["pragma"] == "no-cache", response.url
        assert "error" in response.json()


def test_a_repeated_parameter_with_a_forbidden_name_keeps_the_description_legal(
    gateway: Gateway,
) -> None:
    """RFC 6749 5.2: error_description holds only %x20-21 / %x23-5B / %x5D-7E; the name of a
    repeated parameter is the client's text and may hold a quote, a backslash or non-ASCII."""
    name = 'sc"o\\pé'
    response = http_client.post(
        f"{gateway.issuer}/token",
        content=urlencode([(name, "1"), (name, "2"), ("grant_type", "client_credentials")]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert _allowed(body["error_description"]), body
    assert body["error_description"] == "The parameter 'sc?o?p?' is repeated."
