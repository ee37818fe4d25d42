"""Agency applications and citizens made in the test process by the functions `idp clients add`
and `idp users add` run (so the access log gets `client.registered` and `account.created` as
from the command line), without paying for a new process (1-2 s) each time. The tests of the
command line itself (test_operator_cli.py) run the real command."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from gateway.cli import add_account, add_client, build_parser, client_options
from gateway.command_runtime import now_utc
from idp.protocol.assurance import EIDAS
from idp.storage.database import Database, create_database_engine
from tests.citizen import AppClient


@dataclass
class CitizenAccount:
    username: str
    password: str
    subject: str


class Target(Protocol):
    """A gateway under test: a real `idp serve` or one in this process."""

    @property
    def database_url(self) -> str: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...

    @property
    def issuer(self) -> str: ...


def _write(target: Target, work: Callable[[Any], Any]) -> Any:
    database = Database(create_database_engine(target.database_url, pool_size=1))
    try:
        with database.unit_of_work() as session:
            return work(session)
    finally:
        database.engine.dispose()


def register_app(
    target: Target, *extra: str, name: str = "Agency app", redirect_uris: list[str] | None = None
) -> AppClient:
    """`extra`: further arguments of `idp clients add` (`--public`, `--scope openid`, ...)."""
    uris = redirect_uris or [
        f"https://agency-{secrets.token_hex(3)}.example/callback",
        "https://agency.example/cb?tenant=7",
    ]
    argv = ["clients", "add", "--name", name]
    for uri in uris:
        argv += ["--redirect-uri", uri]
    # The tests' gateways keep the default `acr` vocabulary (eIDAS).
    options = client_options(build_parser().parse_args([*argv, *extra]), EIDAS)
    data = _write(
        target,
        lambda session: add_client(session, now=target.clock(), issuer=target.issuer, **options),
    )
    return AppClient(data["client_id"], data.get("client_secret"), uris)


def add_citizen(target: Target, username: str | None = None, **claims: str) -> CitizenAccount:
    username = username or f"citizen-{secrets.token_hex(4)}"
    password = f"pw-{secrets.token_urlsafe(18)}"
    fields: dict[str, Any] = dict(claims)
    if "birthdate" in fields:
        fields["birthdate"] = date.fromisoformat(fields["birthdate"])
    data = _write(
        target,
        lambda session: add_account(
            session, username=username, password=password, now=target.clock(), **fields
        ),
    )
    return CitizenAccount(username, password, data["subject"])


@dataclass(frozen=True)
class DatabaseOnly:
    """A gateway known only by its database URL, on the real clock."""

    database_url: str
    clock: Callable[[], datetime] = now_utc
    # Every gateway the tests start runs on loopback (which decides only whether a loopback
    # back-channel logout URI may be registered).
    issuer: str = "http://127.0.0.1"
