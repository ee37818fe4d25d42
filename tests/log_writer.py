"""A gateway-like process for the concurrency test: appends access log entries, each in its own
transaction, and takes sequencer turns in between, as every gateway process does.

Usage: python -m tests.log_writer DATABASE_URL KEYS_DIR ISSUER WRITER COUNT
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from idp.keys.keyring import Keyring
from idp.ports import AccessEvent
from idp.storage.database import Database, create_database_engine
from transparency.access_log import DatabaseAccessLog
from transparency.sequencer import sequence_pending


def main(database_url: str, keys_dir: str, issuer: str, writer: str, count: int) -> None:
    database = Database(create_database_engine(database_url, pool_size=2))
    keyring = Keyring(Path(keys_dir), retention=timedelta(minutes=10))
    log = DatabaseAccessLog()
    for number in range(count):
        with database.unit_of_work() as session:
            log.record(
                session,
                AccessEvent(
                    event_type="test.appended",
                    occurred_at=datetime.now(UTC),
                    actor_type="system",
                    actor_id=writer,
                    outcome="success",
                    detail={"writer": writer, "n": number},
                ),
            )
        if number % 25 == 0:
            with database.unit_of_work() as session:
                sequence_pending(
                    session,
                    key=keyring.signing_key("ES256"),
                    verification_keys=keyring.historical_keys(),
                    issuer=issuer,
                    now=datetime.now(UTC),
                    batch_size=40,
                )
    database.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
