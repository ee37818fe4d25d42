"""Checking the access log end to end: every entry against its hashes, the tree against every
signed checkpoint, every entry covered by one. The same check runs on the database and on an
exported bundle.

The first damage found is reported with the entry it concerns:
- altered: the entry's content (or personal fields) no longer match what was logged;
- reordered: the entry is not at the position it was logged at;
- deleted: an index is missing; inserted: two entries claim one index;
- truncated: signed checkpoints cover entries that are gone;
- unsigned: entries no signed checkpoint covers (their hashes vouch for nothing: anyone can
  recompute them), except the database's newest while the sequencer is still due to sign them;
- issuer: a checkpoint names an issuer other than the log's at its place, or the log's issuer
  history (its issuer.moved entries) does not hold together;
- checkpoint: a checkpoint is not signed by the gateway's keys, or disagrees with the entries.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from idp.keys.jose import SigningKey
from transparency.checkpoints import Checkpoint, InvalidCheckpoint, read_checkpoint
from transparency.entries import (
    ISSUER_MOVED,
    PERSONAL_FIELDS,
    content_hash,
    leaf_data,
    personal_commitment,
    public_content,
)
from transparency.merkle import CompactRange, leaf_hash

PROGRESS_EVERY = 50_000


@dataclass(frozen=True)
class Damage:
    kind: str
    log_index: int | None
    message: str


@dataclass
class AuditReport:
    entries_checked: int = 0
    checkpoints_checked: int = 0
    tree_size: int = 0
    root_hash: str = ""
    damage: Damage | None = None
    # The newest entries no checkpoint covers yet, accepted under an UnsignedTailAllowance.
    unsigned_entries: int = 0
    # The issuers the log was signed under, oldest first (more than one after a move).
    issuers: list[str] = field(default_factory=list)
    # Every checkpoint read, by tree size (signatures checked).
    checkpoints: list[Checkpoint] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.damage is None


@dataclass(frozen=True)
class LoggedEntry:
    """An entry as stored: public fields, personal fields (None once erased), and its hashes."""

    log_index: int
    fields: Mapping[str, Any]
    personal_salt: str | None
    personal_commitment: str
    content_hash: str
    leaf_hash: str | None
    pruned: bool = False


@dataclass(frozen=True)
class UnsignedTailAllowance:
    """How long the database's newest entries may wait for a checkpoint: the sequencer signs
    every tree it grows within its interval, so a tail is only legitimate while the newest
    checkpoint is younger than `max_age` (a few intervals) at `now`. A verifier reading the
    checkpoints, then the entries, sees such a tail when a turn commits in between."""

    now: datetime
    max_age: timedelta


def verify_log(
    entries: Iterable[LoggedEntry],
    signed_checkpoints: Sequence[str],
    *,
    keys: Sequence[SigningKey],
    issuer: str | None,
    start: CompactRange | None = None,
    recorded_issuers: Mapping[str, str] | None = None,
    unsigned_tail: UnsignedTailAllowance | None = None,
    progress: Callable[[int], None] | None = None,
) -> AuditReport:
    """Stream `entries` (ordered by log_index, starting at `start.size`) and check them against
    the checkpoints. `start` is the frontier before the first entry (a bundle made `--since`).

    `issuer` is the log's issuer now: each checkpoint must name the issuer of its place in the
    log, which only issuer.moved entries change. `recorded_issuers` (signed checkpoint -> the
    issuer stored beside it) are held to what the checkpoints say. Without `unsigned_tail`
    every entry must be covered by a checkpoint."""
    report = AuditReport()
    checkpoints = _read_checkpoints(
        signed_checkpoints, keys=keys, recorded=recorded_issuers, report=report
    )
    if checkpoints is None:
        return report
    # A copy: the caller's frontier stays the one before the first entry.
    compact = CompactRange.from_hashes(start.size, start.to_hashes()) if start else CompactRange()
    tree = _CheckedTree(compact, checkpoints, report)
    first_index = tree.compact.size
    if not tree.check_checkpoints():
        return report
    for entry in entries:
        damage = _check_entry(entry, expected_index=tree.compact.size)
        if damage is None and entry.fields.get("event_type") == ISSUER_MOVED:
            damage = tree.history.moved(entry)
        if damage is not None:
            report.damage = damage
            return report
        assert entry.leaf_hash is not None
        tree.compact.append(bytes.fromhex(entry.leaf_hash))
        report.entries_checked += 1
        if progress is not None and report.entries_checked % PROGRESS_EVERY == 0:
            progress(report.entries_checked)
        if not tree.check_checkpoints():
            return report
    report.tree_size = tree.compact.size
    report.root_hash = tree.compact.root().hex()
    if tree.pending:
        missing_from = tree.compact.size
        report.damage = Damage(
            "truncated",
            missing_from,
            f"the log ends after {missing_from} entries but a signed checkpoint covers "
            f"{tree.pending[-1].tree_size}: entries from index {missing_from} on were removed",
        )
        return report
    report.damage = _check_coverage(
        tree.newest, first_index, tree.compact.size, unsigned_tail, report
    )
    report.damage = report.damage or tree.history.unrecorded_change()
    current = tree.history.current
    if report.damage is None and issuer is not None and current not in (None, issuer):
        report.damage = Damage(
            "issuer",
            None,
            f"the log is signed as {current}, not as {issuer}: the gateway's issuer changed "
            "without `idp issuer move`, or these checkpoints are another log's",
        )
    return report


def _check_coverage(
    newest: Checkpoint | None,
    first_index: int,
    size: int,
    allowance: UnsignedTailAllowance | None,
    report: AuditReport,
) -> Damage | None:
    """Entries no checkpoint covers prove nothing (their hashes are unkeyed): damage, unless
    they are the database's newest and the sequencer is still due to sign them."""
    first_unsigned = newest.tree_size if newest is not None else first_index
    unsigned = size - first_unsigned
    if unsigned <= 0:
        return None
    span = (
        f"entries {first_unsigned} to {size - 1} ({unsigned}) are"
        if unsigned > 1
        else f"entry {size - 1} is"
    )
    if newest is None:
        return Damage(
            "unsigned",
            first_unsigned,
            f"{span} covered by no signed checkpoint: "
            + (
                f"every one there is covers fewer than {first_unsigned} entries"
                if report.checkpoints
                else "there is none"
            ),
        )
    if allowance is None:
        return Damage(
            "unsigned",
            first_unsigned,
            f"{span} covered by no signed checkpoint: the newest covers {newest.tree_size} entries",
        )
    signed_at = datetime.fromtimestamp(newest.timestamp, UTC)
    if allowance.now - signed_at > allowance.max_age:
        return Damage(
            "unsigned",
            first_unsigned,
            f"{span} covered by no signed checkpoint, and the newest (of "
            f"{newest.tree_size} entries) was signed at {signed_at.isoformat()}, longer ago "
            f"than the sequencer allows ({allowance.max_age.total_seconds():g} s): "
            "checkpoints were removed or the sequencer does not sign",
        )
    report.unsigned_entries = unsigned
    return None


class _IssuerHistory:
    """The log's issuer as the stream goes: the first checkpoint (or move) sets it, and only an
    issuer.moved entry changes it. A move is placed and signed in one turn, so every checkpoint
    before the entry names the old issuer and every one after it the new.

    Before moves were placed, a node could simply start under another issuer; migration 0007
    recorded each such change afterwards, as an issuer.moved entry that names the size of the
    first checkpoint under the new issuer (`tree_size`). Such a change is accepted when its
    record follows."""

    def __init__(self, issuers: list[str]) -> None:
        self.issuers = issuers  # the report's list, filled in here
        self.current: str | None = None
        self.first_size: int | None = None  # the first checkpoint's: changes before it are moot
        self.unrecorded: list[tuple[int, str, str]] = []  # (tree_size, from, to)

    def signed(self, checkpoint: Checkpoint) -> None:
        if self.current is None:
            self.first_size = checkpoint.tree_size
        elif checkpoint.issuer != self.current:
            self.unrecorded.append((checkpoint.tree_size, self.current, checkpoint.issuer))
        else:
            return
        self.current = checkpoint.issuer
        self.issuers.append(checkpoint.issuer)

    def moved(self, entry: LoggedEntry) -> Damage | None:
        index = entry.log_index
        detail = entry.fields.get("detail")
        detail = detail if isinstance(detail, Mapping) else {}
        old, new, at = detail.get("from"), detail.get("to"), detail.get("tree_size")
        if not isinstance(old, str) or not isinstance(new, str):
            return Damage("issuer", index, f"entry {index} moves the issuer without naming both")
        if at is not None:  # the record of an earlier change (migration 0007)
            if (at, old, new) in self.unrecorded:
                self.unrecorded.remove((at, old, new))
            elif self.first_size is None or not isinstance(at, int) or at > self.first_size:
                return Damage(
                    "issuer",
                    index,
                    f"entry {index} records a move from {old} to {new} at the checkpoint of "
                    f"{at} entries, which no checkpoint shows",
                )
            return None
        if self.current is not None and old != self.current:
            return Damage(
                "issuer",
                index,
                f"entry {index} moves the log from {old}, but it was signed as {self.current}",
            )
        if self.current is None:
            self.issuers.append(old)
        self.current = new
        self.issuers.append(new)
        return None

    def unrecorded_change(self) -> Damage | None:
        if not self.unrecorded:
            return None
        size, old, new = self.unrecorded[0]
        return Damage(
            "issuer",
            None,
            f"the checkpoint of {size} entries names issuer {new}, but the log was signed as "
            f"{old} before it, and no issuer.moved entry records the move",
        )


def _read_checkpoints(
    signed: Sequence[str],
    *,
    keys: Sequence[SigningKey],
    recorded: Mapping[str, str] | None,
    report: AuditReport,
) -> list[Checkpoint] | None:
    checkpoints = []
    for position, token in enumerate(signed):
        try:
            # The issuer is checked in the stream: it depends on the checkpoint's place.
            checkpoint = read_checkpoint(token, keys=keys, issuer=None)
        except InvalidCheckpoint as error:
            report.damage = Damage(
                "checkpoint", None, f"checkpoint #{position + 1} is not valid: {error}"
            )
            return None
        if recorded is not None and recorded.get(token) != checkpoint.issuer:
            report.damage = Damage(
                "checkpoint",
                None,
                f"the checkpoint of {checkpoint.tree_size} entries is stored as signed under "
                f"{recorded.get(token)}, but it names {checkpoint.issuer}",
            )
            return None
        checkpoints.append(checkpoint)
    checkpoints.sort(key=lambda c: c.tree_size)
    report.checkpoints_checked = len(checkpoints)
    report.checkpoints = checkpoints
    return checkpoints


class _CheckedTree:
    """The tree rebuilt so far and the checkpoints still ahead of it."""

    def __init__(
        self, compact: CompactRange, checkpoints: list[Checkpoint], report: AuditReport
    ) -> None:
        self.compact = compact
        # Checkpoints of a smaller tree than the start cannot be compared with anything here.
        self.pending = deque(c for c in checkpoints if c.tree_size >= compact.size)
        self.report = report
        self.history = _IssuerHistory(report.issuers)
        self.newest: Checkpoint | None = None  # the largest checkpoint the tree matched so far

    def check_checkpoints(self) -> bool:
        """Compare the tree with every checkpoint of exactly its size; drop those checked."""
        pending = self.pending
        while pending and pending[0].tree_size == self.compact.size:
            checkpoint = pending.popleft()
            if self.compact.root().hex() != checkpoint.root_hash:
                self.report.damage = Damage(
                    "checkpoint",
                    None,
                    f"the first {checkpoint.tree_size} entries do not match the signed "
                    f"checkpoint of that size: an entry before index {checkpoint.tree_size} was "
                    "altered, inserted, deleted or reordered, or the checkpoint was replaced",
                )
                return False
            self.history.signed(checkpoint)
            self.newest = checkpoint
        return True


def _check_entry(entry: LoggedEntry, *, expected_index: int) -> Damage | None:
    index = entry.log_index
    if index > expected_index:
        return Damage("deleted", expected_index, f"entry {expected_index} is missing")
    if index < expected_index:
        return Damage("inserted", index, f"a second entry claims index {index}")
    # Past retention only the hashes remain: the tree and checkpoints still vouch for them.
    verified_content = entry.content_hash if entry.pruned else _check_content(entry)
    if isinstance(verified_content, Damage):
        return verified_content
    if entry.leaf_hash != leaf_hash(leaf_data(index, verified_content)).hex():
        return Damage(
            "reordered",
            index,
            f"entry {index} is not where it was logged (moved, or changed together with its "
            "content hash)",
        )
    return None


def _check_content(entry: LoggedEntry) -> str | Damage:
    """The entry's content hash, recomputed; damage when it differs from the logged one."""
    index = entry.log_index
    if entry.personal_salt is not None:
        personal = {name: entry.fields.get(name) for name in PERSONAL_FIELDS}
        if personal_commitment(entry.personal_salt, personal) != entry.personal_commitment:
            return Damage("altered", index, f"the personal fields of entry {index} were changed")
    recomputed = content_hash(public_content(entry.fields), entry.personal_commitment)
    if recomputed != entry.content_hash:
        return Damage("altered", index, f"entry {index} was changed after it was logged")
    return recomputed
