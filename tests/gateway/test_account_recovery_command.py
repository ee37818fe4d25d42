"""`idp users activation-code`: an operator gives a citizen a one-time code, which then sets a new
password on the activation page; the issue is logged as support's is. And `idp users add`
applies the password policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from idp.activation import normalize_code
from tests.citizen import Browser, hidden_fields
from tests.conftest import add_citizen
from tests.database_rows import logged, run_sql
from tests.gateway_process import Gateway

NEW_PASSWORD = "kaks kassi aknal"


def _activate(gateway: Gateway, username: str, code: str, password: str) -> httpx.Response:
    with Browser(gateway.issuer) as browser:
        page = browser.http.get(f"{gateway.issuer}/account/activate")
        return browser.http.post(
            f"{gateway.issuer}/account/activate",
            data={
                **hidden_fields(page.text),
                "username": username,
                "code": code,
                "password": password,
                "password_again": password,
            },
        )


def _signs_in(gateway: Gateway, username: str, password: str) -> bool:
    with Browser(gateway.issuer) as browser:
        start = browser.http.get(f"{gateway.issuer}/account/sign-in")
        page = browser.http.get(gateway.issuer + start.headers["location"])
        answer = browser.http.post(
            f"{gateway.issuer}/sign-in",
            data={**hidden_fields(page.text), "username": username, "password": password},
        )
        return answer.status_code == 303


def test_the_code_printed_sets_a_new_password_once_and_its_issue_is_logged(
    gateway: Gateway,
) -> None:
    person = add_citizen(gateway)
    before = datetime.now(UTC)
    issued = gateway.idp_json("users", "activation-code", "--username", person.username.upper())
    assert set(issued) == {"username", "code", "expires_at"}
    assert issued["username"] == person.username
    assert normalize_code(issued["code"]) is not None
    expires_at = datetime.fromisoformat(issued["expires_at"])
    assert before + timedelta(hours=71) < expires_at <= datetime.now(UTC) + timedelta(hours=72)
    [entry] = logged(gateway, "activation_code.issued", person.subject)
    assert entry["actor_id"].endswith("(command line)")
    assert entry["detail"] == {
        "reason": "Account recovery requested from an operator at the command line",
        "expires_at": issued["expires_at"],
    }
    assert issued["code"] not in json.dumps(entry)  # never the code itself

    done = _activate(gateway, person.username, issued["code"], NEW_PASSWORD)
    assert "Your new password is set" in done.text
    assert _signs_in(gateway, person.username, NEW_PASSWORD)
    assert not _signs_in(gateway, person.username, person.password)
    again = _activate(gateway, person.username, issued["code"], "kolm koera õues")
    assert "the code no longer works" in again.text  # used up


def test_a_new_code_replaces_the_old_one_and_the_text_output_names_all_three(
    gateway: Gateway,
) -> None:
    person = add_citizen(gateway)
    first = gateway.command_json("users", "activation-code", "--username", person.username)
    printed = gateway.command(
        "users", "activation-code", "--username", person.username, "--reason", "  Phoned in  "
    ).stdout
    lines = dict(line.split(": ", 1) for line in printed.splitlines())
    assert set(lines) == {"username", "code", "expires_at"} and lines["code"] != first["code"]
    reasons = [
        entry["detail"]["reason"]
        for entry in logged(gateway, "activation_code.issued", person.subject)
    ]
    assert sorted(reasons) == sorted(
        ["Account recovery requested from an operator at the command line", "Phoned in"]
    )
    stale = _activate(gateway, person.username, first["code"], NEW_PASSWORD)
    assert "the code no longer works" in stale.text
    assert "Your new password is set" in (
        _activate(gateway, person.username, lines["code"], NEW_PASSWORD).text
    )


def test_unknown_and_locked_accounts_get_no_code(gateway: Gateway) -> None:
    nobody = gateway.idp(
        "users", "activation-code", "--username", "nobody-by-this-name", check=False
    )
    assert nobody.returncode == 2 and "no citizen account named" in nobody.stderr
    person = add_citizen(gateway)
    run_sql(
        gateway,
        "UPDATE accounts SET disabled_at = :t WHERE username = :u",
        t=datetime.now(UTC),
        u=person.username,
    )
    locked = gateway.command("users", "activation-code", "--username", person.username, check=False)
    assert locked.returncode == 2 and "the account is locked" in locked.stderr
    blank = gateway.command(
        "users", "activation-code", "--username", person.username, "--reason", " ", check=False
    )
    assert blank.returncode == 2 and "a reason is required" in blank.stderr
    assert logged(gateway, "activation_code.issued", person.subject) == []


def test_users_add_refuses_a_guessable_password(gateway: Gateway) -> None:
    for password, named in (
        ("passwordpassword", "repeats or sequences"),
        ("1qaz2wsx3edc4rfv", "commonly used or leaked"),
        ("liis.lepp.liis.lepp", "contains the username"),
    ):
        refused = gateway.idp(
            "users",
            "add",
            "--username",
            "liis.lepp",
            "--password-stdin",
            stdin=f"{password}\n",
            check=False,
        )
        assert refused.returncode == 2 and named in refused.stderr, refused.stderr
    assert "liis.lepp" not in {u["username"] for u in gateway.command_json("users", "list")}
