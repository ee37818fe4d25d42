"""The tamper-evident access log, driven through the real endpoints and the operator's command
line, on SQLite and PostgreSQL: what is recorded, that nothing secret is, signed checkpoints and
proofs checked with independent code, tampering of every kind named by `idp audit verify`, erasure,
and offline verification of an exported bundle."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pyotp
import pytest
from sqlalchemy import Engine, create_engine, text

from idp.events import EventType
from idp.keys.jose import SigningKey, load_public_keys
from tests import http_client
from tests.citizen import (
    AppClient,
    Browser,
    account_form_token,
    authorization_params,
    callback_params,
    hidden_fields,
    split_verifier,
)
from tests.conftest import (
    TAX_OFFICE_PURPOSE,
    TEST_ENV,
    CitizenAccount,
    add_citizen,
    exchange_code,
    obtain_code,
    register_app,
    signed_in_tokens,
    userinfo,
)
from tests.gateway_process import IDP_COMMAND, Gateway, free_port
from tests.logout_receiver import LogoutReceiver
from tests.soft_authenticator import SoftPasskey, as_json
from transparency.bundles import InvalidBundle, read_bundle, verify_bundle
from transparency.entries import PUBLIC_FIELDS, content_hash, leaf_data, public_content
from transparency.merkle import leaf_hash, node_hash, verify_consistency, verify_inclusion

FREE_ATTEMPTS = 5  # IDP_SIGN_IN_FREE_ATTEMPTS's default
SOURCE_ATTEMPTS = int(TEST_ENV["IDP_SIGN_IN_SOURCE_ATTEMPTS"])


def _b64(text_value: str) -> bytes:
    return base64.urlsafe_b64decode(text_value + "=" * (-len(text_value) % 4))


@pytest.fixture(scope="module")
def engine(gateway: Gateway) -> Iterator[Engine]:
    created = create_engine(gateway.env["IDP_DATABASE_URL"])
    yield created
    created.dispose()


def _sequence(gateway: Gateway) -> dict[str, Any]:
    result: dict[str, Any] = gateway.command_json("audit", "sequence")
    return result


def _verify(gateway: Gateway, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = gateway.command("audit", "verify", *args, check=False, env=env)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def activity(
    gateway: Gateway, app_a: AppClient, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Drive every kind of event through the endpoints once; remember every secret used."""
    person = add_citizen(gateway, given_name="Liis", email="liis@example.org")
    secrets_used: list[str] = [person.password, app_a.client_secret or ""]
    browser = Browser(gateway.issuer)
    try:
        tokens = signed_in_tokens(gateway, browser, app_a, person)
        secrets_used += [tokens["access_token"], tokens["refresh_token"], tokens["id_token"]]
        assert userinfo(gateway, tokens["access_token"]).status_code == 200
        auth = (app_a.client_id, app_a.client_secret)
        http_client.post(
            f"{gateway.issuer}/introspect", auth=auth, data={"token": tokens["access_token"]}
        ).raise_for_status()
        refreshed = http_client.post(
            f"{gateway.issuer}/token",
            auth=auth,
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        ).json()
        secrets_used.append(refreshed["refresh_token"])
        replay = http_client.post(
            f"{gateway.issuer}/token",
            auth=auth,
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert replay.json()["error"] == "invalid_grant"
        # An authorization code used twice: the second use revokes what the first obtained.
        code = obtain_code(browser, app_a, person)
        first = exchange_code(gateway, app_a, code)
        assert first.status_code == 200, first.text
        secrets_used += [code.params["code"], first.json()["access_token"]]
        assert exchange_code(gateway, app_a, code).json()["error"] == "invalid_grant"
        http_client.post(
            f"{gateway.issuer}/revoke", auth=auth, data={"token": refreshed["access_token"]}
        ).raise_for_status()
        # A failed sign-in and a denied consent.
        params = {
            "response_type": "code",
            "client_id": app_a.client_id,
            "redirect_uri": app_a.redirect_uri,
            "scope": "openid",
            "state": "s",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
            "prompt": "login",
        }
        page = browser.http.get(gateway.issuer + browser.authorize(params).headers["location"])
        wrong = "definitely the wrong password"
        secrets_used.append(wrong)
        browser.http.post(
            f"{gateway.issuer}/sign-in",
            data={**hidden_fields(page.text), "username": person.username, "password": wrong},
        )
        secrets_used.append(browser.http.cookies["idp-device"])
        secrets_used.append(_throttle_decisions(gateway, app_a, wrong))
    finally:
        browser.close()
    other_app = register_app(gateway, name="Statistics office")
    denier = Browser(gateway.issuer)
    try:
        request = {
            "response_type": "code",
            "client_id": other_app.client_id,
            "redirect_uri": other_app.redirect_uri,
            "scope": "openid email",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
        denier.follow_to_client(
            denier.authorize(request),
            username=person.username,
            password=person.password,
            consent="deny",
        )
        # The citizen withdraws the consent given to app_a on their account page.
        account_page = denier.http.get(f"{gateway.issuer}/account")
        withdrawn = denier.http.post(
            f"{gateway.issuer}/account/withdraw",
            data={
                "form_token": account_form_token(account_page.text),
                "client_id": app_a.client_id,
            },
        )
        assert withdrawn.status_code == 303
        # And changes their password there.
        new_password = "a fresh passphrase nobody has used"
        secrets_used.append(new_password)
        form = denier.http.get(f"{gateway.issuer}/account/password")
        changed = denier.http.post(
            f"{gateway.issuer}/account/password",
            data={
                **hidden_fields(form.text),
                "current_password": person.password,
                "password": new_password,
                "password_again": new_password,
            },
        )
        assert changed.status_code == 200 and "Your password is changed" in changed.text
    finally:
        denier.close()
    gateway.command_json("keys", "rotate")
    gateway.command_json("users", "list")
    gateway.command_json("users", "show", person.username)
    gateway.command_json(
        "admins", "grant", "--username", person.username, "--role", "auditor", "--role", "support"
    )
    gateway.command_json("admins", "revoke", "--username", person.username, "--role", "support")
    _review_through_the_admin_api(gateway, person.subject)
    secrets_used += _support_through_the_admin_api(gateway)
    secrets_used += _operations_through_the_admin_api(gateway)
    _verify_in_the_console(gateway)
    secrets_used += _sign_out_everywhere(gateway)
    secrets_used += _step_up_with_authenticators(gateway, app_a)
    secrets_used += _passkeys(gateway, app_a)
    gateway.command_json("clients", "disable", other_app.client_id)
    gateway.command_json("clients", "enable", other_app.client_id)
    gateway.command(
        "audit", "export", "--output", str(tmp_path_factory.mktemp("export") / "b.json")
    )
    # An erasure, of a citizen who only had an account created, and a prune that keeps
    # ten years, so nothing that the tests below look at is erased or pruned.
    assert gateway.command_json("audit", "erase", f"--subject={add_citizen(gateway).subject}")[
        "entries_erased"
    ]
    kept = {"IDP_LOG_RETENTION": '{"account.listed": "P3650D"}'}
    pruned = json.loads(gateway.command("audit", "prune", "--json", env=kept).stdout)["pruned"]
    assert not any(pruned.values()), pruned
    # The gateway moves to another issuer and back: the running node keeps its own.
    moved = gateway.command_json("issuer", "move", "--to", "https://id.example.gov")
    assert moved["from"] == gateway.issuer and moved["to"] == "https://id.example.gov"
    gateway.command_json("issuer", "move", "--to", gateway.issuer)
    _sequence(gateway)
    return {"person": person, "secrets": [s for s in secrets_used if s], "app_id": app_a.client_id}


def _sign_out_everywhere(gateway: Gateway) -> list[str]:
    """A citizen signed in to two apps signs out at one: the app that listens is told, the one
    that never answers is tried again and given up. Returns the tokens used."""
    receiver = LogoutReceiver(issuer=gateway.issuer, client_id="", jwks=gateway.jwks)
    listening = register_app(
        gateway, "--backchannel-logout-uri", receiver.uri, name="Listening app"
    )
    receiver.client_id = listening.client_id
    receiver.start()
    gone = f"http://127.0.0.1:{free_port()}/backchannel-logout"
    deaf = register_app(gateway, "--backchannel-logout-uri", gone, name="Deaf app")
    person = add_citizen(gateway)
    with Browser(gateway.issuer) as browser:
        tokens = signed_in_tokens(gateway, browser, listening, person)
        signed_in_tokens(gateway, browser, deaf, person)
        out = browser.http.get(
            f"{gateway.issuer}/logout", params={"id_token_hint": tokens["id_token"]}
        )
        assert "You have signed out" in out.text
    try:
        receiver.wait_for(1)
        deadline = time.monotonic() + 30
        while not any(
            row["client_id"] == deaf.client_id and row["state"] == "given_up"
            for row in gateway.command_json("logout", "deliveries")
        ):
            assert time.monotonic() < deadline, "the delivery to the deaf app was not given up"
            time.sleep(0.2)
    finally:
        receiver.stop()
    return [tokens["access_token"], tokens["refresh_token"], tokens["id_token"]]


def _step_up_with_authenticators(gateway: Gateway, app: AppClient) -> list[str]:
    """A citizen sets up an authenticator app, steps up with it, replays its code in another
    browser (refused), steps up there with a recovery code, gets new codes and removes the app.
    On the real clock: the step-up's code is the one for the step after the present one, which
    the drift window accepts whichever side of a step boundary the request lands, and which is
    later than the setup's. Returns the secret and the recovery codes."""
    person = add_citizen(gateway)

    def step_after_now(secret: str) -> str:
        totp = pyotp.TOTP(secret)
        return totp.at(time.time() + totp.interval)

    def step_up_page(browser: Browser) -> httpx.Response:
        request = split_verifier(
            authorization_params(app, acr_values="http://eidas.europa.eu/LoA/substantial")
        )[0]
        page = browser.follow_to_client(
            browser.authorize(request), username=person.username, password=person.password
        )
        assert 'action="/step-up/authenticator-app"' in page.text, page.text[:300]
        return page

    def post(browser: Browser, page: httpx.Response, method: str, **field: str) -> httpx.Response:
        form = re.search(
            rf'<form method="post" action="/step-up/{method}".*?</form>', page.text, re.S
        )
        assert form
        return browser.http.post(
            f"{gateway.issuer}/step-up/{method}", data={**hidden_fields(form[0]), **field}
        )

    with Browser(gateway.issuer) as browser, Browser(gateway.issuer) as other:
        signed_in_tokens(gateway, browser, app, person)
        setup = browser.http.get(f"{gateway.issuer}/account/authenticator-app/set-up")
        found = re.search(r'<p class="secret" id="secret">([A-Z2-7 ]+)</p>', setup.text)
        assert found, setup.text[:300]
        secret = found[1].replace(" ", "")
        enrolled = browser.http.post(
            f"{gateway.issuer}/account/authenticator-app/set-up",
            data={"form_token": account_form_token(setup.text), "code": pyotp.TOTP(secret).now()},
        )
        codes = re.findall(r"<li>([A-Z0-9-]{14})</li>", enrolled.text)
        assert len(codes) == 10, enrolled.text[:500]
        code = step_after_now(secret)
        assert (
            post(browser, step_up_page(browser), "authenticator-app", code=code).status_code == 303
        )
        page = step_up_page(other)
        assert "already been used" in post(other, page, "authenticator-app", code=code).text
        assert post(other, page, "recovery-code", recovery_code=codes[0]).status_code == 303
        renewal = browser.http.get(f"{gateway.issuer}/account/recovery-codes/new")
        renewed = browser.http.post(
            f"{gateway.issuer}/account/recovery-codes/new",
            data={"form_token": account_form_token(renewal.text)},
        )
        new_codes = re.findall(r"<li>([A-Z0-9-]{14})</li>", renewed.text)
        assert len(new_codes) == 10, renewed.text[:500]
        removal = browser.http.get(f"{gateway.issuer}/account/authenticator-app/remove")
        removed = browser.http.post(
            f"{gateway.issuer}/account/authenticator-app/remove",
            data={"form_token": account_form_token(removal.text)},
        )
        assert removed.status_code == 303, removed.text[:300]
    # Not the six-digit code: any six digits turn up by chance among the log's hex digests.
    return [secret, *codes, *new_codes, *(c.replace("-", "") for c in codes + new_codes)]


ANSWER_PARTS = ("signature", "clientDataJSON")


def _passkeys(gateway: Gateway, app: AppClient) -> list[str]:
    """A citizen adds a passkey (a software one, tests/soft_authenticator.py), renames it,
    signs in with it and no username, a copy with a lower counter is refused, and the passkey is
    removed. Returns the credential ID and the answers' signatures and client data."""
    person = add_citizen(gateway)
    passkey = SoftPasskey(origin=gateway.issuer, rp_id="localhost")

    def form(page: str, action: str) -> dict[str, str]:
        found = re.search(rf'<form method="post" action="{action}".*?</form>', page, re.S)
        assert found, page[:300]
        return hidden_fields(found[0])

    def sign_in(browser: Browser, key: SoftPasskey) -> tuple[httpx.Response, dict[str, Any]]:
        request = split_verifier(authorization_params(app))[0]
        page = browser.follow_to_client(browser.authorize(request)).text
        fields = form(page, "/sign-in/passkey")
        started = browser.http.post(f"{gateway.issuer}/sign-in/passkey/options", data=fields)
        answer = key.get(started.json()["options"])
        response = browser.http.post(
            f"{gateway.issuer}/sign-in/passkey",
            data={**fields, "ceremony": started.json()["ceremony"], "credential": as_json(answer)},
        )
        return response, answer

    with (
        Browser(gateway.issuer) as browser,
        Browser(gateway.issuer) as other,
        Browser(gateway.issuer) as third,
    ):
        signed_in_tokens(gateway, browser, app, person)
        account = browser.http.get(f"{gateway.issuer}/account").text
        fields = form(account, "/account/passkeys/add")
        started = browser.http.post(f"{gateway.issuer}/account/passkeys/options", data=fields)
        created = passkey.create(started.json()["options"])
        added = browser.http.post(
            f"{gateway.issuer}/account/passkeys/add",
            data={**fields, "ceremony": started.json()["ceremony"], "credential": as_json(created)},
        )
        assert "passkey=added" in added.headers["location"], added.text[:300]
        account = browser.http.get(f"{gateway.issuer}/account").text
        number = re.search(r'name="passkey" value="(\d+)"', account)
        assert number
        browser.http.post(
            f"{gateway.issuer}/account/passkeys/rename",
            data={"form_token": account_form_token(account), "passkey": number[1], "name": "Mine"},
        )
        response, first = sign_in(other, passkey)
        assert response.status_code == 303, response.text[:300]
        clone = SoftPasskey(
            origin=passkey.origin,
            rp_id=passkey.rp_id,
            credential_id=passkey.credential_id,
            key=passkey.key,
            user_handle=passkey.user_handle,
        )
        refused, second = sign_in(third, clone)  # its counter: 1, not above 1
        assert "could not be used to sign in" in refused.text
        removal = browser.http.get(f"{gateway.issuer}/account/passkeys/remove?passkey={number[1]}")
        removed = browser.http.post(
            f"{gateway.issuer}/account/passkeys/remove",
            data=form(removal.text, "/account/passkeys/remove"),
        )
        assert "passkey=removed" in removed.headers["location"], removed.text[:300]
    return [
        first["id"],
        *(
            answer["response"][part]
            for answer in (first, second)
            for part in ("signature", "clientDataJSON")
        ),
        created["response"]["attestationObject"],
    ]


def _review_through_the_admin_api(gateway: Gateway, subject: str) -> None:
    """An auditor's API client searches the log for the citizen and reads one entry."""
    auditor = register_app(
        gateway, "--grant-type", "client_credentials", "--scope", "admin:audit", name="Auditor"
    )
    token = http_client.post(
        f"{gateway.issuer}/token",
        auth=(auditor.client_id, auditor.client_secret or ""),
        data={"grant_type": "client_credentials", "scope": "admin:audit"},
    ).json()["access_token"]
    _sequence(gateway)
    headers = {"Authorization": f"Bearer {token}"}
    found = http_client.get(
        f"{gateway.issuer}/admin/api/v1/events", params={"subject": subject}, headers=headers
    )
    assert found.status_code == 200, found.text
    index = found.json()["items"][0]["index"]
    read = http_client.get(f"{gateway.issuer}/admin/api/v1/events/{index}", headers=headers)
    assert read.status_code == 200, read.text
    exported = http_client.get(
        f"{gateway.issuer}/admin/api/v1/events/export",
        params={"subject": subject, "format": "json"},
        headers=headers,
    )
    assert exported.status_code == 200 and exported.json(), exported.text


def _support_through_the_admin_api(gateway: Gateway) -> list[str]:
    """Support locks and unlocks a citizen of its own, ends their sessions, reads their history
    and gives them an activation code, which they try wrong once and then redeem; returns the
    code and the new password."""
    person = add_citizen(gateway)
    support = register_app(
        gateway, "--grant-type", "client_credentials", "--scope", "admin:support", name="Support"
    )
    token = http_client.post(
        f"{gateway.issuer}/token",
        auth=(support.client_id, support.client_secret or ""),
        data={"grant_type": "client_credentials", "scope": "admin:support"},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    account = f"{gateway.issuer}/admin/api/v1/accounts/{person.username}"
    why = {"reason": "The citizen phoned"}
    for what in ("lock", "unlock", "end-sessions"):
        assert http_client.post(f"{account}/{what}", json=why, headers=headers).status_code == 200
    history = http_client.get(f"{account}/history", params=why, headers=headers)
    assert history.status_code == 200, history.text
    code = http_client.post(f"{account}/activation-code", json=why, headers=headers).json()["code"]
    new_password = "a new password for the log test"
    with Browser(gateway.issuer) as browser:
        for typed in ("ABCD-EFGH-JKMN", code):
            page = browser.http.get(f"{gateway.issuer}/account/activate")
            answer = browser.http.post(
                f"{gateway.issuer}/account/activate",
                data={
                    **hidden_fields(page.text),
                    "username": person.username,
                    "code": typed,
                    "password": new_password,
                    "password_again": new_password,
                },
            )
        assert "Your new password is set" in answer.text
    return [code, code.replace("-", ""), new_password]


def _operations_through_the_admin_api(gateway: Gateway) -> list[str]:
    """An operator's API client renames an app and rotates its secret; returns the secrets."""
    operator = register_app(
        gateway, "--grant-type", "client_credentials", "--scope", "admin:operate", name="Ops"
    )
    token = http_client.post(
        f"{gateway.issuer}/token",
        auth=(operator.client_id, operator.client_secret or ""),
        data={"grant_type": "client_credentials", "scope": "admin:operate"},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    app = register_app(gateway, name="Renamed soon")
    clients = f"{gateway.issuer}/admin/api/v1/clients/{app.client_id}"
    renamed = http_client.patch(clients, json={"name": "Renamed"}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    rotated = http_client.post(
        f"{clients}/rotate-secret", json={"overlap_hours": 1}, headers=headers
    )
    assert rotated.status_code == 200, rotated.text
    return [app.client_secret or "", rotated.json()["client_secret"]]


def _verify_in_the_console(gateway: Gateway) -> None:
    """An auditor signs in to the console and verifies the whole log there."""
    auditor = add_citizen(gateway)
    gateway.command_json("admins", "grant", "--username", auditor.username, "--role", "auditor")
    with Browser(gateway.issuer) as browser:
        page = browser.follow_to_client(
            browser.http.get(f"{gateway.issuer}/admin/log/verify"),
            username=auditor.username,
            password=auditor.password,
            max_hops=16,
        )
        token = re.search(r'name="form_token" value="([^"]+)"', page.text)
        assert token, page.text
        started = browser.http.post(
            f"{gateway.issuer}/admin/log/verify", data={"form_token": token.group(1)}
        )
        assert started.status_code == 303, started.text
        run = f"{gateway.issuer}{started.headers['location']}"
        deadline = time.monotonic() + 60
        while 'data-state="running"' in (shown := browser.http.get(run).text):
            assert time.monotonic() < deadline, "the verification did not end in 60 s"
            time.sleep(0.1)  # it runs in a thread of the gateway
        assert 'data-state="intact"' in shown, shown


def _throttle_decisions(gateway: Gateway, app: AppClient, wrong: str) -> str:
    """The sign-in throttle's decisions: the username waits after failures elsewhere, the
    citizen's browser (holding its allowance) is let through, then uses its allowance up; one
    address spraying a password over many names is stopped. A citizen of its own, so no later
    sign-in of the activity depends on how long the waits last; returns the allowance cookie."""
    person = add_citizen(gateway)
    browser = Browser(gateway.issuer)
    obtain_code(browser, app, person)  # the usual browser: signed in once, holds an allowance

    def form(where: Browser) -> dict[str, str]:
        start = where.http.get(f"{gateway.issuer}/account/sign-in")
        return hidden_fields(where.http.get(gateway.issuer + start.headers["location"]).text)

    def attempt(
        where: Browser, username: str, password: str, fields: dict[str, str] | None = None
    ) -> str:
        response = where.http.post(
            f"{gateway.issuer}/sign-in",
            data={**(fields or form(where)), "username": username, "password": password},
        )
        return "signed in" if response.status_code == 303 else response.text

    with Browser(gateway.issuer, source="203.0.113.9") as attacker:
        for _ in range(FREE_ATTEMPTS):
            assert "not right" in attempt(attacker, person.username, wrong)
        assert "too many attempts" in attempt(attacker, person.username, wrong)
    request, _ = split_verifier(authorization_params(app, prompt="login"))
    response = browser.follow_to_client(
        browser.authorize(request), username=person.username, password=person.password
    )
    assert "code" in callback_params(response)
    for _ in range(FREE_ATTEMPTS):
        assert "not right" in attempt(browser, person.username, wrong)
    assert "too many attempts" in attempt(browser, person.username, person.password)
    with Browser(gateway.issuer, source="198.51.100.23") as sprayer:
        names, fields = [f"nobody-{n}" for n in range(SOURCE_ATTEMPTS)], form(sprayer)
        with ThreadPoolExecutor(max_workers=8) as pool:
            sprayed = list(pool.map(lambda name: attempt(sprayer, name, wrong, fields), names))
        assert all("not right" in answer for answer in sprayed)
        assert "from your network" in attempt(sprayer, "nobody-else", wrong)
    allowance = browser.http.cookies["idp-device"]
    browser.close()
    return allowance


def _export(
    gateway: Gateway, tmp_path: Path, *extra: str, name: str = "bundle.json"
) -> dict[str, Any]:
    path = tmp_path / name
    gateway.command("audit", "export", "--output", str(path), *extra)
    data: dict[str, Any] = json.loads(path.read_text())
    data["_path"] = str(path)
    return data


def test_every_event_is_recorded_without_secrets(
    gateway: Gateway, activity: dict[str, Any], tmp_path: Path, engine: Engine
) -> None:
    bundle = _export(gateway, tmp_path)
    kinds = {entry["event_type"] for entry in bundle["entries"]}
    # Every kind the code can write was written by the activity above, and nothing else was.
    assert set(EventType) - kinds == set()
    assert kinds - set(EventType) == set()
    throttles = {
        e["detail"]["throttle"] for e in bundle["entries"] if e["event_type"] == "sign_in.throttled"
    }
    assert throttles == {"username", "device", "source_address"}
    withdrawal = next(
        e
        for e in bundle["entries"]
        if e["event_type"] == "consent.withdrawn" and e["client_id"] == activity["app_id"]
    )
    assert "openid" in withdrawal["detail"]["scopes"]
    assert isinstance(withdrawal["detail"]["tokens_revoked"], int)
    released = [e for e in bundle["entries"] if e["event_type"] == "userinfo.answered"]
    assert any("email" in e["claims_released"] for e in released)
    # Every release of data to app_a names what went out and the purpose it registered.
    for kind in ("userinfo.answered", "token.issued", "token.introspected", "consent.given"):
        for entry in (e for e in bundle["entries"] if e["event_type"] == kind):
            if entry["client_id"] == activity["app_id"]:
                assert entry["purpose"] == TAX_OFFICE_PURPOSE, entry
    code_grants = [
        e
        for e in bundle["entries"]
        if e["event_type"] == "token.issued"
        and e["detail"]["grant_type"] == "authorization_code"
        and "openid" in e["detail"]["scope"].split()  # an ID token went out (other tests' too)
    ]
    assert code_grants and all("sub" in e["claims_released"] for e in code_grants)
    for entry in bundle["entries"]:  # each claim named once
        assert len(set(entry["claims_released"])) == len(entry["claims_released"]), entry
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM access_events")).mappings().all()
    dump = json.dumps([dict(r) for r in rows], default=str) + Path(bundle["_path"]).read_text()
    for secret in activity["secrets"]:
        assert secret not in dump
    assert activity["person"].subject not in Path(bundle["_path"]).read_text()


def test_checkpoint_and_proofs_verify_independently(
    gateway: Gateway, activity: dict[str, Any]
) -> None:
    signed = http_client.get(f"{gateway.issuer}/transparency/checkpoint")
    assert signed.status_code == 200 and signed.headers["content-type"] == "application/jwt"
    header = jwt.get_unverified_header(signed.text)
    assert header["typ"] == "checkpoint+jwt"
    published = {k["kid"]: k for k in gateway.jwks()["keys"]}
    assert header["kid"] in published  # signed by a key of the OIDC JWKS
    key = jwt.PyJWK(published[header["kid"]])
    claims = jwt.decode(signed.text, key, algorithms=["ES256"])
    size, root = claims["tree_size"], _b64(claims["root_hash"])
    assert size >= 10 and isinstance(claims["timestamp"], int)
    for index in (0, size // 2, size - 1):
        proof = http_client.get(
            f"{gateway.issuer}/transparency/proof/inclusion",
            params={"leaf_index": index, "tree_size": size},
        ).json()
        path = [_b64(h) for h in proof["audit_path"]]
        assert len(path) <= size.bit_length()
        assert verify_inclusion(_b64(proof["leaf_hash"]), index, size, path, root)
        assert not verify_inclusion(_b64(proof["leaf_hash"]), index, size, path, b"\0" * 32)
    first = size // 3
    consistency = http_client.get(
        f"{gateway.issuer}/transparency/proof/consistency", params={"first": first, "second": size}
    ).json()
    old = http_client.get(
        f"{gateway.issuer}/transparency/proof/inclusion",
        params={"leaf_index": 0, "tree_size": first},
    ).json()
    assert old["tree_size"] == first
    bad = http_client.get(
        f"{gateway.issuer}/transparency/proof/inclusion",
        params={"leaf_index": size, "tree_size": size},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"
    assert verify_consistency(
        first, size, _root_of(gateway, first), root, [_b64(h) for h in consistency["consistency"]]
    )


def _root_of(gateway: Gateway, size: int) -> bytes:
    """The root of an earlier tree size, from a leaf's inclusion proof at that size."""
    proof = http_client.get(
        f"{gateway.issuer}/transparency/proof/inclusion",
        params={"leaf_index": size - 1, "tree_size": size},
    ).json()
    value = _b64(proof["leaf_hash"])
    index, last = size - 1, size - 1
    for sibling in (_b64(h) for h in proof["audit_path"]):
        if index % 2 == 1 or index == last:
            value = node_hash(sibling, value)
            while index % 2 == 0 and index != 0:
                index >>= 1
                last >>= 1
        else:
            value = node_hash(value, sibling)
        index >>= 1
        last >>= 1
    return value


def test_database_verifies_when_untouched(gateway: Gateway, activity: dict[str, Any]) -> None:
    code, output = _verify(gateway)
    assert code == 0, output
    assert output.startswith("OK:")


@contextmanager
def _tampered(engine: Engine, do: list[str], undo: list[str]) -> Iterator[None]:
    with engine.begin() as connection:
        for statement in do:
            connection.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as connection:
            for statement in undo:
                connection.execute(text(statement))


def _entry(engine: Engine, log_index: int) -> dict[str, Any]:
    with engine.connect() as connection:
        row = (
            connection.execute(
                text("SELECT * FROM access_events WHERE log_index = :i"), {"i": log_index}
            )
            .mappings()
            .one()
        )
    return dict(row)


def test_tampering_is_named(gateway: Gateway, activity: dict[str, Any], engine: Engine) -> None:
    _sequence(gateway)
    size = int(_sequence(gateway)["tree_size"])
    victim = _entry(engine, 5)
    other = _entry(engine, 6)
    shift = 10_000_000
    cases = {
        "edit a field": (
            [f"UPDATE access_events SET outcome = 'failure' WHERE id = {victim['id']}"],
            [f"UPDATE access_events SET outcome = '{victim['outcome']}' WHERE id = {victim['id']}"],
            "(altered) at entry 5",
        ),
        "edit a personal field": (
            [f"UPDATE access_events SET source_address = '10.9.9.9' WHERE id = {victim['id']}"],
            [
                f"UPDATE access_events SET source_address = "
                f"{_sql(victim['source_address'])} WHERE id = {victim['id']}"
            ],
            "(altered) at entry 5",
        ),
        "delete a row": (
            [f"DELETE FROM access_events WHERE id = {victim['id']}"],
            [_reinsert(victim)],
            "(deleted) at entry 5",
        ),
        "insert a row": (
            # Make room at index 6 the way a forger would, then slip a copy of entry 5 in.
            [
                f"UPDATE access_events SET log_index = log_index + {shift} WHERE log_index >= 6",
                _reinsert({**victim, "id": 999_999, "log_index": 6}),
                f"UPDATE access_events SET log_index = log_index - {shift - 1} "
                f"WHERE log_index >= {shift}",
            ],
            [
                "DELETE FROM access_events WHERE id = 999999",
                f"UPDATE access_events SET log_index = log_index + {shift} WHERE log_index >= 7",
                f"UPDATE access_events SET log_index = log_index - {shift + 1} "
                f"WHERE log_index >= {shift}",
            ],
            "at entry 6",
        ),
        "swap two rows": (
            [
                f"UPDATE access_events SET log_index = -1 WHERE id = {victim['id']}",
                f"UPDATE access_events SET log_index = 5 WHERE id = {other['id']}",
                f"UPDATE access_events SET log_index = 6 WHERE id = {victim['id']}",
            ],
            [
                f"UPDATE access_events SET log_index = -1 WHERE id = {victim['id']}",
                f"UPDATE access_events SET log_index = 6 WHERE id = {other['id']}",
                f"UPDATE access_events SET log_index = 5 WHERE id = {victim['id']}",
            ],
            "(reordered) at entry 5",
        ),
    }
    for name, (do, undo, expected) in cases.items():
        with _tampered(engine, do, undo):
            code, output = _verify(gateway)
        assert code == 1, name
        assert expected in output, (name, output)
    last = _entry(engine, size - 1)
    with _tampered(
        engine, [f"DELETE FROM access_events WHERE id = {last['id']}"], [_reinsert(last)]
    ):
        code, output = _verify(gateway)
    assert code == 1 and "(truncated)" in output and f"entry {size - 1}" in output, output
    with engine.connect() as connection:
        checkpoints = connection.execute(
            text("SELECT id, signed FROM log_checkpoints ORDER BY tree_size")
        ).all()
    first_id, first_signed = checkpoints[0]
    forged = _forged_checkpoint(first_signed)
    with _tampered(
        engine,
        [f"UPDATE log_checkpoints SET signed = '{forged}' WHERE id = {first_id}"],
        [f"UPDATE log_checkpoints SET signed = '{first_signed}' WHERE id = {first_id}"],
    ):
        code, output = _verify(gateway)
    assert code == 1 and "(checkpoint)" in output, output
    assert _verify(gateway)[0] == 0  # every change above was undone


def _forged_checkpoint(signed: str) -> str:
    head, payload, signature = signed.split(".")
    claims = json.loads(_b64(payload))
    claims["tree_size"] += 1
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{body}.{signature}"


def _sql(value: object) -> str:
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def _reinsert(row: dict[str, Any]) -> str:
    columns = ", ".join(row)
    values = []
    for value in row.values():
        if isinstance(value, dict | list):
            values.append(_sql(json.dumps(value)))
        elif isinstance(value, bool) or value is None or isinstance(value, int):
            values.append("NULL" if value is None else str(int(value)))
        else:
            values.append(_sql(value))
    return f"INSERT INTO access_events ({columns}) VALUES ({', '.join(values)})"


def test_erasure_keeps_every_proof(
    gateway: Gateway, activity: dict[str, Any], engine: Engine, tmp_path: Path
) -> None:
    person: CitizenAccount = activity["person"]
    erased = gateway.command_json("audit", "erase", f"--subject={person.subject}")
    assert erased["entries_erased"] > 0
    with engine.connect() as connection:
        left = connection.execute(
            text("SELECT count(*) FROM access_events WHERE subject = :s"), {"s": person.subject}
        ).scalar_one()
    assert left == 0
    _sequence(gateway)
    code, output = _verify(gateway)
    assert code == 0, output
    bundle = _export(gateway, tmp_path)
    assert "personal_data.erased" in {e["event_type"] for e in bundle["entries"]}


def test_bundle_verifies_offline_and_fails_after_any_change(
    gateway: Gateway, activity: dict[str, Any], tmp_path: Path
) -> None:
    _sequence(gateway)
    jwks_path = tmp_path / "jwks.json"
    jwks_path.write_text(http_client.get(f"{gateway.issuer}/transparency/jwks.json").text)
    bundle_path = Path(_export(gateway, tmp_path)["_path"])
    ok = gateway.command(
        "audit", "verify", "--bundle", str(bundle_path), "--jwks", str(jwks_path), check=False
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    size = int(_sequence(gateway)["tree_size"])
    since_path = tmp_path / "since.json"
    gateway.command("audit", "export", "--output", str(since_path), "--since", str(size // 2))
    assert (
        gateway.command(
            "audit", "verify", "--bundle", str(since_path), "--jwks", str(jwks_path), check=False
        ).returncode
        == 0
    )
    tampered_path = tmp_path / "tampered.json"
    original = bundle_path.read_bytes()
    flipped = bytearray(original)
    flipped[len(original) // 2] ^= 0x01
    tampered_path.write_bytes(bytes(flipped))
    assert (
        gateway.command(
            "audit", "verify", "--bundle", str(tampered_path), "--jwks", str(jwks_path), check=False
        ).returncode
        == 1
    )
    # The same check in-process, for a byte flipped at 400 places spread over the file.
    keys = load_public_keys(json.loads(jwks_path.read_text()))
    for k in range(400):
        position = len(original) * k // 400
        changed = bytearray(original)
        changed[position] ^= 0x01
        assert not _bundle_verifies(bytes(changed), keys), (position, original[position - 9 :][:20])
    assert _bundle_verifies(original, keys)


def _bundle_verifies(data: bytes, keys: list[SigningKey]) -> bool:
    try:
        bundle = read_bundle(data.decode("utf-8"))
    except (InvalidBundle, UnicodeDecodeError):
        return False
    return verify_bundle(bundle, keys=keys).ok


def test_retention_prunes_content_but_keeps_every_proof(
    gateway: Gateway, activity: dict[str, Any], engine: Engine, tmp_path: Path
) -> None:
    _sequence(gateway)
    env = {**gateway.env, "IDP_LOG_RETENTION": '{"userinfo.answered": "PT0S"}'}
    result = subprocess.run(
        [*IDP_COMMAND, "audit", "prune", "--json"],
        env=env,
        cwd=gateway.workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pruned"]["userinfo.answered"] >= 1
    with engine.connect() as connection:
        kept = connection.execute(
            text(
                "SELECT count(*) FROM access_events WHERE event_type = 'userinfo.answered' "
                "AND log_index IS NOT NULL AND (pruned_at IS NULL OR client_id IS NOT NULL)"
            )
        ).scalar_one()
    assert kept == 0
    _sequence(gateway)
    code, output = _verify(gateway)
    assert code == 0, output
    bundle = _export(gateway, tmp_path)
    assert any(e["pruned"] for e in bundle["entries"])
    jwks_path = tmp_path / "jwks.json"
    jwks_path.write_text(http_client.get(f"{gateway.issuer}/transparency/jwks.json").text)
    assert (
        gateway.command(
            "audit", "verify", "--bundle", bundle["_path"], "--jwks", str(jwks_path), check=False
        ).returncode
        == 0
    )


def _claims(signed: str) -> dict[str, Any]:
    claims: dict[str, Any] = json.loads(_b64(signed.split(".")[1]))
    return claims


def _jwks_file(gateway: Gateway, tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(http_client.get(f"{gateway.issuer}/transparency/jwks.json").text)
    return path


def _verify_bundle_file(
    gateway: Gateway, bundle: dict[str, Any], tmp_path: Path
) -> tuple[int, str]:
    path = tmp_path / "forged.json"
    path.write_text(json.dumps({k: v for k, v in bundle.items() if k != "_path"}))
    jwks = _jwks_file(gateway, tmp_path)
    result = gateway.command(
        "audit", "verify", "--bundle", str(path), "--jwks", str(jwks), check=False
    )
    return result.returncode, result.stdout + result.stderr


def _rehash(entry: dict[str, Any]) -> None:
    """What anyone can do without the gateway's keys: recompute an entry's unkeyed hashes."""
    public = public_content({name: entry[name] for name in PUBLIC_FIELDS})
    entry["content_hash"] = content_hash(public, entry["personal_commitment"])
    entry["leaf_hash"] = leaf_hash(leaf_data(entry["log_index"], entry["content_hash"])).hex()


def test_a_bundle_whose_entries_no_checkpoint_covers_fails(
    gateway: Gateway, activity: dict[str, Any], tmp_path: Path
) -> None:
    # Three more checkpoints, each over a new entry, whatever ran on this gateway before.
    for _ in range(3):
        add_citizen(gateway)
        _sequence(gateway)
    full = _export(gateway, tmp_path)
    assert _verify_bundle_file(gateway, full, tmp_path)[0] == 0
    # Checkpoints removed, an entry rewritten and its hashes recomputed.
    forged = json.loads(json.dumps(full))
    forged["checkpoints"] = []
    victim = forged["entries"][3]
    victim["outcome"] = "failure" if victim["outcome"] == "success" else "success"
    _rehash(victim)
    code, output = _verify_bundle_file(gateway, forged, tmp_path)
    assert code == 1 and f"(unsigned) at entry {full['start_size']}:" in output, output
    # A bundle from --since left with only the checkpoints older than its first entry.
    checkpoint_sizes = sorted({_claims(c)["tree_size"] for c in full["checkpoints"]})
    since = _export(gateway, tmp_path, "--since", str(checkpoint_sizes[-2]), name="since.json")
    first = since["start_size"]
    older = [c for c in full["checkpoints"] if _claims(c)["tree_size"] < first]
    assert older and first > 0
    since["checkpoints"] = older
    code, output = _verify_bundle_file(gateway, since, tmp_path)
    assert code == 1 and f"(unsigned) at entry {first}:" in output, output


def test_an_export_runs_from_one_signed_checkpoint_to_another(
    gateway: Gateway, activity: dict[str, Any], tmp_path: Path
) -> None:
    size = int(_sequence(gateway)["tree_size"])
    bundle = _export(gateway, tmp_path, "--since", str(size // 2))
    start, entries = bundle["start_size"], bundle["entries"]
    signed = {_claims(c)["tree_size"]: _claims(c) for c in bundle["checkpoints"]}
    end = max(signed)
    # A checkpoint right before its first entry, and one that covers its last.
    assert 0 < start <= size // 2 and start in signed and entries[0]["log_index"] == start
    assert end == size == entries[-1]["log_index"] + 1 == start + len(entries)
    proof = [bytes.fromhex(h) for h in bundle["consistency_proof"]]
    first_root, last_root = (_b64(signed[n]["root_hash"]) for n in (start, end))
    assert verify_consistency(start, end, first_root, last_root, proof)
    assert _verify_bundle_file(gateway, bundle, tmp_path)[0] == 0
    bundle["consistency_proof"] = bundle["consistency_proof"][1:]
    code, output = _verify_bundle_file(gateway, bundle, tmp_path)
    assert code == 1 and "(checkpoint)" in output and "consistency proof" in output, output


@contextmanager
def _checkpoints_removed(engine: Engine, where: str) -> Iterator[int]:
    """DELETE FROM log_checkpoints WHERE ..., put back afterwards; yields how many went."""
    with engine.begin() as connection:
        rows = [
            dict(r)
            for r in connection.execute(text(f"SELECT * FROM log_checkpoints WHERE {where}"))
            .mappings()
            .all()
        ]
        connection.execute(text(f"DELETE FROM log_checkpoints WHERE {where}"))
    try:
        yield len(rows)
    finally:
        with engine.begin() as connection:
            columns = list(rows[0]) if rows else []
            if rows:
                connection.execute(
                    text(
                        f"INSERT INTO log_checkpoints ({', '.join(columns)}) "
                        f"VALUES ({', '.join(':' + c for c in columns)})"
                    ),
                    rows,
                )


def test_a_database_without_checkpoints_fails_and_is_not_signed_again(
    gateway: Gateway, activity: dict[str, Any], engine: Engine
) -> None:
    size = int(_sequence(gateway)["tree_size"])
    with _checkpoints_removed(engine, "1 = 1") as removed:
        assert removed > 0
        code, output = _verify(gateway)
        assert code == 1 and "(unsigned) at entry 0:" in output, output
        assert f"entries 0 to {size - 1} ({size})" in output, output
        # Nor does the sequencer sign what it can no longer check (the gateway's would, too).
        refused = gateway.command("audit", "sequence", check=False)
        assert refused.returncode == 1 and "no signed checkpoint" in refused.stderr
        with engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM log_checkpoints"))
            assert count.scalar_one() == 0
    assert _verify(gateway)[0] == 0


def test_the_newest_entries_may_wait_for_the_sequencer_but_not_longer(
    gateway: Gateway, activity: dict[str, Any], engine: Engine
) -> None:
    signed = int(_sequence(gateway)["tree_size"])
    gateway.command_json("users", "list")  # logged: one more entry
    size = int(_sequence(gateway)["tree_size"])
    assert size > signed
    # As if the newest checkpoints had not been signed yet (or were removed).
    with _checkpoints_removed(engine, f"tree_size > {signed}"):
        # The newest remaining checkpoint is seconds old: within 3 intervals of an hour.
        code, output = _verify(gateway, env={"IDP_LOG_SEQUENCE_INTERVAL": "3600"})
        assert code == 0, output
        assert f"the newest {size - signed} entries are not yet signed" in output, output
        # With a 1 ms interval the same checkpoint is older than the sequencer would allow.
        code, output = _verify(gateway, env={"IDP_LOG_SEQUENCE_INTERVAL": "0.001"})
        assert code == 1 and f"(unsigned) at entry {signed}:" in output, output
        assert "longer ago than the sequencer allows" in output, output
    code, output = _verify(gateway)
    assert code == 0 and "not yet signed" not in output, output
