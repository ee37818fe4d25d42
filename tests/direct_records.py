"""Clients and citizens for gateways known by their database URL alone (the outage and fuzz
tests start theirs themselves): the builders of tests/builders.py with `register_client`'s and
`create_account`'s keywords."""

from __future__ import annotations

import secrets
from typing import Any

from gateway.cli import add_account, add_client
from gateway.command_runtime import now_utc
from tests.builders import CitizenAccount, DatabaseOnly, _write
from tests.citizen import AppClient


def add_app(database_url: str, *, redirect_uris: list[str], **options: Any) -> AppClient:
    data = _write(
        DatabaseOnly(database_url),
        lambda session: add_client(
            session,
            redirect_uris=redirect_uris,
            now=now_utc(),
            issuer=DatabaseOnly(database_url).issuer,
            **options,
        ),
    )
    return AppClient(data["client_id"], data.get("client_secret"), redirect_uris)


def add_person(database_url: str, **claims: Any) -> CitizenAccount:
    username = f"citizen-{secrets.token_hex(4)}"
    password = f"pw-{secrets.token_urlsafe(18)}"
    data = _write(
        DatabaseOnly(database_url),
        lambda session: add_account(
            session, username=username, password=password, now=now_utc(), **claims
        ),
    )
    return CitizenAccount(username, password, data["subject"])
