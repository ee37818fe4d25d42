"""Agency apps in the console (role operator), over HTTP: registering (the secret shown once),
the onboarding view, editing with errors a person can act on, rotating the secret with an
overlap in which both secrets work, disabling; and every other role refused."""

from __future__ import annotations

import re

import httpx
import pytest

from admin.console_client import CONSOLE_CLIENT_ID
from admin.roles import Role
from tests.admin.console_visits import ConsoleVisit, add_administrator, sign_in_to_console
from tests.in_process import InProcessGateway

MACHINE_APP = {
    "name": "Benefits batch",
    "grant-client_credentials": "yes",
    "scope-openid": "yes",
    "id_token_alg": "RS256",
}


def _token(gateway: InProcessGateway, client_id: str, secret: str) -> httpx.Response:
    return gateway.http.post(
        "/token",
        auth=(client_id, secret),
        data={"grant_type": "client_credentials", "scope": "openid"},
    )


def _register(visit: ConsoleVisit, fields: dict[str, str]) -> tuple[str, str]:
    page = visit.post("/admin/apps", fields, token_from="/admin/apps/new")
    assert page.status_code == 200, page.text
    client_id = re.search(r'id="client-id">([^<]+)<', page.text)
    secret = re.search(r'id="client-secret">([^<]+)<', page.text)
    assert client_id and secret
    return client_id.group(1), secret.group(1)


@pytest.fixture
def operator(in_process_gateway: InProcessGateway) -> ConsoleVisit:
    visit, _ = sign_in_to_console(
        in_process_gateway, add_administrator(in_process_gateway, Role.OPERATOR)
    )
    return visit


def test_an_operator_registers_an_app_and_sees_its_onboarding(
    in_process_gateway: InProcessGateway, operator: ConsoleVisit
) -> None:
    fields = {
        "name": "Tax office",
        "purpose": "To file your tax return",
        "redirect_uris": "https://tax.example/callback\nhttps://tax.example/other",
        "backchannel_logout_uri": " https://api.tax.example/logout?tenant=7 ",
        "frontchannel_logout_uri": "https://tax.example/signed-out",
        "grant-authorization_code": "yes",
        "grant-refresh_token": "yes",
        "scope-openid": "yes",
        "scope-profile": "yes",
        "require_pkce": "yes",
        "id_token_alg": "ES256",
    }
    client_id, secret = _register(operator, fields)
    app = operator.get(f"/admin/apps/{client_id}")
    assert app.status_code == 200
    assert "https://tax.example/callback" in app.text and "ES256" in app.text
    assert 'id="backchannel-logout-uri">https://api.tax.example/logout?tenant=7<' in app.text
    assert 'id="frontchannel-logout-uri">https://tax.example/signed-out<' in app.text
    assert f"{in_process_gateway.issuer}/.well-known/openid-configuration" in app.text
    assert "OIDCProviderMetadataURL" in app.text and "OIDCPKCEMethod S256" in app.text
    assert secret not in app.text  # shown once, at registration, never again
    assert client_id in operator.get("/admin/apps").text


def test_a_rotated_secret_overlaps_then_only_the_new_one_works(
    in_process_gateway: InProcessGateway, operator: ConsoleVisit
) -> None:
    client_id, old = _register(operator, MACHINE_APP)
    assert _token(in_process_gateway, client_id, old).status_code == 200
    rotated = operator.post(
        f"/admin/apps/{client_id}/rotate-secret",
        {"overlap_hours": "1"},
        token_from=f"/admin/apps/{client_id}",
    )
    assert rotated.status_code == 200, rotated.text
    new = re.search(r'id="client-secret">([^<]+)<', rotated.text)
    assert new and new.group(1) != old
    assert "The previous secret keeps working until" in rotated.text
    assert _token(in_process_gateway, client_id, old).status_code == 200
    assert _token(in_process_gateway, client_id, new.group(1)).status_code == 200
    in_process_gateway.clock.advance(3601)
    refused = _token(in_process_gateway, client_id, old)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert _token(in_process_gateway, client_id, new.group(1)).status_code == 200


def test_an_edit_with_a_mistake_says_what_is_wrong_and_changes_nothing(
    in_process_gateway: InProcessGateway, operator: ConsoleVisit
) -> None:
    client_id, _ = _register(
        operator,
        {**MACHINE_APP, "grant-authorization_code": "yes", "redirect_uris": "https://a.example/cb"},
    )
    edit = f"/admin/apps/{client_id}/edit"
    wrong = operator.post(
        edit,
        {
            "name": "Renamed",
            "redirect_uris": "http://a.example/cb",
            "grant-authorization_code": "yes",
            "scope-openid": "yes",
        },
        token_from=edit,
    )
    assert wrong.status_code == 400 and "There is a problem" in wrong.text
    assert "Benefits batch" in operator.get(f"/admin/apps/{client_id}").text
    for logout_uri, message in [
        ("http://a.example/logout", "backchannel_logout_uri must be an absolute https URI"),
        ("https://a.example/logout#x", "backchannel_logout_uri must not have a fragment"),
        ("logout", "backchannel_logout_uri must be an absolute https URI"),
    ]:
        refused = operator.post(
            edit,
            {
                "name": "Renamed",
                "redirect_uris": "https://a.example/cb",
                "backchannel_logout_uri": logout_uri,
                "grant-authorization_code": "yes",
                "scope-openid": "yes",
            },
            token_from=edit,
        )
        assert refused.status_code == 400 and message in refused.text
        assert f'value="{logout_uri}"' in refused.text  # kept in the form, to correct
    saved = operator.post(
        edit,
        {
            "name": "Renamed",
            "redirect_uris": "https://a.example/cb2",
            "backchannel_logout_uri": "https://a.example/logout",
            "frontchannel_logout_uri": "https://a.example/signed-out",
            "grant-authorization_code": "yes",
            "scope-openid": "yes",
        },
        token_from=edit,
    )
    assert saved.status_code == 303
    page = operator.get(saved.headers["location"])
    assert "Renamed" in page.text and "https://a.example/cb2" in page.text
    assert 'id="frontchannel-logout-uri">https://a.example/signed-out<' in page.text
    form = operator.get(edit).text
    assert 'value="https://a.example/logout"' in form  # the edit form shows what is registered
    cleared = operator.post(
        edit,
        {
            "name": "Renamed",
            "redirect_uris": "https://a.example/cb2",
            "backchannel_logout_uri": "https://a.example/logout",
            "frontchannel_logout_uri": "",  # an emptied field removes the URI
            "grant-authorization_code": "yes",
            "scope-openid": "yes",
        },
        token_from=edit,
    )
    assert cleared.status_code == 303
    page = operator.get(cleared.headers["location"])
    assert 'id="frontchannel-logout-uri">\u2013<' in page.text  # an en dash: none
    assert 'id="backchannel-logout-uri">https://a.example/logout<' in page.text


def test_a_disabled_app_gets_no_token(
    in_process_gateway: InProcessGateway, operator: ConsoleVisit
) -> None:
    client_id, secret = _register(operator, MACHINE_APP)
    operator.post(f"/admin/apps/{client_id}/disable", {}, token_from=f"/admin/apps/{client_id}")
    assert _token(in_process_gateway, client_id, secret).status_code == 401
    operator.post(f"/admin/apps/{client_id}/enable", {}, token_from=f"/admin/apps/{client_id}")
    assert _token(in_process_gateway, client_id, secret).status_code == 200


def test_the_consoles_own_registration_cannot_be_disabled(operator: ConsoleVisit) -> None:
    refused = operator.post(
        f"/admin/apps/{CONSOLE_CLIENT_ID}/disable", {}, token_from="/admin/apps"
    )
    assert refused.status_code == 400 and "kept by the gateway" in refused.text
    assert operator.get("/admin/log").status_code == 403  # still signed in, still operator only


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SUPPORT, Role.SECURITY])
def test_other_roles_cannot_touch_apps(in_process_gateway: InProcessGateway, role: Role) -> None:
    visit, _ = sign_in_to_console(in_process_gateway, add_administrator(in_process_gateway, role))
    assert visit.get("/admin/apps").status_code == 403
    attempt = visit.post("/admin/apps", {**MACHINE_APP, "name": f"Tried by {role}"})
    assert attempt.status_code == 403
    operator, _ = sign_in_to_console(
        in_process_gateway, add_administrator(in_process_gateway, Role.OPERATOR)
    )
    assert f"Tried by {role}" not in operator.get("/admin/apps").text  # nothing was registered
