"""What every command of the `idp` command line shares: the clock, the database, the embedded
default's first-run preparation, the provider and an operation's context for commands that run
what a request would, and printing results."""

from __future__ import annotations

import getpass
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from consent.records import DatabaseConsentRecords
from gateway.schema import upgrade_database
from idp import events
from idp.clients import ClientCache
from idp.keys.keyring import KeyRecord, Keyring
from idp.keys.sealing import Sealer
from idp.oauth.context import OperationContext, Provider
from idp.settings import IdpSettings
from idp.storage.database import Database, create_database_engine
from transparency.access_log import DatabaseAccessLog


def operator_name() -> str:
    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):  # no name for this uid, as in some containers
        return "command line"


def now_utc() -> datetime:
    return datetime.now(UTC)


def build_keyring(settings: IdpSettings, clock: Callable[[], datetime] = now_utc) -> Keyring:
    return Keyring(settings.keys_dir, retention=settings.longest_token_lifetime, clock=clock)


@contextmanager
def command_database(settings: IdpSettings) -> Iterator[Database]:
    """The database for one command; its connections are closed when the command is done, so a
    command run from a long-lived process (a test, the console) leaves no idle connection."""
    database = Database(create_database_engine(settings.database_url))
    try:
        yield database
    finally:
        database.engine.dispose()


@contextmanager
def command_unit_of_work(settings: IdpSettings) -> Iterator[Session]:
    with command_database(settings) as database, database.unit_of_work() as session:
        yield session


def command_provider(settings: IdpSettings) -> Provider:
    """The provider's parts as a serving process has them, for commands that do what a request
    or the sign-out worker would."""
    return Provider(
        settings=settings,
        keyring=build_keyring(settings),
        access_log=DatabaseAccessLog(),
        consent=DatabaseConsentRecords(),
        clock=now_utc,
        clients=ClientCache(settings.client_cache_lifetime),
        sealer=Sealer(settings.keys_dir),
    )


def command_context(settings: IdpSettings, session: Session) -> OperationContext:
    """One command's operation, as a request's: its events name no source address, and a
    request id of its own ties them together."""
    return OperationContext(
        provider=command_provider(settings),
        session=session,
        request_id=f"command-{uuid.uuid4().hex}",
        source_address=None,
        now=now_utc(),
    )


def is_embedded(settings: IdpSettings) -> bool:
    return settings.database_url.startswith("sqlite")


def prepare_embedded(settings: IdpSettings) -> None:
    """On the embedded default every command works in a fresh folder: apply the migrations.
    (Commands that sign or list keys create the keyring themselves.)"""
    if is_embedded(settings):
        upgrade_database(settings.database_url)


def record_operator_event(session: Session, event: events.Event, *, now: datetime) -> None:
    """Log what an operator did at the command line, in the same transaction as the act. The
    actor is the operating-system account that ran the command (`operator_name()`)."""
    DatabaseAccessLog().record(session, event.occurred(now))


class KeyChange(Protocol):
    """events.signing_key_created or events.signing_key_rotated."""

    def __call__(self, *, operator: str, keys: Sequence[KeyRecord]) -> events.Event: ...


def ensure_keys_logged(settings: IdpSettings) -> None:
    """Create the first keys if there are none, and log their creation."""
    created = build_keyring(settings).ensure_initial_keys()
    if created:
        log_key_changes(settings, events.signing_key_created, created)


def log_key_changes(settings: IdpSettings, change: KeyChange, records: list[KeyRecord]) -> None:
    prepare_embedded(settings)
    now = now_utc()
    with command_unit_of_work(settings) as session:
        record_operator_event(session, change(operator=operator_name(), keys=records), now=now)


def print_result(data: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, indent=2, default=str))
    elif isinstance(data, list):
        for item in data:
            print("  ".join(f"{k}={v}" for k, v in item.items()))
    else:
        for key, value in data.items():
            print(f"{key}: {value}")
