"""The operator's command line, and key rotation seen from an agency (OIDC Core 10.1.1).

The commands run in this process (`Gateway.command`: the same code, without a second of
interpreter start each); a password refused from stdin runs `idp` as its own process, and with
it the entry point, its exit code and its error output."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from agency.verify import verify_id_token
from tests import http_client
from tests.citizen import AppClient, Browser
from tests.conftest import CitizenAccount, signed_in_tokens
from tests.gateway_process import Gateway


def test_clients_add_prints_secret_once_and_list_hides_it(gateway: Gateway) -> None:
    created = gateway.command_json(
        "clients",
        "add",
        "--name",
        "Pension office",
        "--redirect-uri",
        "https://pension.example/cb",
        "--post-logout-redirect-uri",
        "https://pension.example/bye",
        "--backchannel-logout-uri",
        "https://api.pension.example/logout?tenant=7",
        "--frontchannel-logout-uri",
        "https://pension.example/signed-out",
        "--purpose",
        "  To pay your\n pension  ",
    )
    assert created["client_secret"] and created["grant_types"] == [
        "authorization_code",
        "refresh_token",
    ]
    assert created["scopes"] == ["openid", "profile", "email"]
    assert created["purpose"] == "To pay your pension"  # whitespace folded
    listed = gateway.command_json("clients", "list")
    mine = next(c for c in listed if c["client_id"] == created["client_id"])
    assert "client_secret" not in mine
    assert mine["backchannel_logout_uri"] == "https://api.pension.example/logout?tenant=7"
    assert mine["frontchannel_logout_uri"] == "https://pension.example/signed-out"
    assert created["client_secret"] not in json.dumps(listed)


@pytest.mark.parametrize("purpose", ["", "   ", "x" * 501])
def test_clients_add_refuses_an_empty_or_overlong_purpose(gateway: Gateway, purpose: str) -> None:
    result = gateway.command(
        "clients",
        "add",
        "--name",
        "Vague office",
        "--redirect-uri",
        "https://vague.example/cb",
        "--purpose",
        purpose,
        check=False,
    )
    assert result.returncode == 2 and "purpose must be 1 to 500 characters" in result.stderr


@pytest.mark.parametrize(
    ("option", "uri", "named"),
    [
        ("--redirect-uri", "http://agency.example/cb", "redirect URI must be an absolute https"),
        ("--redirect-uri", "https://agency.example/cb#x", "redirect URI must not have a fragment"),
        ("--redirect-uri", "not-a-uri", "redirect URI must be an absolute https"),
        # One logout URI: the command relays the rules' message (each rule and URI is
        # checked in tests/idp/unit/test_logout_uri_rules.py, without a process per case).
        ("--backchannel-logout-uri", "http://agency.example/out", "backchannel_logout_uri must"),
    ],
)
def test_clients_add_refuses_unsafe_redirect_and_logout_uris(
    gateway: Gateway, option: str, uri: str, named: str
) -> None:
    redirect = [] if option == "--redirect-uri" else ["--redirect-uri", "https://agency.example/cb"]
    result = gateway.command(
        "clients", "add", "--name", "Bad", *redirect, option, uri, "--json", check=False
    )
    assert result.returncode == 2 and named in result.stderr
    assert uri in result.stderr  # which URI, so the operator can find it


def test_users_add_reads_the_password_from_stdin(gateway: Gateway) -> None:
    short = gateway.idp(
        "users",
        "add",
        "--username",
        "shorty",
        "--password-stdin",
        "--json",
        stdin="short\n",
        check=False,
    )
    assert short.returncode == 2 and "at least 15" in short.stderr
    made = gateway.command_json(
        "users",
        "add",
        "--username",
        "Kati.Karu",
        "--password-stdin",
        "--birthdate",
        "1990-01-02",
        stdin="a long enough passphrase\n",
    )
    assert made["username"] == "kati.karu"
    duplicate = gateway.command(
        "users",
        "add",
        "--username",
        "KATI.KARU",
        "--password-stdin",
        stdin="a long enough passphrase\n",
        check=False,
    )
    assert duplicate.returncode == 2
    assert any(u["username"] == "kati.karu" for u in gateway.command_json("users", "list"))


def test_private_keys_are_private_files(gateway: Gateway) -> None:
    keys_dir = Path(gateway.env["IDP_KEYS_DIR"])
    pems = list(keys_dir.glob("*.pem"))
    assert pems
    for pem in pems:
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600


def test_rotation_publishes_before_signing_and_keeps_old_keys(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    before = signed_in_tokens(gateway, browser, app_a, citizen)
    old_kid = jwt.get_unverified_header(before["id_token"])["kid"]
    rows = gateway.command_json("keys", "rotate")
    upcoming = {r["kid"] for r in rows if r["state"] == "next"}
    assert len(upcoming) == 2

    def published() -> set[str]:
        return {k["kid"] for k in gateway.jwks()["keys"]}

    # Nodes re-read the keyring at most once a second; a loaded machine may take longer, and
    # the publish lead (6 s in the test gateway) leaves room to see the key published first.
    assert _until(lambda: upcoming <= published(), seconds=4.0)
    assert old_kid in published()
    during = signed_in_tokens(gateway, browser, app_a, citizen)
    activates_at = max(datetime.fromisoformat(r["activates_at"]) for r in rows)
    # Signed before the new keys activate, a token still carries the old one. (On a loaded
    # machine the sign-in itself may outlast the lead; then only the rest below is checked.)
    claims = jwt.decode(during["id_token"], options={"verify_signature": False})
    issued_at = datetime.fromtimestamp(claims["iat"], UTC)
    if issued_at < activates_at - timedelta(seconds=1):
        assert jwt.get_unverified_header(during["id_token"])["kid"] == old_kid
    time.sleep(max(0.0, (activates_at - datetime.now(UTC)).total_seconds()))
    signed: list[dict[str, Any]] = []

    def signs_with_an_upcoming_key() -> bool:
        signed.append(signed_in_tokens(gateway, browser, app_a, citizen))
        return jwt.get_unverified_header(signed[-1]["id_token"])["kid"] in upcoming

    assert _until(signs_with_an_upcoming_key)
    after = signed[-1]
    new_kid = jwt.get_unverified_header(after["id_token"])["kid"]
    jwks = gateway.jwks()
    assert old_kid in {k["kid"] for k in jwks["keys"]}
    for tokens in (before, after):
        verify_id_token(
            tokens["id_token"], jwks=jwks, issuer=gateway.issuer, client_id=app_a.client_id
        )
    states = {r["kid"]: r["state"] for r in gateway.command_json("keys", "list")}
    assert states[old_kid] == "retiring" and states[new_kid] == "active"


def test_users_show_prints_one_citizen_and_refuses_unknown_names(
    gateway: Gateway, citizen: CitizenAccount
) -> None:
    shown = gateway.command_json("users", "show", citizen.username)
    assert shown["username"] == citizen.username and shown["subject"] == citizen.subject
    assert "password_hash" not in shown
    missing = gateway.command("users", "show", "nobody-by-this-name", check=False)
    assert missing.returncode == 2 and "no citizen account" in missing.stderr


def _client_credentials(gateway: Gateway, app: dict[str, Any]) -> httpx.Response:
    return http_client.post(
        f"{gateway.issuer}/token",
        auth=(app["client_id"], app["client_secret"]),
        data={"grant_type": "client_credentials"},
    )


def _until(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    """True once `check` holds; the client cache may serve a registration for a few seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return check()


def test_a_disabled_client_gets_nothing_until_enabled_again(gateway: Gateway) -> None:
    app = gateway.command_json(
        "clients",
        "add",
        "--name",
        "Suspended office",
        "--grant-type",
        "client_credentials",
    )
    assert _client_credentials(gateway, app).status_code == 200
    disabled = gateway.command_json("clients", "disable", app["client_id"])
    assert disabled["disabled"] is True
    assert _until(lambda: _client_credentials(gateway, app).status_code == 401)
    listed = {c["client_id"]: c for c in gateway.command_json("clients", "list")}
    assert listed[app["client_id"]]["disabled"] is True
    gateway.command_json("clients", "enable", app["client_id"])
    assert _until(lambda: _client_credentials(gateway, app).status_code == 200)
    unknown = gateway.command("clients", "disable", "no-such-client", check=False)
    assert unknown.returncode == 2 and "no agency application" in unknown.stderr
