"""The keyring: which signing keys exist, which one signs now, which are published in the JWKS.

Rotation is publish-before-use: a new key appears in the JWKS `key_publish_lead` before it signs
anything, so relying parties with a cached JWKS already know it. A superseded key stays published
until every token it signed has expired. Both rules are pure functions of the keyring and a clock.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from idp.keys.jose import SUPPORTED_ALGORITHMS, SigningKey, generate_signing_key, load_signing_key

KEYRING_FILE = "keyring.json"


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    alg: str
    created_at: datetime
    activates_at: datetime

    def to_json(self) -> dict[str, str]:
        return {
            "kid": self.kid,
            "alg": self.alg,
            "created_at": self.created_at.isoformat(),
            "activates_at": self.activates_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> KeyRecord:
        return cls(
            kid=data["kid"],
            alg=data["alg"],
            created_at=datetime.fromisoformat(data["created_at"]),
            activates_at=datetime.fromisoformat(data["activates_at"]),
        )


@dataclass(frozen=True)
class KeyStatus:
    record: KeyRecord
    state: str  # "next", "active", "retiring" (published, no longer signing) or "expired"
    superseded_at: datetime | None
    unpublish_at: datetime | None


def key_statuses(
    records: list[KeyRecord], *, now: datetime, retention: timedelta
) -> list[KeyStatus]:
    """The state of every key at `now`. `retention` is the longest lifetime of a signed token."""
    statuses = []
    for record in records:
        newer = sorted(
            (
                r.activates_at
                for r in records
                if r.alg == record.alg
                and r.activates_at > record.activates_at
                and r.activates_at <= now
            ),
        )
        superseded_at = newer[0] if newer else None
        unpublish_at = superseded_at + retention if superseded_at else None
        if record.activates_at > now:
            state = "next"
        elif superseded_at is None:
            state = "active"
        elif unpublish_at is not None and unpublish_at > now:
            state = "retiring"
        else:
            state = "expired"
        statuses.append(KeyStatus(record, state, superseded_at, unpublish_at))
    return statuses


def new_kid(alg: str, now: datetime) -> str:
    return f"{alg.lower()}-{now:%Y%m%d}-{secrets.token_hex(4)}"


class Keyring:
    """Signing keys stored in a folder shared by every node: PEM files (0600) plus keyring.json.

    Nodes notice a rotation done by `idp keys rotate` without a restart: the manifest is re-read
    when its modification time changes (checked at most once a second).
    """

    def __init__(
        self,
        directory: Path,
        *,
        retention: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self.retention = retention
        self.clock = clock
        self._lock = threading.Lock()
        self._loaded_mtime: float | None = None
        self._checked_at = 0.0
        self._records: list[KeyRecord] = []
        self._keys: dict[str, SigningKey] = {}
        self._generation = 0  # counts manifest loads: a new load ends every cached view
        self._view: _KeyView | None = None

    # -- creation and rotation (operator commands and first start) --

    def ensure_initial_keys(self) -> list[KeyRecord]:
        """Create one key per supported algorithm when the keyring has none (first start)."""
        with self._manifest_lock():
            records = self._read_manifest()
            created = []
            now = self.clock()
            for alg in SUPPORTED_ALGORITHMS:
                if not any(r.alg == alg for r in records):
                    created.append(self._create_key(alg, now=now, activates_at=now))
            if created:
                self._write_manifest(records + created)
            return created

    def rotate(
        self, *, publish_lead: timedelta, algorithms: tuple[str, ...] = SUPPORTED_ALGORITHMS
    ) -> list[KeyRecord]:
        """Add a new key per algorithm that starts signing after `publish_lead`."""
        with self._manifest_lock():
            records = self._read_manifest()
            now = self.clock()
            created = [
                self._create_key(alg, now=now, activates_at=now + publish_lead)
                for alg in algorithms
            ]
            self._write_manifest(records + created)
            return created

    def statuses(self) -> list[KeyStatus]:
        return list(self._current_view().statuses)

    # -- use (every request) --

    def signing_key(self, alg: str) -> SigningKey:
        """The key that signs `alg` tokens now."""
        key = self._current_view().signing.get(alg)
        if key is None:
            raise LookupError(f"no active {alg} signing key; run `idp keys rotate`")
        return key

    def verification_keys(self) -> list[SigningKey]:
        """Keys whose signatures are still accepted: the published ones."""
        return list(self._current_view().verification)

    def historical_keys(self) -> list[SigningKey]:
        """Every key the keyring ever held, expired ones too: signed statements that must stay
        checkable for years (access log checkpoints) are verified against these."""
        self._refresh()
        return list(self._keys.values())

    def jwks_document(self) -> bytes:
        """The JWKS as published now (serialized once per change of the published keys)."""
        return self._current_view().jwks

    def _current_view(self) -> _KeyView:
        """Which key does what at the clock's `now`. Every key changes state only at a known
        moment (its activation, its unpublishing), so one view holds until the next such moment
        or the next manifest load; requests in between reuse it."""
        self._refresh()
        now = self.clock()
        view = self._view
        if view is None or not view.holds(generation=self._generation, now=now):
            view = _KeyView.build(
                self._records,
                self._keys,
                generation=self._generation,
                now=now,
                retention=self.retention,
            )
            self._view = view
        return view

    # -- storage --

    def _refresh(self) -> None:
        monotonic = time.monotonic()
        if self._loaded_mtime is not None and monotonic - self._checked_at < 1.0:
            return
        with self._lock:
            self._checked_at = monotonic
            path = self.directory / KEYRING_FILE
            try:
                mtime = path.stat().st_mtime_ns
            except FileNotFoundError:
                mtime = -1
            if mtime == self._loaded_mtime:
                return
            records = self._read_manifest()
            keys = {}
            for record in records:
                pem = (self.directory / f"{record.kid}.pem").read_bytes()
                keys[record.kid] = load_signing_key(pem=pem, alg=record.alg, kid=record.kid)
            self._records, self._keys, self._loaded_mtime = records, keys, mtime
            self._generation += 1

    def _create_key(self, alg: str, *, now: datetime, activates_at: datetime) -> KeyRecord:
        kid = new_kid(alg, now)
        key = generate_signing_key(alg=alg, kid=kid)
        path = self.directory / f"{kid}.pem"
        # O_EXCL + 0600: the private key is never readable by others, not even for an instant.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.private_pem())
        return KeyRecord(kid=kid, alg=alg, created_at=now, activates_at=activates_at)

    def _read_manifest(self) -> list[KeyRecord]:
        path = self.directory / KEYRING_FILE
        if not path.exists():
            return []
        data = json.loads(path.read_text())
        return [KeyRecord.from_json(item) for item in data["keys"]]

    def _write_manifest(self, records: list[KeyRecord]) -> None:
        path = self.directory / KEYRING_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"keys": [r.to_json() for r in records]}, indent=2))
        os.replace(temporary, path)
        self._loaded_mtime = None

    @contextmanager
    def _manifest_lock(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)


@dataclass(frozen=True)
class _KeyView:
    """The keyring's answers between two moments at which some key changes state."""

    generation: int
    valid_from: datetime | None
    valid_until: datetime | None
    statuses: tuple[KeyStatus, ...]
    signing: dict[str, SigningKey]
    verification: tuple[SigningKey, ...]
    jwks: bytes

    def holds(self, *, generation: int, now: datetime) -> bool:
        return (
            generation == self.generation
            and (self.valid_from is None or self.valid_from <= now)
            and (self.valid_until is None or now < self.valid_until)
        )

    @classmethod
    def build(
        cls,
        records: list[KeyRecord],
        keys: dict[str, SigningKey],
        *,
        generation: int,
        now: datetime,
        retention: timedelta,
    ) -> _KeyView:
        statuses = key_statuses(records, now=now, retention=retention)
        # The moments at which any key's state changes: activations and unpublishing.
        moments = {r.activates_at for r in records} | {
            s.unpublish_at for s in statuses if s.unpublish_at is not None
        }
        past = [m for m in moments if m <= now]
        future = [m for m in moments if m > now]
        published = [s for s in statuses if s.state in ("next", "active", "retiring")]
        signing: dict[str, SigningKey] = {}
        for status in statuses:  # the first active key of an algorithm signs
            if status.state == "active":
                signing.setdefault(status.record.alg, keys[status.record.kid])
        return cls(
            generation=generation,
            valid_from=max(past) if past else None,
            valid_until=min(future) if future else None,
            statuses=tuple(statuses),
            signing=signing,
            verification=tuple(keys[s.record.kid] for s in published),
            jwks=json.dumps(
                {"keys": [keys[s.record.kid].public_jwk() for s in published]},
                separators=(",", ":"),
            ).encode(),
        )
