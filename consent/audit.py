"""Checking the access log end to end: every entry against its hashes, the tree against every
signed checkpoint. The same check runs on the database and on an exported bundle.

The first damage found is reported with the entry it concerns:
- altered: the entry's content (or personal fields) no longer match what was logged;
- reordered: the entry is not at the position it was logged at;
- deleted: an index is missing; inserted: two entries claim one index;
- truncated: signed checkpoints cover entries that are gone;
- checkpoint: a checkpoint is not signed by the gateway's keys, or disagrees with the entries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from consent.checkpoints import Checkpoint, InvalidCheckpoint, read_checkpoint
from consent.log_entries import (
    PERSONAL_FIELDS,
    content_hash,
    leaf_data,
    personal_commitment,
    public_content,
)
from consent.merkle import CompactRange, leaf_hash
from idp.jose import SigningKey

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
    notes: list[str] = field(default_factory=list)

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


def verify_log(
    entries: Iterable[LoggedEntry],
    signed_checkpoints: Sequence[str],
    *,
    keys: Sequence[SigningKey],
    issuer: str | None,
    start: CompactRange | None = None,
    progress: Callable[[int], None] | None = None,
) -> AuditReport:
    """Stream `entries` (ordered by log_index, starting at `start.size`) and check them against
    the checkpoints. `start` is the frontier before the first entry (a bundle made `--since`)."""
    report = AuditReport()
    compact = start or CompactRange()
    checkpoints = _read_checkpoints(signed_checkpoints, keys=keys, issuer=issuer, report=report)
    if checkpoints is None:
        return report
    pending = [c for c in checkpoints if c.tree_size >= compact.size]
    if not _check_checkpoints_at(compact, pending, report):
        return report
    for entry in entries:
        damage = _check_entry(entry, expected_index=compact.size)
        if damage is not None:
            report.damage = damage
            return report
        assert entry.leaf_hash is not None
        compact.append(bytes.fromhex(entry.leaf_hash))
        report.entries_checked += 1
        if progress is not None and report.entries_checked % PROGRESS_EVERY == 0:
            progress(report.entries_checked)
        if not _check_checkpoints_at(compact, pending, report):
            return report
    report.tree_size = compact.size
    report.root_hash = compact.root().hex()
    if pending:
        missing_from = compact.size
        report.damage = Damage(
            "truncated",
            missing_from,
            f"the log ends after {missing_from} entries but a signed checkpoint covers "
            f"{pending[-1].tree_size}: entries from index {missing_from} on were removed",
        )
    return report


def _read_checkpoints(
    signed: Sequence[str], *, keys: Sequence[SigningKey], issuer: str | None, report: AuditReport
) -> list[Checkpoint] | None:
    checkpoints = []
    for position, token in enumerate(signed):
        try:
            checkpoints.append(read_checkpoint(token, keys=keys, issuer=issuer))
        except InvalidCheckpoint as error:
            report.damage = Damage(
                "checkpoint", None, f"checkpoint #{position + 1} is not valid: {error}"
            )
            return None
    checkpoints.sort(key=lambda c: c.tree_size)
    report.checkpoints_checked = len(checkpoints)
    return checkpoints


def _check_checkpoints_at(
    compact: CompactRange, pending: list[Checkpoint], report: AuditReport
) -> bool:
    """Compare the tree with every checkpoint of exactly its size; drop those checked."""
    while pending and pending[0].tree_size == compact.size:
        checkpoint = pending.pop(0)
        if compact.root().hex() != checkpoint.root_hash:
            report.damage = Damage(
                "checkpoint",
                None,
                f"the first {checkpoint.tree_size} entries do not match the signed checkpoint "
                f"of that size: an entry before index {checkpoint.tree_size} was altered, "
                "inserted, deleted or reordered, or the checkpoint was replaced",
            )
            return False
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
