"""Export bundles: a stretch of the log between two signed checkpoints, in one JSON file an
outside auditor checks without database access.

A bundle starts at the newest checkpoint at or before the first index asked for (or at the
empty tree) and ends at the log's newest checkpoint, so a signature covers every entry in it. It
carries the frontier at its start, every checkpoint from its start to its end, the RFC 9162
consistency proof from the first to the last, and the entries between. Bundles carry no personal
fields and no salts: each entry's commitment stands in for them. Reading is strict (unknown
members, wrong types and trailing data are refused), so any changed byte makes the bundle
unreadable or makes a hash or signature check fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy.orm import Session

from idp.keys.jose import SigningKey
from transparency.entries import PUBLIC_FIELDS, encode_time
from transparency.merkle import EMPTY_ROOT, CompactRange, verify_consistency
from transparency.store import (
    checkpoint_at_or_before,
    consistency_proof_from,
    frontier_at,
    latest_checkpoint,
    logged_entries,
    signed_checkpoints,
)
from transparency.verification import AuditReport, Damage, LoggedEntry, verify_log

BUNDLE_FORMAT = "idp-access-log-bundle/2"
_ENTRY_KEYS = frozenset(
    {"log_index", "personal_commitment", "content_hash", "leaf_hash", "pruned", *PUBLIC_FIELDS}
)
_BUNDLE_KEYS = frozenset(
    {
        "format",
        "issuer",
        "start_size",
        "start_frontier",
        "checkpoints",
        "consistency_proof",
        "entries",
    }
)


class InvalidBundle(Exception):
    """The file is not a well-formed bundle."""


class NothingSigned(Exception):
    """The log has no signed checkpoint, so there is nothing a bundle could vouch for."""


@dataclass(frozen=True)
class Export:
    start_size: int  # the first entry's index: the size of the bundle's first checkpoint
    end_size: int  # the size of its last checkpoint, one past its last entry
    entries: int


def write_bundle(
    session: Session,
    out: IO[str],
    *,
    since: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Export:
    """Write the bundle of the entries from the newest checkpoint at or before `since` to the
    log's newest checkpoint."""
    newest = latest_checkpoint(session)
    if newest is None:
        raise NothingSigned("the access log has no signed checkpoint yet: run `idp audit sequence`")
    end = newest.tree_size
    first = checkpoint_at_or_before(session, min(since, end)) if since else None
    start = first.tree_size if first is not None else 0
    header = {
        "format": BUNDLE_FORMAT,
        "issuer": newest.issuer,
        "start_size": start,
        "start_frontier": [h.hex() for h in frontier_at(session, start).to_hashes()],
        "checkpoints": signed_checkpoints(session, min_tree_size=start, max_tree_size=end),
        "consistency_proof": [h.hex() for h in consistency_proof_from(session, start, end)],
    }
    out.write(json.dumps(header, separators=(",", ":"))[:-1] + ',"entries":[')
    written = 0
    for entry in logged_entries(session, since=start, before=end):
        record = {name: entry.fields[name] for name in PUBLIC_FIELDS}
        record["occurred_at"] = encode_time(record["occurred_at"])
        record.update(
            log_index=entry.log_index,
            personal_commitment=entry.personal_commitment,
            content_hash=entry.content_hash,
            leaf_hash=entry.leaf_hash,
            pruned=entry.pruned,
        )
        out.write(
            ("," if written else "")
            + json.dumps(record, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        )
        written += 1
        if progress is not None and written % 50_000 == 0:
            progress(written)
    out.write("]}")
    return Export(start_size=start, end_size=end, entries=written)


@dataclass(frozen=True)
class Bundle:
    issuer: str
    start: CompactRange
    checkpoints: list[str]
    consistency_proof: list[bytes]
    entries: list[dict[str, Any]]

    def logged_entries(self) -> Iterator[LoggedEntry]:
        for record in self.entries:
            yield LoggedEntry(
                log_index=record["log_index"],
                fields={name: record[name] for name in PUBLIC_FIELDS},
                personal_salt=None,
                personal_commitment=record["personal_commitment"],
                content_hash=record["content_hash"],
                leaf_hash=record["leaf_hash"],
                pruned=record["pruned"],
            )


def verify_bundle(
    bundle: Bundle,
    *,
    keys: Sequence[SigningKey],
    progress: Callable[[int], None] | None = None,
) -> AuditReport:
    """Every entry against its hashes and the checkpoints (each covered by one), then the
    bundle's ends: a checkpoint at its start and the consistency proof from it to the last."""
    report = verify_log(
        bundle.logged_entries(),
        bundle.checkpoints,
        keys=keys,
        issuer=bundle.issuer,
        start=bundle.start,
        progress=progress,
    )
    if report.ok:
        report.damage = _check_ends(bundle, report)
    return report


def _check_ends(bundle: Bundle, report: AuditReport) -> Damage | None:
    start = bundle.start.size
    first = next((c for c in report.checkpoints if c.tree_size == start), None)
    if start and first is None:
        return Damage(
            "checkpoint",
            start,
            f"no signed checkpoint of the {start} entries before the bundle's first: its start "
            "is not vouched for",
        )
    last = report.checkpoints[-1] if report.checkpoints else None
    if last is None or last.tree_size != report.tree_size:  # refused as unsigned before this
        return Damage("unsigned", start, "the bundle's last entry has no checkpoint")
    first_root = bytes.fromhex(first.root_hash) if first is not None else EMPTY_ROOT
    if not verify_consistency(
        start, last.tree_size, first_root, bytes.fromhex(last.root_hash), bundle.consistency_proof
    ):
        return Damage(
            "checkpoint",
            None,
            f"the consistency proof from the checkpoint of {start} entries to that of "
            f"{last.tree_size} does not hold",
        )
    return None


def read_bundle(text: str) -> Bundle:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidBundle(f"not valid JSON: {error}") from error
    if not isinstance(data, dict) or set(data) != _BUNDLE_KEYS:
        raise InvalidBundle("not an access log bundle")
    if data["format"] != BUNDLE_FORMAT:
        raise InvalidBundle(f"unknown bundle format {data['format']!r}")
    if not isinstance(data["issuer"], str) or not isinstance(data["start_size"], int):
        raise InvalidBundle("issuer or start_size is malformed")
    frontier = data["start_frontier"]
    if not isinstance(frontier, list) or not all(_is_hex_hash(h) for h in frontier):
        raise InvalidBundle("start_frontier is malformed")
    try:
        start = CompactRange.from_hashes(data["start_size"], [bytes.fromhex(h) for h in frontier])
    except ValueError as error:
        raise InvalidBundle(f"start_frontier is malformed: {error}") from error
    checkpoints = data["checkpoints"]
    if not isinstance(checkpoints, list) or not all(isinstance(c, str) for c in checkpoints):
        raise InvalidBundle("checkpoints are malformed")
    proof = data["consistency_proof"]
    if not isinstance(proof, list) or not all(_is_hex_hash(h) for h in proof):
        raise InvalidBundle("consistency_proof is malformed")
    entries = data["entries"]
    if not isinstance(entries, list):
        raise InvalidBundle("entries are malformed")
    for position, entry in enumerate(entries):
        _check_entry_shape(entry, position)
    return Bundle(
        issuer=data["issuer"],
        start=start,
        checkpoints=checkpoints,
        consistency_proof=[bytes.fromhex(h) for h in proof],
        entries=entries,
    )


def _is_hex_hash(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )


def _check_entry_shape(entry: object, position: int) -> None:
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        raise InvalidBundle(f"entry #{position} has unexpected members")
    if not isinstance(entry["log_index"], int) or isinstance(entry["log_index"], bool):
        raise InvalidBundle(f"entry #{position} has a malformed log_index")
    for name in ("personal_commitment", "content_hash", "leaf_hash"):
        if not _is_hex_hash(entry[name]):
            raise InvalidBundle(f"entry #{position} has a malformed {name}")
    if not isinstance(entry["pruned"], bool):
        raise InvalidBundle(f"entry #{position} has a malformed pruned flag")
    if not isinstance(entry["occurred_at"], str):
        raise InvalidBundle(f"entry #{position} has a malformed occurred_at")
