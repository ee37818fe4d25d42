"""Citizen accounts in the console (role support), over HTTP: opening a record asks why, and the
citizen then sees who looked and why; locking, unlocking, an activation code, ending sessions,
the access history; and every other role refused with nothing changed."""

from __future__ import annotations

import re

import httpx
import pytest

from admin.roles import Role
from tests.admin.console_visits import ConsoleVisit, add_administrator, sign_in_to_console
from tests.admin.test_console import _sequence
from tests.builders import CitizenAccount, add_citizen, register_app
from tests.citizen import authorization_params
from tests.conftest import signed_in_tokens
from tests.in_process import InProcessGateway


@pytest.fixture
def support(in_process_gateway: InProcessGateway) -> ConsoleVisit:
    visit, _ = sign_in_to_console(
        in_process_gateway, add_administrator(in_process_gateway, Role.SUPPORT)
    )
    return visit


def _act(
    visit: ConsoleVisit, citizen: CitizenAccount, action: str, reason: str = "Called, case 12"
) -> httpx.Response:
    path = f"/admin/citizens/{citizen.username}"
    return visit.post(
        f"{path}/{action}", {"reason": reason, "return_to": path}, token_from="/admin/citizens"
    )


def test_opening_a_record_asks_why_and_the_citizen_sees_it(
    in_process_gateway: InProcessGateway, support: ConsoleVisit
) -> None:
    gateway = in_process_gateway
    citizen = add_citizen(
        gateway, given_name="Mari", family_name="Maasikas", national_id="49001010001"
    )
    found = support.get("/admin/citizens", q="Maasikas")
    assert citizen.username in found.text
    asked = support.get(f"/admin/citizens/{citizen.username}")
    assert asked.status_code == 200 and "Why do you need to open it?" in asked.text
    assert "49001010001" not in asked.text  # nothing shown before the reason
    empty = _act(support, citizen, "open", reason="  ")
    assert empty.status_code == 400 and "There is a problem" in empty.text
    record = _act(support, citizen, "open", reason="Citizen asked about her address, case 77")
    assert record.status_code == 200 and "49001010001" in record.text and "Maasikas" in record.text
    # The citizen's account page names the look and the reason.
    browser = gateway.browser()
    signed_in_tokens(gateway, browser, register_app(gateway), citizen)
    _sequence(gateway)
    account = browser.http.get("/account")
    assert (
        "(console)" in account.text and "Citizen asked about her address, case 77" in account.text
    )


def test_locking_keeps_the_citizen_out_until_unlocked(
    in_process_gateway: InProcessGateway, support: ConsoleVisit
) -> None:
    gateway, citizen = in_process_gateway, add_citizen(in_process_gateway)
    app = register_app(gateway)
    locked = _act(support, citizen, "lock")
    assert locked.status_code == 200 and 'id="state">locked' in locked.text
    browser = gateway.browser()
    refused = browser.follow_to_client(
        browser.authorize(authorization_params(app)),
        username=citizen.username,
        password=citizen.password,
    )
    assert "Your account is locked" in refused.text
    assert _act(support, citizen, "unlock").status_code == 200
    signed_in_tokens(gateway, gateway.browser(), app, citizen)


def test_an_activation_code_is_shown_once_and_sessions_can_end(
    in_process_gateway: InProcessGateway, support: ConsoleVisit
) -> None:
    gateway, citizen = in_process_gateway, add_citizen(in_process_gateway)
    browser = gateway.browser()
    signed_in_tokens(gateway, browser, register_app(gateway), citizen)
    assert "You are signed in as" in browser.http.get("/account").text
    given = _act(support, citizen, "activation-code")
    code = re.search(r'id="activation-code">([A-Z0-9-]+)<', given.text)
    assert code and len(code.group(1).replace("-", "")) == 12
    ended = _act(support, citizen, "end-sessions")
    assert ended.status_code == 200 and "Every session of this citizen has ended" in ended.text
    assert "You are signed in as" not in browser.http.get("/account").text
    _sequence(gateway)  # the history is of sealed entries: seal the sign-in's now
    history = _act(support, citizen, "history")
    assert "token.issued" in history.text and "sign_in.succeeded" in history.text


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.OPERATOR, Role.SECURITY])
def test_other_roles_cannot_help_citizens(in_process_gateway: InProcessGateway, role: Role) -> None:
    citizen = add_citizen(in_process_gateway)
    visit, _ = sign_in_to_console(in_process_gateway, add_administrator(in_process_gateway, role))
    assert visit.get("/admin/citizens").status_code == 403
    assert visit.get(f"/admin/citizens/{citizen.username}").status_code == 403
    assert _act(visit, citizen, "lock").status_code == 403
    support, _ = sign_in_to_console(
        in_process_gateway, add_administrator(in_process_gateway, Role.SUPPORT)
    )
    assert 'id="state">active' in _act(support, citizen, "open").text  # not locked
