"""Several processes append to one log at once, each also taking sequencer turns: no entry is
lost or numbered twice, and the tree verifies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.gateway_process import (
    IDP_COMMAND,
)

WRITERS = 4
ENTRIES_EACH = 150


def test_concurrent_writers_and_sequencers(empty_database_url: str, tmp_path: Path) -> None:
    issuer = "http://localhost:9"
    env = {
        **os.environ,
        "IDP_DATABASE_URL": empty_database_url,
        "IDP_KEYS_DIR": str(tmp_path / "keys"),
        "IDP_ISSUER": issuer,
    }
    for args in (["db", "upgrade"], ["keys", "list"]):
        subprocess.run([*IDP_COMMAND, *args], env=env, check=True, capture_output=True, timeout=60)
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.log_writer",
                empty_database_url,
                str(tmp_path / "keys"),
                issuer,
                f"writer-{n}",
                str(ENTRIES_EACH),
            ],
            stderr=subprocess.PIPE,
        )
        for n in range(WRITERS)
    ]
    for writer in writers:
        _, errors = writer.communicate(timeout=180)
        assert writer.returncode == 0, errors.decode()
    subprocess.run(
        [*IDP_COMMAND, "audit", "sequence"], env=env, check=True, capture_output=True, timeout=60
    )
    verified = subprocess.run(
        [*IDP_COMMAND, "audit", "verify"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            rows = (
                connection.execute(
                    text("SELECT log_index FROM access_events WHERE event_type = 'test.appended'")
                )
                .scalars()
                .all()
            )
            total = connection.execute(text("SELECT count(*) FROM access_events")).scalar_one()
            indexes = (
                connection.execute(text("SELECT log_index FROM access_events ORDER BY log_index"))
                .scalars()
                .all()
            )
            tree_size = connection.execute(text("SELECT tree_size FROM log_state")).scalar_one()
    finally:
        engine.dispose()
    assert len(rows) == WRITERS * ENTRIES_EACH
    assert None not in rows
    assert indexes == list(range(total)) and tree_size == total
