"""Signing out once, everywhere (OpenID Connect RP-Initiated, Back-Channel and Front-Channel
Logout 1.0), on the gateway built in this process with a clock the tests move: an app's logout
request, the citizen's own "Sign out", expiry, and apps that are down when they are told."""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
import pytest

from admin.roles import Role
from tests.admin.api_tokens import api_token
from tests.admin.console_visits import add_administrator, sign_in_to_console
from tests.builders import CitizenAccount, add_citizen, register_app
from tests.citizen import AppClient, Browser, account_form_token
from tests.conftest import obtain_code, signed_in_tokens, userinfo
from tests.database_rows import logged
from tests.gateway_process import run_command_here
from tests.in_process import InProcessGateway
from tests.logout_receiver import LogoutReceiver, app_with_logout_receiver


def _refresh(gateway: InProcessGateway, app: AppClient, refresh_token: str) -> httpx.Response:
    return gateway.http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(app.client_id, app.client_secret or ""),
    )


def _wait_until(condition: Callable[[], bool], *, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.05)


def _deliveries(gateway: InProcessGateway) -> list[dict[str, Any]]:
    env = {
        "IDP_ISSUER": gateway.issuer,
        "IDP_DATABASE_URL": gateway.database_url,
        "IDP_KEYS_DIR": str(gateway.workdir / "keys"),
    }
    result = run_command_here(gateway.workdir, env, ["logout", "deliveries", "--json"])
    assert result.returncode == 0, result.stderr
    deliveries: list[dict[str, Any]] = json.loads(result.stdout)
    return deliveries


def _wake(gateway: InProcessGateway) -> None:
    gateway.app.state.web.sign_out.wake()


@pytest.fixture
def receivers() -> Iterator[list[LogoutReceiver]]:
    started: list[LogoutReceiver] = []
    yield started
    for receiver in started:
        receiver.stop()


def _sign_out_on_account_page(gateway: InProcessGateway, browser: Browser) -> None:
    """The citizen's own "Sign out", from their account page."""
    account = browser.http.get(f"{gateway.issuer}/account")
    signed_out = browser.http.post(
        f"{gateway.issuer}/sign-out", data={"form_token": account_form_token(account.text)}
    )
    assert signed_out.status_code == 200 and "You have signed out" in signed_out.text


def _signed_in_to_both(
    gateway: InProcessGateway, browser: Browser, first: AppClient, second: AppClient
) -> tuple[CitizenAccount, dict[str, Any], dict[str, Any]]:
    citizen = add_citizen(gateway)
    tokens_first = signed_in_tokens(gateway, browser, first, citizen)
    tokens_second = signed_in_tokens(gateway, browser, second, citizen)  # single sign-on
    return citizen, tokens_first, tokens_second


def test_an_apps_logout_request_signs_the_citizen_out_of_every_app(
    in_process_gateway: InProcessGateway, receivers: list[LogoutReceiver]
) -> None:
    gateway = in_process_gateway
    returns_to = "https://tax.example/signed-out"
    tax, tax_receiver = app_with_logout_receiver(
        gateway, "--post-logout-redirect-uri", returns_to, name="Tax office", clock=gateway.clock
    )
    front = "https://land.example/front-channel-logout?tenant=7"
    land, land_receiver = app_with_logout_receiver(
        gateway,
        "--frontchannel-logout-uri",
        front,
        name="Land registry",
        redirect_uris=["https://land.example/callback"],
        clock=gateway.clock,
    )
    receivers += [tax_receiver.start(), land_receiver.start()]
    browser = gateway.browser()
    citizen, tax_tokens, land_tokens = _signed_in_to_both(gateway, browser, tax, land)
    sid = jwt.decode(tax_tokens["id_token"], options={"verify_signature": False})["sid"]

    query = urlencode(
        {
            "id_token_hint": tax_tokens["id_token"],
            "post_logout_redirect_uri": returns_to,
            "state": "after logout",
        }
    )
    page = browser.http.get(f"{gateway.issuer}/logout?{query}")

    # Land registry asked for a front channel: the signed-out page loads it, then goes on.
    assert page.status_code == 200 and "You have signed out" in page.text
    frame = urlencode({"iss": gateway.issuer, "sid": sid})
    assert f'src="{html.escape(f"{front}&{frame}")}"' in page.text
    csp = page.headers["content-security-policy"]
    assert "frame-src https://land.example/front-channel-logout" in csp
    continue_to = f"{returns_to}?{urlencode({'state': 'after logout'})}"
    assert f'href="{continue_to}"' in page.text
    assert 'id="continue-to-service"' in page.text and "Continue to Tax office" in page.text
    assert any(
        k == "set-cookie" and v.startswith("idp-session=") and "Max-Age=0" in v
        for k, v in page.headers.multi_items()
    )

    for receiver in (tax_receiver, land_receiver):
        (claims,) = receiver.wait_for(1)
        assert claims["sid"] == sid and claims["sub"] == citizen.subject
        assert claims["aud"] == receiver.client_id and "nonce" not in claims
    assert _refresh(gateway, tax, tax_tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert _refresh(gateway, land, land_tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert userinfo(gateway, land_tokens["access_token"]).status_code == 401
    assert obtain_code(browser, tax, None, prompt="none").params["error"] == "login_required"
    (ended,) = [e for e in logged(gateway, "browser_session.ended") if e["detail"]["sid"] == sid]
    assert ended["detail"]["reason"] == "app_signed_out" and ended["client_id"] == tax.client_id
    assert ended["detail"]["apps"] == [tax.client_id, land.client_id]
    _wait_until(
        lambda: (
            {
                e["client_id"]
                for e in logged(gateway, "logout_token.delivered")
                if e["detail"]["sid"] == sid
            }
            == {tax.client_id, land.client_id}
        )
    )


def test_without_a_valid_hint_the_citizen_is_asked_first(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    returns_to = "https://benefits.example/bye"
    app = register_app(gateway, "--post-logout-redirect-uri", returns_to, name="Benefits")
    browser = gateway.browser()
    citizen = add_citizen(gateway)
    signed_in_tokens(gateway, browser, app, citizen)

    asked = browser.http.get(
        f"{gateway.issuer}/logout?"
        + urlencode(
            {"client_id": app.client_id, "post_logout_redirect_uri": returns_to, "state": "s"}
        )
    )
    assert asked.status_code == 200 and "Do you want to sign out?" in asked.text
    assert "location" not in asked.headers
    assert "Benefits asked the gateway to sign you out." in asked.text
    # Nothing changed until the citizen confirms: single sign-on still works.
    assert "code" in obtain_code(browser, app, None, prompt="none").params

    # A page on another site cannot confirm for them: the form token comes from the cookie.
    forged = browser.http.post(
        f"{gateway.issuer}/sign-out", data={"form_token": "guess", "client_id": app.client_id}
    )
    assert forged.status_code == 400
    assert "code" in obtain_code(browser, app, None, prompt="none").params

    fields = _hidden_inputs(asked.text)
    assert {"form_token", "client_id", "post_logout_redirect_uri", "state"} <= set(fields)
    confirmed = browser.http.post(f"{gateway.issuer}/sign-out", data=fields)
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"{returns_to}?state=s"
    assert obtain_code(browser, app, None, prompt="none").params["error"] == "login_required"


def _hidden_inputs(page: str) -> dict[str, str]:
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    }


def test_logout_requests_that_are_not_right_are_refused_without_a_redirect(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    registered = "https://permits.example/bye"
    app = register_app(gateway, "--post-logout-redirect-uri", registered, name="Permits")
    other = register_app(gateway, name="Other")
    browser = gateway.browser()
    tokens = signed_in_tokens(gateway, browser, app, add_citizen(gateway))
    hint = tokens["id_token"]
    for parameters in (
        {"client_id": app.client_id, "post_logout_redirect_uri": "https://evil.example/"},
        {"client_id": app.client_id, "post_logout_redirect_uri": registered + "/"},
        {"id_token_hint": hint, "post_logout_redirect_uri": "https://evil.example/"},
        {"post_logout_redirect_uri": registered},  # no client named
        {"id_token_hint": hint[:-4] + "AAAA", "post_logout_redirect_uri": registered},
        {"id_token_hint": hint, "client_id": other.client_id},
        {"client_id": "no-such-app"},
    ):
        refused = browser.http.get(f"{gateway.issuer}/logout?{urlencode(parameters)}")
        assert refused.status_code == 400, parameters
        assert "location" not in refused.headers
        assert "This sign-out link is not valid" in refused.text
    repeated = browser.http.get(
        f"{gateway.issuer}/logout?client_id={app.client_id}&client_id={other.client_id}"
    )
    assert repeated.status_code == 400
    # None of them ended the session.
    assert "code" in obtain_code(browser, app, None, prompt="none").params


def test_an_expired_session_tells_its_apps_as_a_sign_out_does(
    in_process_gateway: InProcessGateway, receivers: list[LogoutReceiver]
) -> None:
    gateway = in_process_gateway
    app, receiver = app_with_logout_receiver(gateway, name="Pensions", clock=gateway.clock)
    receivers.append(receiver.start())
    browser = gateway.browser()
    citizen = add_citizen(gateway)
    tokens = signed_in_tokens(gateway, browser, app, citizen)
    sid = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sid"]

    idle = gateway.settings.session_idle_lifetime.total_seconds() + 60
    gateway.clock.advance(idle)
    _wake(gateway)

    (claims,) = receiver.wait_for(1)
    assert claims["sid"] == sid and claims["sub"] == citizen.subject
    ended = [e for e in logged(gateway, "browser_session.ended") if e["detail"]["sid"] == sid]
    assert [e["detail"]["reason"] for e in ended] == ["idle"]
    assert _refresh(gateway, app, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_an_app_that_is_down_is_told_when_it_is_back_and_one_that_never_is_is_given_up(
    in_process_gateway: InProcessGateway, receivers: list[LogoutReceiver]
) -> None:
    gateway = in_process_gateway
    # Retries and giving up are counted in seconds of the gateway's clock: frozen, only the
    # test moves it, however long a loaded machine takes between the steps.
    with gateway.clock.frozen():
        _told_when_back_or_given_up(gateway, receivers)


def _told_when_back_or_given_up(gateway: InProcessGateway, receivers: list[LogoutReceiver]) -> None:
    comes_back, courts = app_with_logout_receiver(gateway, name="Courts", clock=gateway.clock)
    never, police = app_with_logout_receiver(gateway, name="Police", clock=gateway.clock)
    receivers += [courts, police]
    browser = gateway.browser()
    _, courts_tokens, _ = _signed_in_to_both(gateway, browser, comes_back, never)
    sid = jwt.decode(courts_tokens["id_token"], options={"verify_signature": False})["sid"]
    _sign_out_on_account_page(gateway, browser)

    def ours() -> list[dict[str, Any]]:
        return [d for d in _deliveries(gateway) if d["sid"] == sid]

    _wait_until(lambda: all(d["attempts"] >= 1 and d["state"] == "pending" for d in ours()))
    assert {d["last_outcome"] for d in ours()} == {"could not connect"}
    courts.start()
    gateway.clock.advance(gateway.settings.logout_retry_first.total_seconds() + 1)
    _wake(gateway)
    (claims,) = courts.wait_for(1)
    assert claims["sid"] == sid

    gateway.clock.advance(gateway.settings.logout_give_up_after.total_seconds() + 1)
    _wake(gateway)
    _wait_until(
        lambda: {d["client_id"]: d["state"] for d in ours()}.get(never.client_id) == "given_up"
    )
    states = {d["client_id"]: d for d in ours()}
    assert states[comes_back.client_id]["state"] == "delivered"
    assert states[never.client_id]["last_outcome"] == "could not connect"
    assert any(e["detail"]["sid"] == sid for e in logged(gateway, "logout_token.given_up"))
    failed = [
        e for e in logged(gateway, "logout_token.delivery_failed") if e["detail"]["sid"] == sid
    ]
    assert {e["client_id"] for e in failed} == {comes_back.client_id, never.client_id}
    assert courts.replayed_jtis == [] and urlsplit(courts.uri).hostname == "127.0.0.1"

    # Operators see the same in the console.
    visit, _ = sign_in_to_console(gateway, add_administrator(gateway, Role.OPERATOR))
    page = visit.get("/admin/sign-outs", state="given_up")
    assert page.status_code == 200
    row = next(r for r in page.text.split("<tr>") if never.client_id in r)
    assert "Police" in row and "Given up" in row and "could not connect" in row
    assert comes_back.client_id not in page.text  # delivered: not among the given up


def test_a_sign_outs_apps_are_told_at_once_not_one_after_another(
    in_process_gateway: InProcessGateway, receivers: list[LogoutReceiver]
) -> None:
    """Each receiver answers only once the other also has its token in hand: delivered one
    after another, the first would wait out the barrier and fail; at once, both are told on
    the first attempt. An app slow to answer holds back no other app."""
    gateway = in_process_gateway
    meet = threading.Barrier(2, timeout=3)  # below the delivery timeout (5 s)
    health, health_receiver = app_with_logout_receiver(gateway, name="Health", clock=gateway.clock)
    school, school_receiver = app_with_logout_receiver(gateway, name="School", clock=gateway.clock)
    health_receiver.meet = school_receiver.meet = meet
    receivers += [health_receiver.start(), school_receiver.start()]
    browser = gateway.browser()
    _, health_tokens, _ = _signed_in_to_both(gateway, browser, health, school)
    sid = jwt.decode(health_tokens["id_token"], options={"verify_signature": False})["sid"]
    _sign_out_on_account_page(gateway, browser)

    for receiver in (health_receiver, school_receiver):
        (claims,) = receiver.wait_for(1)
        assert claims["sid"] == sid
    _wait_until(
        lambda: all(d["state"] == "delivered" for d in _deliveries(gateway) if d["sid"] == sid)
    )
    ours = [d for d in _deliveries(gateway) if d["sid"] == sid]
    assert {d["client_id"]: d["attempts"] for d in ours} == {
        health.client_id: 1,
        school.client_id: 1,
    }
    assert not meet.broken


def test_a_delivery_waiting_for_an_app_goes_where_the_app_now_says(
    in_process_gateway: InProcessGateway, receivers: list[LogoutReceiver]
) -> None:
    gateway = in_process_gateway
    with gateway.clock.frozen():
        app, old = app_with_logout_receiver(gateway, name="Land board", clock=gateway.clock)
        moved = LogoutReceiver(
            issuer=gateway.issuer, client_id=app.client_id, jwks=gateway.jwks, clock=gateway.clock
        )
        receivers += [old, moved.start()]  # the old address never answers
        browser = gateway.browser()
        tokens = signed_in_tokens(gateway, browser, app, add_citizen(gateway))
        sid = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sid"]
        _sign_out_on_account_page(gateway, browser)

        def ours() -> dict[str, Any]:
            (delivery,) = [d for d in _deliveries(gateway) if d["sid"] == sid]
            return delivery

        _wait_until(lambda: ours()["attempts"] >= 1)
        assert ours()["uri"] == old.uri and ours()["last_outcome"] == "could not connect"
        # The agency moves its endpoint while the token waits for the next attempt.
        operator = api_token(gateway, "admin:operate")
        changed = gateway.http.patch(
            f"/admin/api/v1/clients/{app.client_id}",
            json={"backchannel_logout_uri": moved.uri},
            headers={"Authorization": f"Bearer {operator}"},
        )
        assert changed.status_code == 200, changed.text
        gateway.clock.advance(gateway.settings.logout_retry_first.total_seconds() + 1)
        _wake(gateway)
        (claims,) = moved.wait_for(1)
        assert claims["sid"] == sid
        _wait_until(lambda: ours()["state"] == "delivered")
        assert ours()["uri"] == moved.uri and old.received == []
