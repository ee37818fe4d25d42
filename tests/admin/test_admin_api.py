"""The administrators' API over HTTP: client-credentials tokens whose scopes name the roles,
the access log filtered and paged newest first, one entry with a proof anyone can check
(PyJWT for the checkpoint's signature), refusals as problem+json, and every read logged."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import jwt
import pytest

from idp.clients import InvalidClientData
from idp.web.spreadsheets import spreadsheet_safe
from tests.admin.api_tokens import api_token
from tests.builders import register_app
from tests.conftest import add_citizen, signed_in_tokens
from tests.in_process import InProcessGateway
from transparency.checkpoints import CHECKPOINT_ALG, from_b64url
from transparency.merkle import verify_inclusion
from transparency.sequencer import sequence_everything

API = "/admin/api/v1"


def _sequence(gateway: InProcessGateway) -> None:
    web = gateway.app.state.web
    sequence_everything(
        web.database,
        key=lambda: web.provider.keyring.signing_key(CHECKPOINT_ALG),
        verification_keys=web.provider.keyring.historical_keys,
        issuer=gateway.settings.issuer,
        clock=gateway.clock,
    )


def _get(gateway: InProcessGateway, token: str | None, path: str, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return gateway.http.get(f"{API}{path}", params=params, headers=headers)


@pytest.fixture(scope="module")
def activity(in_process_gateway: InProcessGateway) -> dict[str, Any]:
    """Two citizens signed in at an agency app, all of it sequenced and checkpointed."""
    gateway = in_process_gateway
    app = register_app(gateway, name="Tax office")
    people = [add_citizen(gateway), add_citizen(gateway)]
    for person in people:
        signed_in_tokens(gateway, gateway.browser(), app, person)
    _sequence(gateway)
    return {"app": app, "people": people, "auditor": api_token(gateway, "admin:audit")}


def test_an_auditor_filters_the_log_by_citizen_newest_first(
    in_process_gateway: InProcessGateway, activity: dict[str, Any]
) -> None:
    person = activity["people"][0]
    page = _get(in_process_gateway, activity["auditor"], "/events", subject=person.subject)
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert items and all(item["subject"] == person.subject for item in items)
    assert {"sign_in.succeeded", "token.issued", "consent.given"} <= {i["type"] for i in items}
    indexes = [item["index"] for item in items]
    assert indexes == sorted(indexes, reverse=True)
    for key in ("time", "outcome", "actor", "client_id", "detail"):
        assert key in items[0]


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        ({"type": "token.issued"}, lambda i: i["type"] == "token.issued"),
        ({"outcome": "success"}, lambda i: i["outcome"] == "success"),
        ({"source": "127.0.0.1"}, lambda i: i["source"] == "127.0.0.1"),
    ],
)
def test_each_filter_keeps_only_what_matches(
    in_process_gateway: InProcessGateway,
    activity: dict[str, Any],
    filters: dict[str, str],
    check: Any,
) -> None:
    items = _get(in_process_gateway, activity["auditor"], "/events", **filters).json()["items"]
    assert items and all(check(item) for item in items)


def test_by_agency_and_time_range(
    in_process_gateway: InProcessGateway, activity: dict[str, Any]
) -> None:
    gateway, app = in_process_gateway, activity["app"]
    everything = _get(gateway, activity["auditor"], "/events", client_id=app.client_id, limit=500)
    items = everything.json()["items"]
    assert items and all(item["client_id"] == app.client_id for item in items)
    times = sorted(item["time"] for item in items)
    later = _get(gateway, activity["auditor"], "/events", client_id=app.client_id, since=times[-1])
    assert all(item["time"] >= times[-1] for item in later.json()["items"])
    before = _get(gateway, activity["auditor"], "/events", client_id=app.client_id, until=times[0])
    assert before.json()["items"] == []


def test_pages_follow_the_cursor_without_gaps_or_repeats(
    in_process_gateway: InProcessGateway, activity: dict[str, Any]
) -> None:
    gateway, token = in_process_gateway, activity["auditor"]
    whole = [i["index"] for i in _get(gateway, token, "/events", limit=500).json()["items"]]
    paged: list[int] = []
    cursor: str | None = None
    for _ in range(len(whole)):
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = _get(gateway, token, "/events", **params).json()
        paged += [item["index"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # The reads are entries too, and the gateway's sequencer may place them while the test pages:
    # newer entries may appear above the first page, but the walk down must hit every index once.
    assert len(whole) > 3 and whole == list(range(whole[0], -1, -1))
    assert paged == list(range(paged[0], -1, -1)) and paged[0] >= whole[0]


def test_one_entry_comes_with_a_proof_anyone_can_check(
    in_process_gateway: InProcessGateway, activity: dict[str, Any]
) -> None:
    gateway = in_process_gateway
    newest = _get(gateway, activity["auditor"], "/events", limit=1).json()["items"][0]
    _sequence(gateway)  # a checkpoint that covers it
    answer = _get(gateway, activity["auditor"], f"/events/{newest['index']}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["item"] == newest
    proof = body["proof"]
    keys = jwt.PyJWKSet.from_dict(gateway.http.get("/transparency/jwks.json").json())
    header = jwt.get_unverified_header(proof["checkpoint"])
    key = next(k for k in keys.keys if k.key_id == header["kid"])
    claims = jwt.decode(proof["checkpoint"], key=key, algorithms=[header["alg"]])
    assert claims["tree_size"] == proof["tree_size"] > newest["index"]
    assert verify_inclusion(
        from_b64url(proof["leaf_hash"]),
        newest["index"],
        proof["tree_size"],
        [from_b64url(h) for h in proof["audit_path"]],
        from_b64url(claims["root_hash"]),
    )
    missing = _get(gateway, activity["auditor"], "/events/999999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_every_read_is_itself_logged_with_whose_data(
    in_process_gateway: InProcessGateway, activity: dict[str, Any]
) -> None:
    gateway, token = in_process_gateway, activity["auditor"]
    person = activity["people"][1]
    _get(gateway, token, "/events", subject=person.subject, type="token.issued")
    _sequence(gateway)
    searched = _get(gateway, token, "/events", type="access_log.searched", limit=5).json()
    mine = [i for i in searched["items"] if i["subject"] == person.subject]
    assert mine and mine[0]["detail"]["filters"] == {"type": "token.issued"}
    assert mine[0]["actor"]["type"] == "client"
    entry = next(
        i
        for i in _get(gateway, token, "/events", subject=person.subject).json()["items"]
        if i["type"] == "sign_in.succeeded"
    )
    _get(gateway, token, f"/events/{entry['index']}")
    _sequence(gateway)
    reads = _get(gateway, token, "/events", type="access_log.entry_read", limit=5).json()["items"]
    assert reads[0]["detail"] == {"log_index": entry["index"]}
    assert reads[0]["subject"] == person.subject


@pytest.mark.parametrize("scopes", [(), ("admin:operate",), ("admin:support", "admin:security")])
def test_clients_without_the_auditor_role_are_forbidden(
    in_process_gateway: InProcessGateway, scopes: tuple[str, ...]
) -> None:
    answer = _get(in_process_gateway, api_token(in_process_gateway, *scopes), "/events")
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 403
    assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]


def test_no_token_a_forged_one_or_a_citizens_one_is_unauthorized(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    citizen_token = signed_in_tokens(
        gateway, gateway.browser(), register_app(gateway), add_citizen(gateway)
    )["access_token"]
    for token in (None, "not-a-token", citizen_token):
        answer = _get(gateway, token, "/events")
        assert answer.status_code == 401, token
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_bad_parameters_are_a_problem_not_an_error(
    in_process_gateway: InProcessGateway, activity: dict[str, Any]
) -> None:
    for params in ({"limit": 0}, {"limit": 501}, {"cursor": "-1"}, {"since": "yesterday"}):
        answer = _get(in_process_gateway, activity["auditor"], "/events", **params)
        assert answer.status_code == 400, (params, answer.text)
        assert answer.json()["title"] == "Bad Request"


def test_admin_scopes_are_for_client_credentials_alone(
    in_process_gateway: InProcessGateway,
) -> None:
    with pytest.raises(InvalidClientData, match="client_credentials"):
        register_app(in_process_gateway, "--scope", "openid", "--scope", "admin:audit")


def test_the_api_describes_itself(in_process_gateway: InProcessGateway) -> None:
    document = in_process_gateway.http.get(f"{API}/openapi.json").json()
    assert {"/events", "/events/{index}"} <= set(document["paths"])
    assert "admin:audit" not in in_process_gateway.metadata()["scopes_supported"]


@pytest.mark.parametrize("format", ["csv", "json"])
def test_an_export_of_the_filtered_view_holds_every_match_and_is_logged(
    in_process_gateway: InProcessGateway, activity: dict[str, Any], format: str
) -> None:
    gateway, token, app = in_process_gateway, activity["auditor"], activity["app"]
    listed = _get(gateway, token, "/events", client_id=app.client_id, limit=500).json()["items"]
    answer = _get(gateway, token, "/events/export", client_id=app.client_id, format=format)
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    if format == "csv":
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert [int(r["index"]) for r in rows] == [i["index"] for i in listed]
        assert all(r["client_id"] == app.client_id for r in rows)
        assert json.loads(rows[0]["detail"]) == listed[0]["detail"]
    else:
        exported = answer.json()
        assert [e["index"] for e in exported] == [i["index"] for i in listed]
    _sequence(gateway)
    logged = _get(gateway, token, "/events", type="access_log.review_exported", limit=1).json()
    assert logged["items"][0]["detail"] == {
        "filters": {"client_id": app.client_id},
        "format": format,
    }
    assert _get(gateway, None, "/events/export").status_code == 401


def test_exported_cells_never_run_as_spreadsheet_formulas() -> None:
    assert spreadsheet_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert spreadsheet_safe("-1") == "'-1"
    assert spreadsheet_safe("plain") == "plain" and spreadsheet_safe(None) == ""


def test_the_citizen_sees_who_looked_at_their_information(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    person, browser = add_citizen(gateway), gateway.browser()
    signed_in_tokens(gateway, browser, register_app(gateway, name="Land registry"), person)
    _sequence(gateway)
    untouched = browser.http.get(f"{gateway.issuer}/account")
    assert "No administrator has looked at your information." in untouched.text
    token = api_token(gateway, "admin:audit", name="Audit tool")
    assert _get(gateway, token, "/events", subject=person.subject).status_code == 200
    _get(gateway, token, "/events", type="token.issued")  # about no one in particular
    _sequence(gateway)
    page = browser.http.get(f"{gateway.issuer}/account")
    looks = page.text[page.text.index('id="who-looked"') :]
    assert "Audit tool (an administrators' tool)" in looks
    assert "The record of your sign-ins and of who received your information" in looks
    assert looks.count("<tr><td>") == 1  # the search about someone else is not shown


def test_support_finds_a_citizen_and_opens_the_record_with_a_reason_the_citizen_sees(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    person, browser = (
        add_citizen(gateway, given_name="Kadri", family_name="Tamm"),
        gateway.browser(),
    )
    signed_in_tokens(gateway, browser, register_app(gateway), person)
    support = api_token(gateway, "admin:support", name="Helpdesk")
    found = _get(gateway, support, "/accounts", q="tamm").json()["items"]
    assert person.username in {a["username"] for a in found}
    assert _get(gateway, support, "/accounts", q=person.username[:6]).json()["items"]
    auditor = api_token(gateway, "admin:audit")
    assert _get(gateway, auditor, "/accounts", q="tamm").status_code == 403  # least privilege
    path = f"/accounts/{person.username}"
    assert _get(gateway, support, path).status_code == 422  # no reason, no record
    assert _get(gateway, support, path, reason="x").status_code == 422
    why = "The citizen called the helpdesk about a locked account"
    record = _get(gateway, support, path, reason=why)
    assert record.status_code == 200, record.text
    assert record.json()["subject"] == person.subject and record.json()["given_name"] == "Kadri"
    missing = _get(gateway, support, "/accounts/no-such-person", reason=why)
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found"
    _sequence(gateway)
    reads = _get(gateway, auditor, "/events", subject=person.subject, type="account.read")
    read = reads.json()["items"][0]
    assert read["detail"]["reason"] == why and "given_name" in read["detail"]["fields"]
    assert read["actor"] == {"type": "admin", "id": "Helpdesk (admin API)"}
    page = browser.http.get(f"{gateway.issuer}/account").text
    assert f"Reason given: {why}" in page and "Your account details" in page


def test_an_account_search_is_no_wildcard(in_process_gateway: InProcessGateway) -> None:
    gateway = in_process_gateway
    add_citizen(gateway, given_name="Anna")
    support = api_token(gateway, "admin:support")
    assert _get(gateway, support, "/accounts", q="%%").json()["items"] == []
    assert _get(gateway, support, "/accounts", q="__").json()["items"] == []


def _post(gateway: InProcessGateway, token: str | None, path: str, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return gateway.http.post(f"{API}{path}", params=params, headers=headers)


def test_an_operator_disables_and_enables_an_agency_app(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    operator = api_token(gateway, "admin:operate", name="Operations desk")
    app = register_app(gateway, "--grant-type", "client_credentials", name="Statistics office")

    def app_gets_a_token() -> bool:
        answer = gateway.http.post(
            "/token",
            auth=(app.client_id, app.client_secret or ""),
            data={"grant_type": "client_credentials"},
        )
        return answer.status_code == 200

    listed = _get(gateway, operator, "/clients").json()["items"]
    assert app.client_id in {c["client_id"] for c in listed}
    assert all("client_secret" not in c for c in listed)
    assert _get(gateway, api_token(gateway, "admin:audit"), "/clients").status_code == 403
    disabled = _post(gateway, operator, f"/clients/{app.client_id}/disable")
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    gateway.clock.advance(gateway.settings.client_cache_lifetime.total_seconds() + 1)
    assert not app_gets_a_token()
    assert _post(gateway, operator, f"/clients/{app.client_id}/enable").json()["disabled"] is False
    gateway.clock.advance(gateway.settings.client_cache_lifetime.total_seconds() + 1)
    assert app_gets_a_token()
    assert _post(gateway, operator, "/clients/nobody/disable").status_code == 404
    _sequence(gateway)
    changes = _get(gateway, api_token(gateway, "admin:audit"), "/events", client_id=app.client_id)
    kinds = [(i["type"], i["actor"]["id"]) for i in changes.json()["items"]]
    assert ("client.disabled", "Operations desk (admin API)") in kinds
    assert ("client.enabled", "Operations desk (admin API)") in kinds


def test_an_operator_lists_and_rotates_the_signing_keys(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    operator = api_token(gateway, "admin:operate")
    before = _get(gateway, operator, "/keys").json()["items"]
    assert {k["state"] for k in before} >= {"active"}
    after = _post(gateway, operator, "/keys/rotate").json()["items"]
    added = [k for k in after if k["kid"] not in {b["kid"] for b in before}]
    assert {k["alg"] for k in added} == {"RS256", "ES256"}
    assert {k["state"] for k in added} == {"next"}  # published before they sign
    assert _post(gateway, api_token(gateway, "admin:support"), "/keys/rotate").status_code == 403


def test_the_security_officer_grants_and_revokes_roles(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    security = api_token(gateway, "admin:security", name="Security office")
    person = add_citizen(gateway)
    change = {"username": person.username, "roles": ["auditor", "operator"]}
    granted = gateway.http.post(
        f"{API}/roles/grant", json=change, headers={"Authorization": f"Bearer {security}"}
    )
    assert granted.status_code == 200 and granted.json()["changed"] == ["auditor", "operator"]
    held = {a["username"]: a["roles"] for a in _get(gateway, security, "/roles").json()["items"]}
    assert held[person.username] == ["auditor", "operator"]
    revoked = gateway.http.post(
        f"{API}/roles/revoke",
        json={"username": person.username, "roles": ["operator", "support"]},
        headers={"Authorization": f"Bearer {security}"},
    )
    assert revoked.json()["changed"] == ["operator"]
    for refused_body in ({"username": person.username, "roles": ["root"]}, {"roles": []}):
        answer = gateway.http.post(
            f"{API}/roles/grant", json=refused_body, headers={"Authorization": f"Bearer {security}"}
        )
        assert answer.status_code == 400
    auditor = api_token(gateway, "admin:audit")
    forbidden = gateway.http.post(
        f"{API}/roles/grant", json=change, headers={"Authorization": f"Bearer {auditor}"}
    )
    assert forbidden.status_code == 403  # an auditor cannot make itself anything else
    _sequence(gateway)
    logged = _get(gateway, auditor, "/events", subject=person.subject).json()["items"]
    kinds = [(i["type"], i["detail"].get("roles"), i["actor"]["id"]) for i in logged]
    assert ("admin_roles.granted", ["auditor", "operator"], "Security office (admin API)") in kinds
    assert ("admin_roles.revoked", ["operator"], "Security office (admin API)") in kinds
