"""Support's operations through the administrators' API, on SQLite and PostgreSQL, with what the
citizen then sees over HTTP: a locked account refused at sign-in with a page that says to
contact support, an activation code redeemed on the activation page with its CSRF token, browser
sessions ended, the citizen's history read with a reason the citizen is shown. Every other role
is refused and changes nothing."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from tests.admin.api_tokens import api_token
from tests.builders import add_citizen, register_app
from tests.citizen import Browser, hidden_fields
from tests.conftest import signed_in_tokens, userinfo
from tests.in_process import InProcessGateway
from transparency.checkpoints import CHECKPOINT_ALG
from transparency.sequencer import sequence_everything

API = "/admin/api/v1"
WHY = "The citizen phoned the helpdesk and asked for it"


@pytest.fixture
def support(in_process_gateway: InProcessGateway) -> str:
    return api_token(in_process_gateway, "admin:support", name="Helpdesk")


def _act(
    gateway: InProcessGateway, token: str, username: str, what: str, reason: Any = WHY
) -> httpx.Response:
    body = {} if reason is None else {"reason": reason}
    return gateway.http.post(
        f"{API}/accounts/{username}/{what}", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def _history(gateway: InProcessGateway, token: str, username: str, **params: Any) -> httpx.Response:
    return gateway.http.get(
        f"{API}/accounts/{username}/history",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
    )


def _sequence(gateway: InProcessGateway) -> None:
    web = gateway.app.state.web
    sequence_everything(
        web.database,
        key=lambda: web.provider.keyring.signing_key(CHECKPOINT_ALG),
        verification_keys=web.provider.keyring.historical_keys,
        issuer=gateway.settings.issuer,
        clock=gateway.clock,
    )


def sign_in(browser: Browser, username: str, password: str) -> httpx.Response:
    """The account area's sign-in, as a browser does it: 303 on success, else the page."""
    start = browser.http.get("/account/sign-in")
    page = browser.http.get(start.headers["location"])
    return browser.http.post(
        "/sign-in", data={**hidden_fields(page.text), "username": username, "password": password}
    )


def activate(browser: Browser, username: str, code: str, password: str) -> httpx.Response:
    """The activation page's form, filled in and sent with the token it carries."""
    page = browser.http.get("/account/activate")
    assert page.status_code == 200
    return browser.http.post(
        "/account/activate",
        data={
            **hidden_fields(page.text),
            "username": username,
            "code": code,
            "password": password,
            "password_again": password,
        },
    )


def _new_password() -> str:
    return f"new-{secrets.token_urlsafe(18)}"


def _is_signed_in(browser: Browser) -> bool:
    return 'id="who-looked"' in browser.http.get("/account").text


def test_a_locked_account_is_refused_with_a_readable_page_until_unlocked(
    in_process_gateway: InProcessGateway, support: str
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    signed_in = gateway.browser()
    assert sign_in(signed_in, person.username, person.password).status_code == 303
    agency_token = signed_in_tokens(gateway, gateway.browser(), register_app(gateway), person)
    assert userinfo(gateway, agency_token["access_token"]).status_code == 200
    locked = _act(gateway, support, person.username, "lock")
    assert locked.status_code == 200, locked.text
    assert locked.json()["locked"] is True and locked.json()["sessions_ended"] == 2
    assert not _is_signed_in(signed_in)  # locking ended its session
    assert userinfo(gateway, agency_token["access_token"]).status_code == 401  # no more data
    refused = sign_in(gateway.browser(), person.username, person.password)
    assert refused.status_code == 200
    assert "<title>Error: Sign in" in refused.text
    assert "Your account is locked, so you cannot sign in. Contact support" in refused.text
    # A wrong password learns nothing of the lock.
    wrong = sign_in(gateway.browser(), person.username, "not the password at all, surely")
    assert "The username or password is not right" in wrong.text
    assert "locked" not in wrong.text
    again = _act(gateway, support, person.username, "lock")  # already locked: no change
    assert again.json()["locked"] is True and again.json()["sessions_ended"] == 0
    unlocked = _act(gateway, support, person.username, "unlock")
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
    assert sign_in(gateway.browser(), person.username, person.password).status_code == 303
    _sequence(gateway)
    kinds = [
        (item["type"], item["actor"]["id"], item["detail"].get("reason"))
        for item in _history(gateway, support, person.username, reason=WHY).json()["items"]
    ]
    assert ("account.locked", "Helpdesk (admin API)", WHY) in kinds
    assert ("account.unlocked", "Helpdesk (admin API)", WHY) in kinds
    assert kinds.count(("account.locked", "Helpdesk (admin API)", WHY)) == 1


def test_an_activation_code_sets_a_new_password_over_the_form(
    in_process_gateway: InProcessGateway, support: str
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    old_session = gateway.browser()
    assert sign_in(old_session, person.username, person.password).status_code == 303
    issued = _act(gateway, support, person.username, "activation-code")
    assert issued.status_code == 200, issued.text
    assert issued.headers["cache-control"] == "no-store"
    code, expires_at = issued.json()["code"], issued.json()["expires_at"]
    assert len(code) == 14 and code.count("-") == 2
    assert expires_at.startswith(
        str((gateway.clock() + gateway.settings.activation_code_lifetime).date())
    )
    new_password = _new_password()
    # Read aloud and typed in lower case without its hyphens: still the code.
    done = activate(
        gateway.browser(), person.username, code.replace("-", " ").lower(), new_password
    )
    assert done.status_code == 200, done.text
    assert "Your new password is set" in done.text and 'href="/account/sign-in"' in done.text
    assert not _is_signed_in(old_session)  # the old password's session ended
    assert sign_in(gateway.browser(), person.username, new_password).status_code == 303
    assert sign_in(gateway.browser(), person.username, person.password).status_code == 200
    # Single use: the same code a second time is refused, and says only that.
    second = activate(gateway.browser(), person.username, code, _new_password())
    assert "The username or activation code is not right" in second.text
    assert sign_in(gateway.browser(), person.username, new_password).status_code == 303
    _sequence(gateway)
    items = _history(gateway, support, person.username, reason=WHY).json()["items"]
    redeemed = next(i for i in items if i["type"] == "activation_code.redeemed")
    assert redeemed["detail"] == {"sessions_ended": 1}
    issued_entry = next(i for i in items if i["type"] == "activation_code.issued")
    assert issued_entry["detail"]["reason"] == WHY
    assert code not in str(items) and code.replace("-", "") not in str(items)


def test_an_unknown_username_reads_like_a_wrong_code(
    in_process_gateway: InProcessGateway, support: str
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    code = _act(gateway, support, person.username, "activation-code").json()["code"]
    unknown = activate(gateway.browser(), "nobody-by-this-name", code, _new_password())
    wrong = activate(gateway.browser(), person.username, "ABCD-EFGH-JKMN", _new_password())
    assert unknown.status_code == wrong.status_code == 200

    def summary(page: str) -> str:
        return page[page.index('class="error-summary"') : page.index("</div>")]

    assert summary(unknown.text) == summary(wrong.text)


def test_ending_sessions_signs_the_citizen_out_everywhere(
    in_process_gateway: InProcessGateway, support: str
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    browsers = [gateway.browser(), gateway.browser()]
    for browser in browsers:
        assert sign_in(browser, person.username, person.password).status_code == 303
        assert _is_signed_in(browser)
    ended = _act(gateway, support, person.username, "end-sessions")
    assert ended.status_code == 200 and ended.json()["sessions_ended"] == 2
    assert not any(_is_signed_in(browser) for browser in browsers)
    assert _act(gateway, support, person.username, "end-sessions").json()["sessions_ended"] == 0
    assert sign_in(browsers[0], person.username, person.password).status_code == 303


def test_the_citizen_sees_supports_look_at_their_history_with_its_reason(
    in_process_gateway: InProcessGateway, support: str
) -> None:
    gateway = in_process_gateway
    person, browser = add_citizen(gateway), gateway.browser()
    assert sign_in(browser, person.username, person.password).status_code == 303
    _sequence(gateway)
    why = "The citizen asked who signed in last week"
    first = _history(gateway, support, person.username, reason=why, limit=1)
    assert first.status_code == 200, first.text
    assert first.json()["items"][0]["type"] == "sign_in.succeeded"
    _sequence(gateway)
    page = browser.http.get("/account").text
    looks = page[page.index('id="who-looked"') :]
    assert "Helpdesk (admin API) (an administrator)" in looks
    assert "The record of your sign-ins and of who received your information" in looks
    assert f"Reason given: {why}" in looks


def test_history_pages_follow_the_cursor_newest_first(
    in_process_gateway: InProcessGateway, support: str
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    for _ in range(2):
        assert sign_in(gateway.browser(), person.username, person.password).status_code == 303
    _sequence(gateway)
    whole = _history(gateway, support, person.username, reason=WHY, limit=500).json()["items"]
    assert len(whole) >= 3
    paged: list[int] = []
    cursor: str | None = None
    for _ in range(len(whole)):
        params: dict[str, Any] = {
            "reason": WHY,
            "limit": 1,
            **({"cursor": cursor} if cursor else {}),
        }
        body = _history(gateway, support, person.username, **params).json()
        paged += [item["index"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # Each read is an entry about the citizen too: newer ones may come above the first page.
    assert paged[-len(whole) :] == [item["index"] for item in whole]
    assert paged == sorted(paged, reverse=True)


@pytest.mark.parametrize("scopes", [("admin:audit",), ("admin:operate",), ("admin:security",), ()])
def test_every_other_role_and_a_plain_client_are_refused_and_change_nothing(
    in_process_gateway: InProcessGateway, scopes: tuple[str, ...]
) -> None:
    gateway = in_process_gateway
    person, browser = add_citizen(gateway), gateway.browser()
    assert sign_in(browser, person.username, person.password).status_code == 303
    token = api_token(gateway, *scopes, name="Not support")
    for what in ("lock", "activation-code", "end-sessions", "unlock"):
        answer = _act(gateway, token, person.username, what)
        assert answer.status_code == 403, (what, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    history = _history(gateway, token, person.username, reason=WHY)
    assert history.status_code == 403
    assert _is_signed_in(browser)
    assert sign_in(gateway.browser(), person.username, person.password).status_code == 303


def test_a_citizens_own_token_or_none_is_unauthorized(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    for token in ("not-a-token", ""):
        answer = gateway.http.post(
            f"{API}/accounts/{person.username}/lock",
            json={"reason": WHY},
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )
        assert answer.status_code == 401


@pytest.mark.parametrize("reason", [None, "", "   ", "a\x00b", "x" * 501])
def test_a_missing_or_unusable_reason_is_422(
    in_process_gateway: InProcessGateway, support: str, reason: str | None
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    for what in ("lock", "unlock", "activation-code", "end-sessions"):
        answer = _act(gateway, support, person.username, what, reason=reason)
        assert answer.status_code == 422, (what, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    if reason is not None and "\x00" not in reason:
        assert _history(gateway, support, person.username, reason=reason).status_code == 422
    assert _history(gateway, support, person.username).status_code == 422
    assert sign_in(gateway.browser(), person.username, person.password).status_code == 303


def test_an_unknown_username_is_404_and_a_locked_account_gets_no_code(
    in_process_gateway: InProcessGateway, support: str
) -> None:
    gateway = in_process_gateway
    for what in ("lock", "unlock", "activation-code", "end-sessions"):
        answer = _act(gateway, support, "no-such-citizen", what)
        assert answer.status_code == 404 and answer.json()["title"] == "Not Found"
    assert _history(gateway, support, "no-such-citizen", reason=WHY).status_code == 404
    person = add_citizen(gateway)
    code = _act(gateway, support, person.username, "activation-code").json()["code"]
    _act(gateway, support, person.username, "lock")
    refused = _act(gateway, support, person.username, "activation-code")
    assert refused.status_code == 409
    _act(gateway, support, person.username, "unlock")
    # Locking voided the code it had.
    void = activate(gateway.browser(), person.username, code, _new_password())
    assert "The username or activation code is not right" in void.text


def test_the_api_documents_the_support_operations(in_process_gateway: InProcessGateway) -> None:
    paths = in_process_gateway.http.get(f"{API}/openapi.json").json()["paths"]
    for what in ("lock", "unlock", "activation-code", "end-sessions"):
        operation = paths[f"/accounts/{{username}}/{what}"]["post"]
        assert {"403", "404", "422"} <= set(operation["responses"])
    assert "reason" in {
        p["name"] for p in paths["/accounts/{username}/history"]["get"]["parameters"]
    }


def test_a_new_code_replaces_the_old_five_wrong_tries_void_it_and_it_expires(
    in_process_gateway: InProcessGateway, support: str
) -> None:
    """Last in the module: it moves the clock past the codes' lifetime."""
    gateway = in_process_gateway
    person, browser = add_citizen(gateway), gateway.browser()

    def refused(code: str) -> bool:
        page = activate(browser, person.username, code, _new_password())
        return "The username or activation code is not right" in page.text

    def issue() -> str:
        return str(_act(gateway, support, person.username, "activation-code").json()["code"])

    first, second = issue(), issue()
    assert refused(first)  # replaced: a wrong try against the second
    assert all(refused("ABCD-EFGH-JKMN") for _ in range(4))  # the fifth wrong try
    assert refused(second)  # void now, though right
    assert sign_in(gateway.browser(), person.username, person.password).status_code == 303
    third = issue()
    assert all(refused("ABCD-EFGH-JKMN") for _ in range(4))
    gateway.clock.advance(gateway.settings.activation_code_lifetime.total_seconds() + 1)
    assert refused(third)  # four wrong tries left it live, but it expired
    support = api_token(gateway, "admin:support", name="Helpdesk")  # the old one expired too
    fourth = issue()
    assert all(refused("ABCD-EFGH-JKMN") for _ in range(4))
    new_password = _new_password()
    assert activate(browser, person.username, fourth, new_password).status_code == 200
    assert sign_in(gateway.browser(), person.username, new_password).status_code == 303
    _sequence(gateway)
    items = _history(gateway, support, person.username, reason=WHY, limit=100).json()["items"]
    failures = [i["detail"] for i in items if i["type"] == "activation_code.failed"]
    assert failures.count({"reason": "wrong_code", "voided": False}) == 12
    assert failures.count({"reason": "wrong_code", "voided": True}) == 1
    assert failures.count({"reason": "not_live", "voided": False}) == 2
