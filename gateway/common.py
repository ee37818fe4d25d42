"""What every command of the `idp` command line shares: the clock, the database, the embedded
default's first-run preparation, and printing results."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from gateway.schema import upgrade_database
from idp.database import Database, create_database_engine
from idp.settings import IdpSettings
from idp.signing_keys import Keyring


def build_keyring(settings: IdpSettings) -> Keyring:
    return Keyring(settings.keys_dir, retention=settings.longest_token_lifetime)


def now_utc() -> datetime:
    return datetime.now(UTC)


def database_for(settings: IdpSettings) -> Database:
    return Database(create_database_engine(settings.database_url))


def is_embedded(settings: IdpSettings) -> bool:
    return settings.database_url.startswith("sqlite")


def prepare_embedded(settings: IdpSettings) -> None:
    """On the embedded default every command works in a fresh folder: apply the migrations.
    (Commands that sign or list keys create the keyring themselves.)"""
    if is_embedded(settings):
        upgrade_database(settings.database_url)


def print_result(data: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, indent=2, default=str))
    elif isinstance(data, list):
        for item in data:
            print("  ".join(f"{k}={v}" for k, v in item.items()))
    else:
        for key, value in data.items():
            print(f"{key}: {value}")
