"""`idp audit seed`: synthetic entries for test and benchmark databases, sequenced and signed so
the log still verifies, each marked synthetic, and never without being told the database is not
production."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from tests.gateway_process import run_command_here
from transparency.seeding import Population, synthetic_events

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_mix_is_realistic_repeatable_and_in_time_order() -> None:
    events = list(synthetic_events(5000, Population(citizens=300, agencies=7), now=NOW))
    assert len(events) == 5000
    times = [e.occurred_at for e in events]
    assert times == sorted(times) and times[-1] < NOW and (NOW - times[0]).days == 30
    kinds = Counter(e.event_type for e in events)
    assert kinds["sign_in.succeeded"] > kinds["sign_in.failed"] > 0 and len(kinds) >= 9
    assert len({e.subject for e in events}) > 250 and len({e.client_id for e in events}) == 7
    assert all(e.detail["synthetic"] is True for e in events)
    assert all(
        e.detail.get("method") == "pwd" for e in events if e.event_type.startswith("sign_in.")
    )
    again = list(synthetic_events(5000, Population(citizens=300, agencies=7), now=NOW))
    assert [e.request_id for e in again] == [e.request_id for e in events]


def test_seeding_refuses_without_being_told_the_database_is_not_production(
    empty_database_url: str, tmp_path: Path
) -> None:
    env = {"IDP_DATABASE_URL": empty_database_url, "IDP_KEYS_DIR": str(tmp_path / "keys")}
    refused = run_command_here(tmp_path, env, ["audit", "seed", "--entries", "10"])
    assert refused.returncode == 2 and "--not-production" in refused.stderr


def test_a_seeded_log_verifies(empty_database_url: str, tmp_path: Path) -> None:
    env = {"IDP_DATABASE_URL": empty_database_url, "IDP_KEYS_DIR": str(tmp_path / "keys")}
    run_command_here(tmp_path, env, ["db", "upgrade"])
    seeded = run_command_here(
        tmp_path, env, ["audit", "seed", "--entries", "2500", "--not-production", "--json"]
    )
    assert seeded.returncode == 0, seeded.stderr
    assert json.loads(seeded.stdout)["entries"] == 2500
    assert "sequencing [" in seeded.stderr  # the progress bar
    verified = run_command_here(tmp_path, env, ["audit", "verify"])
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "OK: 2501 entries" in verified.stdout  # and the creation of the first keys
