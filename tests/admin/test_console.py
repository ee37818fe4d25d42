"""The administrator console over HTTP: signing in through the gateway itself, each role's pages
and every refusal (403, nothing changed), the session's idle limit and form token, fresh sign-in
for sensitive actions, and the access log review with its proofs, exports and verification."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from markupsafe import escape

from admin.dashboard import AGENCIES_SHOWN, dashboard_of
from admin.roles import Role
from tests.admin.console_visits import add_administrator, sign_in_to_console
from tests.builders import add_citizen, register_app
from tests.conftest import signed_in_tokens
from tests.in_process import InProcessGateway
from transparency.checkpoints import CHECKPOINT_ALG
from transparency.seeding import write_synthetic_entries
from transparency.sequencer import sequence_everything


def _sequence(gateway: InProcessGateway) -> None:
    web = gateway.app.state.web
    sequence_everything(
        web.database,
        key=lambda: web.provider.keyring.signing_key(CHECKPOINT_ALG),
        verification_keys=web.provider.keyring.historical_keys,
        issuer=gateway.settings.issuer,
        clock=gateway.clock,
    )


def test_an_administrator_signs_in_through_the_gateway(
    in_process_gateway: InProcessGateway,
) -> None:
    person = add_administrator(in_process_gateway, Role.AUDITOR)
    _, landed = sign_in_to_console(in_process_gateway, person)
    assert landed.status_code == 200, landed.text
    assert "<h1>Dashboard</h1>" in landed.text and person.username in landed.text
    assert 'href="/admin/log"' in landed.text and 'href="/admin/keys"' not in landed.text
    cookie = landed.request.headers.get("cookie", "")
    assert "idp-admin=" in cookie
    assert "frame-ancestors 'none'" in landed.headers["content-security-policy"]
    assert "script-src 'self'" in landed.headers["content-security-policy"]


def test_the_session_cookie_is_confined_and_strict(in_process_gateway: InProcessGateway) -> None:
    visit, _ = sign_in_to_console(
        in_process_gateway, add_administrator(in_process_gateway, Role.AUDITOR)
    )
    cookies = {c.name: c for c in visit.http.cookies.jar}
    session = cookies["idp-admin"]
    assert session.path == "/admin" and session.expires is None  # ends with the browser
    assert session.has_nonstandard_attr("HttpOnly")
    assert str(session.get_nonstandard_attr("SameSite")).lower() == "strict"
    assert "idp-admin-sign-in" not in cookies  # used once, then cleared


def test_an_account_without_a_role_gets_no_session(in_process_gateway: InProcessGateway) -> None:
    person = add_administrator(in_process_gateway)
    visit, landed = sign_in_to_console(in_process_gateway, person)
    assert landed.status_code == 403
    assert "You are not an administrator" in landed.text
    assert visit.get("/admin/").status_code == 303  # still sent to sign in


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (Role.AUDITOR, ["/admin/log", "/admin/log/verify"], ["/admin/keys", "/admin/roles"]),
        (Role.OPERATOR, ["/admin/keys"], ["/admin/log", "/admin/roles", "/admin/log/verify"]),
        (Role.SECURITY, ["/admin/roles"], ["/admin/log", "/admin/keys"]),
        (Role.SUPPORT, ["/admin/"], ["/admin/log", "/admin/keys", "/admin/roles"]),
    ],
)
def test_each_role_opens_its_pages_only(
    in_process_gateway: InProcessGateway, role: Role, allowed: list[str], refused: list[str]
) -> None:
    visit, _ = sign_in_to_console(in_process_gateway, add_administrator(in_process_gateway, role))
    for path in allowed:
        assert visit.get(path).status_code == 200, path
    for path in refused:
        page = visit.get(path)
        assert page.status_code == 403, path
        assert "You cannot open this page" in page.text and "Nothing was changed" in page.text


def test_a_refused_rotation_changes_nothing(in_process_gateway: InProcessGateway) -> None:
    keyring = in_process_gateway.app.state.web.provider.keyring
    before = [s.record.kid for s in keyring.statuses()]
    visit, _ = sign_in_to_console(
        in_process_gateway, add_administrator(in_process_gateway, Role.AUDITOR)
    )
    answer = visit.post("/admin/keys/rotate", {"emergency": "yes", "confirm": "yes"})
    assert answer.status_code == 403
    assert [s.record.kid for s in keyring.statuses()] == before


def test_forms_need_the_sessions_token(in_process_gateway: InProcessGateway) -> None:
    keyring = in_process_gateway.app.state.web.provider.keyring
    before = [s.record.kid for s in keyring.statuses()]
    visit, _ = sign_in_to_console(
        in_process_gateway, add_administrator(in_process_gateway, Role.OPERATOR)
    )
    forged = visit.http.post("/admin/keys/rotate", data={"form_token": "x" * 64})
    assert forged.status_code == 400 and "Nothing was changed" in forged.text
    assert [s.record.kid for s in keyring.statuses()] == before
    rotated = visit.post("/admin/keys/rotate", {}, token_from="/admin/keys")
    assert (
        rotated.status_code == 303 and rotated.headers["location"] == "/admin/keys?rotated=planned"
    )
    assert len(keyring.statuses()) > len(before)


def test_an_idle_session_ends(in_process_gateway: InProcessGateway) -> None:
    visit, _ = sign_in_to_console(
        in_process_gateway, add_administrator(in_process_gateway, Role.AUDITOR)
    )
    in_process_gateway.clock.advance(14 * 60)
    assert visit.get("/admin/log").status_code == 200
    in_process_gateway.clock.advance(16 * 60)
    ended = visit.get("/admin/log")
    assert ended.status_code == 303 and ended.headers["location"].startswith("/admin/sign-in?")


def test_sensitive_actions_ask_for_a_fresh_sign_in(in_process_gateway: InProcessGateway) -> None:
    keyring = in_process_gateway.app.state.web.provider.keyring
    person = add_administrator(in_process_gateway, Role.OPERATOR)
    visit, _ = sign_in_to_console(in_process_gateway, person)
    assert visit.get("/admin/keys/emergency").status_code == 200
    in_process_gateway.clock.advance(6 * 60)
    stale = visit.get("/admin/keys/emergency")
    assert stale.status_code == 403 and "Confirm it is you" in stale.text
    before = len(keyring.statuses())
    refused = visit.post(
        "/admin/keys/rotate", {"emergency": "yes", "confirm": "yes"}, token_from="/admin/keys"
    )
    assert refused.status_code == 403 and len(keyring.statuses()) == before
    # The link sends max_age: the gateway asks for the password although its session is live.
    again = visit.sign_in_again(stale)
    assert "Emergency key rotation" in again.text, again.text
    unconfirmed = visit.post("/admin/keys/rotate", {"emergency": "yes"}, token_from="/admin/keys")
    assert unconfirmed.status_code == 400 and "There is a problem" in unconfirmed.text
    done = visit.post(
        "/admin/keys/rotate", {"emergency": "yes", "confirm": "yes"}, token_from="/admin/keys"
    )
    assert done.headers["location"] == "/admin/keys?rotated=emergency"
    assert len(keyring.statuses()) > before


def test_a_sign_in_cannot_return_anywhere_else(in_process_gateway: InProcessGateway) -> None:
    person = add_administrator(in_process_gateway, Role.AUDITOR)
    visit, _ = sign_in_to_console(
        in_process_gateway, person, start="/admin/sign-in?next=https://evil.example/"
    )
    assert visit.get("/admin/log").status_code == 200
    browser = in_process_gateway.browser()
    started = browser.http.get("/admin/sign-in", params={"next": "//evil.example/admin"})
    landed = browser.follow_to_client(started, username=person.username, password=person.password)
    assert landed.url.path == "/admin/"


def test_a_callback_without_its_browser_is_refused(in_process_gateway: InProcessGateway) -> None:
    started = in_process_gateway.browser().http.get("/admin/sign-in")
    state = dict(p.split("=", 1) for p in started.headers["location"].split("?", 1)[1].split("&"))[
        "state"
    ]
    other = in_process_gateway.browser()
    answer = other.http.get("/admin/signed-in", params={"state": state, "code": "x"})
    assert answer.status_code == 400 and "This sign-in has expired" in answer.text


def test_security_grants_and_revokes_roles(in_process_gateway: InProcessGateway) -> None:
    target = add_administrator(in_process_gateway)
    visit, _ = sign_in_to_console(
        in_process_gateway, add_administrator(in_process_gateway, Role.SECURITY)
    )
    empty = visit.post(
        "/admin/roles", {"username": "", "action": "grant"}, token_from="/admin/roles"
    )
    assert empty.status_code == 400 and "Enter the administrator" in empty.text
    granted = visit.post(
        "/admin/roles",
        {"username": target.username, "role-auditor": "yes", "action": "grant"},
        token_from="/admin/roles",
    )
    assert granted.status_code == 303
    page = visit.get("/admin/roles")
    assert target.username in page.text
    target_visit, landed = sign_in_to_console(in_process_gateway, target)
    assert landed.status_code == 200 and target_visit.get("/admin/log").status_code == 200
    revoked = visit.post(
        "/admin/roles",
        {"username": target.username, "role-auditor": "yes", "action": "revoke"},
        token_from="/admin/roles",
    )
    assert revoked.status_code == 303
    assert target_visit.get("/admin/log").status_code == 403  # at once, in the live session


@pytest.fixture
def reviewed(in_process_gateway: InProcessGateway) -> dict[str, Any]:
    gateway = in_process_gateway
    app = register_app(gateway, name="Tax office")
    citizen = add_citizen(gateway)
    signed_in_tokens(gateway, gateway.browser(), app, citizen)
    _sequence(gateway)
    auditor = add_administrator(gateway, Role.AUDITOR)
    visit, _ = sign_in_to_console(gateway, auditor)
    return {"app": app, "citizen": citizen, "visit": visit, "auditor": auditor}


def test_an_auditor_filters_by_citizen_and_the_citizen_sees_it(
    in_process_gateway: InProcessGateway, reviewed: dict[str, Any]
) -> None:
    visit, citizen = reviewed["visit"], reviewed["citizen"]
    page = visit.get("/admin/log", citizen=citizen.username)
    assert page.status_code == 200
    assert "token.issued" in page.text and citizen.subject in page.text
    assert page.text.count("<tr>") >= 3
    _sequence(in_process_gateway)
    mine = visit.get("/admin/log", type="access_log.searched")
    assert f"{reviewed['auditor'].username} (console)" in mine.text
    # The citizen's account page names the look.
    browser = in_process_gateway.browser()
    signed_in_tokens(in_process_gateway, browser, reviewed["app"], citizen)
    _sequence(in_process_gateway)
    account = browser.http.get("/account")
    assert f"{reviewed['auditor'].username} (console)" in account.text


def test_the_filter_explains_what_is_wrong(reviewed: dict[str, Any]) -> None:
    page = reviewed["visit"].get("/admin/log", **{"from": "yesterday", "outcome": "maybe"})
    assert page.status_code == 400
    assert "Error:" in page.text.split("</title>")[0] and "There is a problem" in page.text
    assert 'aria-invalid="true" aria-describedby="from-error"' in page.text


def test_by_agency_and_days_newest_first_across_pages(
    in_process_gateway: InProcessGateway, reviewed: dict[str, Any]
) -> None:
    gateway = in_process_gateway
    # A month of synthetic entries over five agencies: pages of one agency over one week.
    write_synthetic_entries(gateway.app.state.web.database, 4000, now=gateway.clock(), seed=7)
    _sequence(gateway)
    first_day = (gateway.clock() - timedelta(days=10)).date().isoformat()
    last_day = (gateway.clock() - timedelta(days=4)).date().isoformat()
    params = {"app": "seed-agency-0000", "from": first_day, "to": last_day}
    first = reviewed["visit"].get("/admin/log", **params)
    assert first.status_code == 200 and 'rel="next"' in first.text
    rows = re.findall(
        r'href="/admin/log/entries/(\d+)">\d+</a></td>\s*<td>([^<]+)</td>', first.text
    )
    indexes = [int(index) for index, _ in rows]
    assert len(indexes) == 50 and indexes == sorted(indexes, reverse=True)
    assert all(first_day <= time[:10] <= last_day for _, time in rows)
    older = re.search(r'href="(/admin/log\?[^"]+)" rel="next"', first.text)
    assert older
    second = reviewed["visit"].get(older.group(1).replace("&amp;", "&"))
    more = [int(i) for i in re.findall(r'href="/admin/log/entries/(\d+)"', second.text)]
    assert more and max(more) < min(indexes)


def test_an_entry_comes_with_its_proof_checked(reviewed: dict[str, Any]) -> None:
    page = reviewed["visit"].get("/admin/log", citizen=reviewed["citizen"].username)
    index = re.search(r'href="/admin/log/entries/(\d+)"', page.text)
    assert index
    entry = reviewed["visit"].get(f"/admin/log/entries/{index.group(1)}")
    assert entry.status_code == 200 and 'id="proof-holds"' in entry.text
    assert reviewed["visit"].get("/admin/log/entries/99999999").status_code == 404
    assert reviewed["visit"].get("/admin/log/entries/abc").status_code == 404


def test_the_filtered_view_exports_as_csv(reviewed: dict[str, Any]) -> None:
    answer = reviewed["visit"].get(
        "/admin/log/export", citizen=reviewed["citizen"].username, format="csv"
    )
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert rows and all(row["subject"] == reviewed["citizen"].subject for row in rows)
    as_json = reviewed["visit"].get(
        "/admin/log/export", app=reviewed["app"].client_id, format="json"
    )
    assert as_json.status_code == 200 and all(
        e["client_id"] == reviewed["app"].client_id for e in as_json.json()
    )


def test_verifying_the_log_shows_its_progress_and_verdict(
    in_process_gateway: InProcessGateway, reviewed: dict[str, Any]
) -> None:
    visit = reviewed["visit"]
    started = visit.post("/admin/log/verify", {}, token_from="/admin/log/verify")
    assert started.status_code == 303
    run_page = started.headers["location"]
    deadline = time.monotonic() + 60
    page = visit.get(run_page)
    while 'data-state="running"' in page.text and time.monotonic() < deadline:
        time.sleep(0.1)  # the verification runs in its own thread
        page = visit.get(run_page)
    assert 'data-state="intact"' in page.text, page.text
    assert "Intact" in page.text
    _sequence(in_process_gateway)
    assert "access_log.verified" in visit.get("/admin/log", type="access_log.verified").text


def test_signing_out_ends_the_console_session(reviewed: dict[str, Any]) -> None:
    visit = reviewed["visit"]
    out = visit.post("/admin/sign-out", {})
    assert out.status_code == 200 and "You have signed out of the console" in out.text
    assert visit.get("/admin/log").status_code == 303


def test_the_dashboard_charts_the_last_two_weeks(
    in_process_gateway: InProcessGateway, reviewed: dict[str, Any]
) -> None:
    page = reviewed["visit"].get("/admin/")
    assert page.status_code == 200
    for chart in (
        "sign-ins-by-agency",
        "failures",
        "consents",
        "tokens-by-agency",
        "sign-in-methods",
    ):
        assert f'id="{chart}-heading"' in page.text, chart
    assert page.text.count('role="img"') == 5
    with in_process_gateway.app.state.web.database.unit_of_work() as session:
        board = dashboard_of(session, now=in_process_gateway.clock())
    # The busiest apps by name (the rest together), in the chart and its table.
    names = [series.name for series in board.sign_ins_by_agency]
    assert names and len(names) <= AGENCIES_SHOWN + 1
    assert all(str(escape(name)) in page.text for name in names)
    total = re.search(r'id="total-sign-ins">(\d+)<', page.text)
    assert total and int(total.group(1)) >= 1
    assert "style=" not in page.text  # the CSP forbids inline styles
