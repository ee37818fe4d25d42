"""Back-channel logout tokens outlive the process that owed them: an app that is down when the
citizen signs out is told when it is back, by the restarted gateway or by another node on the
same database, once each (real `idp serve` processes, both databases)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import create_engine, text

from tests.builders import add_citizen, register_app
from tests.citizen import Browser
from tests.conftest import BACKENDS, TEST_ENV, signed_in_tokens
from tests.gateway_process import (
    Gateway,
    restart_gateway,
    running_gateway,
    start_another_node,
)
from tests.logout_receiver import LogoutReceiver

# Short waits, so that a few seconds of processes stopping and starting see several attempts.
ENV = {
    **TEST_ENV,
    "IDP_LOGOUT_DELIVERY_INTERVAL": "1",
    "IDP_LOGOUT_RETRY_FIRST": "1",
    "IDP_LOGOUT_RETRY_LONGEST": "2",
    "IDP_LOGOUT_GIVE_UP_AFTER": "600",
    # A claim lasts the delivery timeout and five seconds: a process stopped mid-turn holds a
    # token back that long.
    "IDP_LOGOUT_DELIVERY_TIMEOUT": "1",
}


@pytest.fixture(params=BACKENDS)
def node(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path, ENV) as gateway:
        yield gateway


def _set_back_channel(gateway: Gateway, client_id: str, uri: str) -> None:
    engine = create_engine(gateway.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE clients SET backchannel_logout_uri = :u WHERE client_id = :c"),
                {"u": uri, "c": client_id},
            )
    finally:
        engine.dispose()


def _wait_until(condition: Callable[[], bool], *, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.2)


def test_an_app_down_at_sign_out_is_told_after_a_restart_and_by_another_node(
    node: Gateway,
) -> None:
    first, second = register_app(node, name="Customs"), register_app(node, name="Registry")
    keys = node.jwks()  # read now: the apps come back while this node is down
    receivers = [
        LogoutReceiver(issuer=node.issuer, client_id=app.client_id, jwks=lambda: keys)
        for app in (first, second)
    ]
    for app, receiver in zip((first, second), receivers, strict=True):
        _set_back_channel(node, app.client_id, receiver.uri)
    citizen = add_citizen(node)
    with Browser(node.issuer) as browser:
        tokens = signed_in_tokens(node, browser, first, citizen)
        signed_in_tokens(node, browser, second, citizen)
        signed_out = browser.http.get(
            f"{node.issuer}/logout", params={"id_token_hint": tokens["id_token"]}
        )
    sid = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sid"]
    assert signed_out.status_code == 200 and "You have signed out" in signed_out.text

    def deliveries() -> dict[str, dict[str, Any]]:
        rows = node.command_json("logout", "deliveries")
        return {row["client_id"]: row for row in rows if row["sid"] == sid}

    _wait_until(lambda: all(d["attempts"] >= 1 for d in deliveries().values()))
    assert {d["state"] for d in deliveries().values()} == {"pending"}
    try:
        # The first app comes back while the gateway restarts: the restarted process tells it.
        restart_gateway(node)
        receivers[0].start()
        (claims,) = receivers[0].wait_for(1, timeout=30)
        assert claims["sid"] == sid and claims["sub"] == citizen.subject
        assert claims["jti"] == deliveries()[first.client_id]["jti"]

        # The second comes back while only another node runs: that node tells it.
        node.stop()
        other, _ = start_another_node(node)
        try:
            receivers[1].start()
            (claims,) = receivers[1].wait_for(1, timeout=30)
            assert claims["sid"] == sid
            _wait_until(lambda: deliveries()[second.client_id]["state"] == "delivered")
        finally:
            other.stop()
        assert {d["state"] for d in deliveries().values()} == {"delivered"}
        # Each was told once: the claim let one process send each token.
        assert [len(r.received) for r in receivers] == [1, 1]
        assert all(r.replayed_jtis == [] and r.rejected == [] for r in receivers)
    finally:
        for receiver in receivers:
            receiver.stop()
