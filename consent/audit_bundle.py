"""Export bundles: the log (from some index on), its checkpoints and the frontier before the
first entry, in one JSON file an outside auditor checks without database access.

Bundles carry no personal fields and no salts: each entry's commitment stands in for them.
Reading is strict (unknown members, wrong types and trailing data are refused), so any changed
byte makes the bundle unreadable or makes a hash or signature check fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy.orm import Session

from consent.audit import LoggedEntry
from consent.log_entries import PUBLIC_FIELDS, encode_time
from consent.log_store import frontier_at, logged_entries, signed_checkpoints
from consent.merkle import CompactRange

BUNDLE_FORMAT = "idp-access-log-bundle/1"
_ENTRY_KEYS = frozenset(
    {"log_index", "personal_commitment", "content_hash", "leaf_hash", "pruned", *PUBLIC_FIELDS}
)
_BUNDLE_KEYS = frozenset(
    {"format", "issuer", "start_size", "start_frontier", "checkpoints", "entries"}
)


class InvalidBundle(Exception):
    """The file is not a well-formed bundle."""


def write_bundle(
    session: Session,
    out: IO[str],
    *,
    issuer: str,
    since: int = 0,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the bundle; returns the number of entries written."""
    start = frontier_at(session, since)
    header = {
        "format": BUNDLE_FORMAT,
        "issuer": issuer,
        "start_size": since,
        "start_frontier": [h.hex() for h in start.to_hashes()],
        "checkpoints": signed_checkpoints(session, min_tree_size=since),
    }
    out.write(json.dumps(header, separators=(",", ":"))[:-1] + ',"entries":[')
    written = 0
    for entry in logged_entries(session, since=since):
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
    return written


@dataclass(frozen=True)
class Bundle:
    issuer: str
    start: CompactRange
    checkpoints: list[str]
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
    entries = data["entries"]
    if not isinstance(entries, list):
        raise InvalidBundle("entries are malformed")
    for position, entry in enumerate(entries):
        _check_entry_shape(entry, position)
    return Bundle(issuer=data["issuer"], start=start, checkpoints=checkpoints, entries=entries)


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
