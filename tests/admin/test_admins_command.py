"""`idp admins grant | revoke | list`: roles held by accounts, each change an access log event."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import add_citizen
from tests.gateway_process import Gateway


def _log_size(gateway: Gateway) -> int:
    return int(gateway.command_json("audit", "sequence")["tree_size"])


def _role_events_since(gateway: Gateway, tmp_path: Path, since: int) -> list[tuple[str, list[str]]]:
    """The role changes logged from entry `since` on (bundles carry no subjects, so they are
    picked by position; the tests on one gateway run one after the other)."""
    bundle = tmp_path / "log.json"
    _log_size(gateway)
    gateway.command("audit", "export", "--output", str(bundle), "--since", str(since))
    return [
        (entry["event_type"], entry["detail"]["roles"])
        for entry in json.loads(bundle.read_text())["entries"]
        if entry["event_type"].startswith("admin_roles.") and entry["log_index"] >= since
    ]


def test_roles_are_granted_listed_and_revoked_and_each_change_is_logged(
    gateway: Gateway, tmp_path: Path
) -> None:
    person = add_citizen(gateway)
    since = _log_size(gateway)
    granted = gateway.idp_json(
        "admins", "grant", "--username", person.username, "--role", "auditor", "--role", "support"
    )
    assert granted == {"username": person.username, "granted": ["auditor", "support"]}
    again = gateway.command_json(
        "admins", "grant", "--username", person.username, "--role", "auditor"
    )
    assert again["granted"] == []  # held already: nothing changes, nothing is logged
    listed = {a["username"]: a for a in gateway.command_json("admins", "list")}
    assert listed[person.username] == {
        "username": person.username,
        "subject": person.subject,
        "roles": ["auditor", "support"],
    }
    revoked = gateway.idp_json(
        "admins", "revoke", "--username", person.username, "--role", "support", "--role", "security"
    )
    assert revoked["revoked"] == ["support"]  # security was never held
    listed = {a["username"]: a for a in gateway.command_json("admins", "list")}
    assert listed[person.username]["roles"] == ["auditor"]
    assert _role_events_since(gateway, tmp_path, since) == [
        ("admin_roles.granted", ["auditor", "support"]),
        ("admin_roles.revoked", ["support"]),
    ]
    gateway.command_json("admins", "revoke", "--username", person.username, "--role", "auditor")
    assert person.username not in {a["username"] for a in gateway.command_json("admins", "list")}


def test_unknown_accounts_and_roles_are_refused(gateway: Gateway) -> None:
    nobody = gateway.idp(
        "admins", "grant", "--username", "no-such-account", "--role", "auditor", check=False
    )
    assert nobody.returncode == 2 and "no account named 'no-such-account'" in nobody.stderr
    person = add_citizen(gateway)
    wrong = gateway.idp(
        "admins", "grant", "--username", person.username, "--role", "root", check=False
    )
    assert wrong.returncode == 2 and "invalid choice: 'root'" in wrong.stderr
    assert person.username not in {a["username"] for a in gateway.command_json("admins", "list")}
