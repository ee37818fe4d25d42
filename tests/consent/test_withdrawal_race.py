"""Withdrawing consent wins every race with the token endpoint.

The citizen withdraws on one node while the agency exchanges a code, or refreshes, on another
node of the same database, at the same moment. Whatever the interleaving, once the withdrawal has
answered, nothing the agency received may work: userinfo and introspection refuse the access
token on both nodes, and the refresh token is refused.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests import http_client
from tests.citizen import AppClient, Browser, account_form_token
from tests.conftest import CitizenAccount, CodeResult, add_citizen, obtain_code, register_app
from tests.gateway_process import Gateway, start_another_node

TRIALS = 32


class TwoNodes:
    """Node A (the citizen's browser) and node B (the agency's back channel), one issuer."""

    def __init__(self, gateway: Gateway, node_b_url: str) -> None:
        self.a = gateway.issuer
        self.b = node_b_url
        self.http = http_client.Client(timeout=30)

    def token(self, app: AppClient, base: str, **data: str) -> httpx.Response:
        return self.http.post(
            f"{base}/token", data=data, auth=(app.client_id, app.client_secret or "")
        )

    def exchange(self, app: AppClient, base: str, code: CodeResult) -> httpx.Response:
        return self.token(
            app,
            base,
            grant_type="authorization_code",
            code=code.params["code"],
            redirect_uri=code.request["redirect_uri"],
            code_verifier=code.verifier,
        )

    def refresh(self, app: AppClient, base: str, refresh_token: str) -> httpx.Response:
        return self.token(app, base, grant_type="refresh_token", refresh_token=refresh_token)

    def assert_dead(self, app: AppClient, tokens: dict[str, Any]) -> None:
        """Nothing in this token response works any more, on either node."""
        for base in (self.a, self.b):
            answer = self.http.get(
                f"{base}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
            )
            assert answer.status_code == 401, answer.text
            introspected = self.http.post(
                f"{base}/introspect",
                data={"token": tokens["access_token"]},
                auth=(app.client_id, app.client_secret or ""),
            )
            assert introspected.json() == {"active": False}
        refreshed = self.refresh(app, self.b, tokens["refresh_token"])
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


@pytest.fixture(scope="module")
def nodes(gateway: Gateway) -> Iterator[TwoNodes]:
    node_b, url = start_another_node(gateway)
    pair = TwoNodes(gateway, url)
    try:
        yield pair
    finally:
        pair.http.close()
        node_b.stop()
        log = node_b.log_path.read_text() if node_b.log_path else ""
        assert "Traceback" not in log, log[-4000:]


def _race(withdraw: Callable[[], httpx.Response], token: Callable[[], httpx.Response]) -> Any:
    start = threading.Barrier(2)

    def at_once(call: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(max_workers=2) as pool:
        withdrawn = pool.submit(at_once, withdraw)
        issued = pool.submit(at_once, token)
        return withdrawn.result(timeout=60), issued.result(timeout=60)


def _signed_in(gateway: Gateway, browser: Browser, app: AppClient) -> tuple[CitizenAccount, str]:
    citizen = add_citizen(gateway)
    obtain_code(browser, app, citizen)  # signs in and consents once
    page = browser.http.get(f"{browser.issuer}/account")
    return citizen, account_form_token(page.text)


def _withdrawal(browser: Browser, form_token: str, app: AppClient) -> Callable[[], httpx.Response]:
    def withdraw() -> httpx.Response:
        return browser.http.post(
            f"{browser.issuer}/account/withdraw",
            data={"form_token": form_token, "client_id": app.client_id},
        )

    return withdraw


def _assert_withdrawn(response: httpx.Response, app: AppClient) -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/account?withdrawn={app.client_id}"


def test_withdrawal_wins_the_race_with_a_code_exchange(
    gateway: Gateway, nodes: TwoNodes, browser: Browser
) -> None:
    app = register_app(gateway, name="Racing agency")
    citizen, form_token = _signed_in(gateway, browser, app)
    outcomes: Counter[int] = Counter()
    for _ in range(TRIALS):
        code = obtain_code(browser, app, citizen)  # consents again after each withdrawal
        withdrawn, issued = _race(
            _withdrawal(browser, form_token, app),
            lambda code=code: nodes.exchange(app, nodes.b, code),
        )
        _assert_withdrawn(withdrawn, app)
        outcomes[issued.status_code] += 1
        if issued.status_code == 200:
            nodes.assert_dead(app, issued.json())
        else:
            assert issued.status_code == 400 and issued.json()["error"] == "invalid_grant"
    assert sum(outcomes.values()) == TRIALS, outcomes


def test_withdrawal_wins_the_race_with_a_refresh(
    gateway: Gateway, nodes: TwoNodes, browser: Browser
) -> None:
    app = register_app(gateway, name="Refreshing agency")
    citizen, form_token = _signed_in(gateway, browser, app)
    for _ in range(TRIALS):
        first = nodes.exchange(app, nodes.a, obtain_code(browser, app, citizen))
        assert first.status_code == 200, first.text
        tokens = first.json()
        withdrawn, refreshed = _race(
            _withdrawal(browser, form_token, app),
            lambda tokens=tokens: nodes.refresh(app, nodes.b, tokens["refresh_token"]),
        )
        _assert_withdrawn(withdrawn, app)
        # The newest tokens first: replaying the old refresh token would revoke the family and
        # hide a live one.
        if refreshed.status_code == 200:
            nodes.assert_dead(app, refreshed.json())
        else:
            assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
        nodes.assert_dead(app, tokens)
