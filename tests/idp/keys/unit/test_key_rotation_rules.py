"""Publish-before-use and retire-after-expiry, as pure functions of the keyring and a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from idp.keys.keyring import KeyRecord, Keyring, key_statuses

T0 = datetime(2026, 11, 1, tzinfo=UTC)
RETENTION = timedelta(minutes=10)


def _record(kid: str, activates_at: datetime, alg: str = "ES256") -> KeyRecord:
    return KeyRecord(kid=kid, alg=alg, created_at=activates_at, activates_at=activates_at)


def _states(records: list[KeyRecord], now: datetime) -> dict[str, str]:
    return {s.record.kid: s.state for s in key_statuses(records, now=now, retention=RETENTION)}


def test_new_key_is_published_before_it_signs_and_old_key_retires_later() -> None:
    records = [_record("old", T0), _record("new", T0 + timedelta(hours=1))]
    assert _states(records, T0 + timedelta(minutes=30)) == {"old": "active", "new": "next"}
    assert _states(records, T0 + timedelta(hours=1, minutes=5)) == {
        "old": "retiring",
        "new": "active",
    }
    assert _states(records, T0 + timedelta(hours=1, minutes=11)) == {
        "old": "expired",
        "new": "active",
    }


def test_algorithms_rotate_independently() -> None:
    records = [
        _record("ec", T0),
        _record("rsa", T0, "RS256"),
        _record("ec2", T0 + timedelta(hours=1)),
    ]
    assert _states(records, T0 + timedelta(hours=2))["rsa"] == "active"


def test_keyring_files(tmp_path: Path) -> None:
    now = [T0]
    keyring = Keyring(tmp_path, retention=RETENTION, clock=lambda: now[0])
    created = keyring.ensure_initial_keys()
    assert {r.alg for r in created} == {"RS256", "ES256"}
    assert keyring.ensure_initial_keys() == []
    for record in created:
        assert (tmp_path / f"{record.kid}.pem").stat().st_mode & 0o777 == 0o600
    first = keyring.signing_key("ES256").kid
    keyring.rotate(publish_lead=timedelta(minutes=5))
    later = Keyring(tmp_path, retention=RETENTION, clock=lambda: now[0])
    assert later.signing_key("ES256").kid == first
    assert len(later.verification_keys()) == 4
    now[0] = T0 + timedelta(minutes=6)
    rotated = Keyring(tmp_path, retention=RETENTION, clock=lambda: now[0])
    assert rotated.signing_key("ES256").kid != first
    assert first in {k.kid for k in rotated.verification_keys()}
