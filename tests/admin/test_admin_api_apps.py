"""Agency apps through the administrators' API, over HTTP on both engines: an operator
registers, edits and rotates the secret with an overlap, and real token requests show both
secrets working during the overlap and only the new one after; every other role and a client
without one is refused with nothing changed; invalid edits are problems, never errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.admin.api_tokens import api_token
from tests.in_process import InProcessGateway
from transparency.checkpoints import CHECKPOINT_ALG
from transparency.sequencer import sequence_everything

API = "/admin/api/v1"
PROBLEM = "application/problem+json"
NEW_APP = {
    "name": "Statistics office",
    "purpose": "Publishes anonymous statistics",
    "redirect_uris": ["https://stats.example/callback"],
    "grant_types": ["authorization_code", "client_credentials"],
    "scopes": ["openid", "profile"],
    "backchannel_logout_uri": "https://api.stats.example/oidc/logout?tenant=7",
    "frontchannel_logout_uri": "https://stats.example/signed-out",
}


@pytest.fixture
def operator(in_process_gateway: InProcessGateway) -> str:
    """A fresh token each test: tests move the clock past token lifetimes."""
    return api_token(in_process_gateway, "admin:operate", name="Operations desk")


def _call(
    gateway: InProcessGateway, token: str, method: str, path: str, body: Any = None
) -> httpx.Response:
    return gateway.http.request(
        method, f"{API}{path}", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def _client_credentials(gateway: InProcessGateway, client_id: str, secret: str) -> httpx.Response:
    return gateway.http.post(
        "/token", auth=(client_id, secret), data={"grant_type": "client_credentials"}
    )


def _events(gateway: InProcessGateway, client_id: str) -> list[dict[str, Any]]:
    web = gateway.app.state.web
    sequence_everything(
        web.database,
        key=lambda: web.provider.keyring.signing_key(CHECKPOINT_ALG),
        verification_keys=web.provider.keyring.historical_keys,
        issuer=gateway.settings.issuer,
        clock=gateway.clock,
    )
    auditor = api_token(gateway, "admin:audit", name="Audit desk")
    answer = _call(gateway, auditor, "GET", f"/events?client_id={client_id}&limit=100")
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_register_edit_and_rotate_with_an_overlap(
    in_process_gateway: InProcessGateway, operator: str
) -> None:
    gateway = in_process_gateway
    registered = _call(gateway, operator, "POST", "/clients", NEW_APP)
    assert registered.status_code == 201, registered.text
    assert registered.headers["cache-control"] == "no-store"
    app = registered.json()
    client_id, first = app["client_id"], app["client_secret"]
    assert app["name"] == "Statistics office" and app["secret_overlap_ends_at"] is None
    assert app["backchannel_logout_uri"] == NEW_APP["backchannel_logout_uri"]
    assert app["frontchannel_logout_uri"] == NEW_APP["frontchannel_logout_uri"]
    assert _client_credentials(gateway, client_id, first).status_code == 200

    edited = _call(
        gateway,
        operator,
        "PATCH",
        f"/clients/{client_id}",
        {
            "name": "Statistics board",
            "redirect_uris": ["https://stats.example/oidc/cb"],
            "backchannel_logout_uri": "https://api.stats.example/logout",
            "frontchannel_logout_uri": None,  # removes it
        },
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["name"] == "Statistics board"
    assert edited.json()["redirect_uris"] == ["https://stats.example/oidc/cb"]
    assert edited.json()["purpose"] == "Publishes anonymous statistics"  # left as it was
    assert edited.json()["backchannel_logout_uri"] == "https://api.stats.example/logout"
    assert edited.json()["frontchannel_logout_uri"] is None

    rotated = _call(
        gateway, operator, "POST", f"/clients/{client_id}/rotate-secret", {"overlap_hours": 2}
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    second, ends_at = rotated.json()["client_secret"], rotated.json()["secret_overlap_ends_at"]
    assert second != first and ends_at is not None
    read = _call(gateway, operator, "GET", f"/clients/{client_id}").json()
    assert read["secret_overlap_ends_at"] == ends_at and "client_secret" not in read

    # During the overlap both secrets get a token.
    gateway.clock.advance(3600)
    assert _client_credentials(gateway, client_id, first).status_code == 200
    assert _client_credentials(gateway, client_id, second).status_code == 200
    # After it only the new one (the cached registration is held to the request's time).
    gateway.clock.advance(3601)
    old = _client_credentials(gateway, client_id, first)
    assert old.status_code == 401 and old.json()["error"] == "invalid_client"
    assert _client_credentials(gateway, client_id, second).status_code == 200
    operator = api_token(
        gateway, "admin:operate", name="Operations desk"
    )  # the first one has expired by now
    after = _call(gateway, operator, "GET", f"/clients/{client_id}").json()
    assert after["secret_overlap_ends_at"] is None

    logged = {(i["type"], i["actor"]["id"]) for i in _events(gateway, client_id)}
    for kind in ("client.registered", "client.updated", "client.secret_rotated"):
        assert (kind, "Operations desk (admin API)") in logged
    assert all(first not in str(i) and second not in str(i) for i in _events(gateway, client_id))


def test_a_rotation_without_overlap_ends_the_old_secret_at_once(
    in_process_gateway: InProcessGateway, operator: str
) -> None:
    gateway = in_process_gateway
    app = _call(gateway, operator, "POST", "/clients", NEW_APP).json()
    answer = _call(
        gateway,
        operator,
        "POST",
        f"/clients/{app['client_id']}/rotate-secret",
        {"overlap_hours": 0},
    )
    assert answer.json()["secret_overlap_ends_at"] is None
    assert _client_credentials(gateway, app["client_id"], app["client_secret"]).status_code == 401
    new = answer.json()["client_secret"]
    assert _client_credentials(gateway, app["client_id"], new).status_code == 200


def test_the_default_overlap_is_the_setting(
    in_process_gateway: InProcessGateway, operator: str
) -> None:
    gateway = in_process_gateway
    app = _call(gateway, operator, "POST", "/clients", NEW_APP).json()
    answer = _call(gateway, operator, "POST", f"/clients/{app['client_id']}/rotate-secret")
    assert answer.status_code == 200, answer.text
    gateway.clock.advance(gateway.settings.client_secret_overlap.total_seconds() - 1)
    assert _client_credentials(gateway, app["client_id"], app["client_secret"]).status_code == 200
    gateway.clock.advance(2)
    assert _client_credentials(gateway, app["client_id"], app["client_secret"]).status_code == 401


def test_the_onboarding_view_has_the_values_and_never_the_secret(
    in_process_gateway: InProcessGateway, operator: str
) -> None:
    gateway = in_process_gateway
    app = _call(gateway, operator, "POST", "/clients", NEW_APP).json()
    view = _call(gateway, operator, "GET", f"/clients/{app['client_id']}/onboarding")
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["discovery_url"] == f"{gateway.settings.issuer}/.well-known/openid-configuration"
    assert body["client_id"] == app["client_id"]
    assert body["redirect_uris"] == NEW_APP["redirect_uris"]
    assert body["backchannel_logout_uri"] == NEW_APP["backchannel_logout_uri"]
    assert body["frontchannel_logout_uri"] == NEW_APP["frontchannel_logout_uri"]
    assert [s["language"] for s in body["snippets"]] == ["javascript", "python", "apache"]
    assert app["client_secret"] not in view.text
    assert gateway.http.get(body["discovery_url"]).status_code == 200


@pytest.mark.parametrize("scope", ["admin:audit", "admin:support", "admin:security", None])
def test_other_roles_and_clients_without_one_are_refused_and_nothing_changes(
    in_process_gateway: InProcessGateway, operator: str, scope: str | None
) -> None:
    gateway = in_process_gateway
    app = _call(gateway, operator, "POST", "/clients", NEW_APP).json()
    client_id = app["client_id"]
    other = api_token(gateway, *([scope] if scope else []), name=f"Desk {scope}")
    for method, path, body in [
        ("POST", "/clients", NEW_APP),
        ("GET", f"/clients/{client_id}", None),
        ("PATCH", f"/clients/{client_id}", {"name": "Taken over"}),
        ("POST", f"/clients/{client_id}/rotate-secret", {"overlap_hours": 0}),
        ("GET", f"/clients/{client_id}/onboarding", None),
        ("POST", f"/clients/{client_id}/disable", None),
    ]:
        answer = _call(gateway, other, method, path, body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["title"] == "Forbidden"
    now = _call(gateway, operator, "GET", f"/clients/{client_id}").json()
    assert now["name"] == NEW_APP["name"] and now["disabled"] is False
    assert _client_credentials(gateway, client_id, app["client_secret"]).status_code == 200
    names = [c["name"] for c in _call(gateway, operator, "GET", "/clients").json()["items"]]
    assert "Taken over" not in names


@pytest.mark.parametrize(
    ("change", "status", "detail"),
    [
        ({"redirect_uris": ["http://stats.example/cb"]}, 422, "https"),
        ({"grant_types": ["password"]}, 422, "unsupported grant type: password"),
        ({"name": "   "}, 422, "name must be 1 to 255 characters"),
        ({"name": ""}, 400, "name"),
        ({"scopes": ["root"]}, 422, "unsupported scope: root"),
        ({"id_token_signed_response_alg": "none"}, 422, "RS256 or ES256"),
        ({"public": True}, 400, "public"),
        ({"redirect_uris": "https://stats.example/cb"}, 400, "redirect_uris"),
    ],
)
def test_invalid_edits_are_problems_and_change_nothing(
    in_process_gateway: InProcessGateway,
    operator: str,
    change: dict[str, Any],
    status: int,
    detail: str,
) -> None:
    gateway = in_process_gateway
    app = _call(gateway, operator, "POST", "/clients", NEW_APP).json()
    answer = _call(gateway, operator, "PATCH", f"/clients/{app['client_id']}", change)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert detail in answer.json()["detail"]
    now = _call(gateway, operator, "GET", f"/clients/{app['client_id']}").json()
    assert {k: now[k] for k in ("name", "redirect_uris", "grant_types")} == {
        k: NEW_APP[k] for k in ("name", "redirect_uris", "grant_types")
    }


def test_invalid_registrations_and_unknown_apps_are_problems(
    in_process_gateway: InProcessGateway, operator: str
) -> None:
    gateway = in_process_gateway
    for body, status, detail in [
        ({**NEW_APP, "redirect_uris": ["https://stats.example/cb#here"]}, 422, "fragment"),
        ({**NEW_APP, "public": True}, 422, "client_credentials"),
        ({**NEW_APP, "grant_types": ["implicit"]}, 422, "implicit"),
        ({"redirect_uris": []}, 400, "name"),
        (
            {**NEW_APP, "backchannel_logout_uri": "http://stats.example/logout"},
            422,
            "backchannel_logout_uri must be an absolute https URI (http only on loopback)",
        ),
        (
            {**NEW_APP, "frontchannel_logout_uri": "https://stats.example/out#now"},
            422,
            "frontchannel_logout_uri must not have a fragment",
        ),
        (
            {**NEW_APP, "backchannel_logout_uri": "/oidc/logout"},
            422,
            "backchannel_logout_uri must be an absolute https URI",
        ),
        (
            {**NEW_APP, "frontchannel_logout_uri": "https://elsewhere.example/out"},
            422,
            "frontchannel_logout_uri must have the scheme, host and port of a registered",
        ),
    ]:
        answer = _call(gateway, operator, "POST", "/clients", body)
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == PROBLEM
        assert detail in str(answer.json()["detail"]), answer.text
    for method, path, body in [
        ("GET", "/clients/nobody", None),
        ("PATCH", "/clients/nobody", {"name": "Anyone"}),
        ("POST", "/clients/nobody/rotate-secret", None),
        ("GET", "/clients/nobody/onboarding", None),
    ]:
        answer = _call(gateway, operator, method, path, body)
        assert answer.status_code == 404 and answer.headers["content-type"] == PROBLEM
    public = _call(
        gateway,
        operator,
        "POST",
        "/clients",
        {**NEW_APP, "public": True, "grant_types": ["authorization_code"]},
    )
    assert public.status_code == 201 and public.json()["client_secret"] is None
    rotation = _call(
        gateway, operator, "POST", f"/clients/{public.json()['client_id']}/rotate-secret"
    )
    assert rotation.status_code == 422 and "public" in rotation.json()["detail"]
    too_long = _call(
        gateway,
        operator,
        "POST",
        f"/clients/{public.json()['client_id']}/rotate-secret",
        {"overlap_hours": 169},
    )
    assert too_long.status_code == 400
