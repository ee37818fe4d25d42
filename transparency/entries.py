"""What an access log entry commits to: its canonical encoding, the salted commitment to its
personal fields, and the Merkle leaf it becomes. Shared by the writer and every verifier."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from idp.events import EventType

# Personal data is kept out of the hashed content: the content commits to it only through a
# salted hash, so erasing the fields and the salt leaves every proof intact (GDPR Art. 17).
PERSONAL_FIELDS = ("actor_id", "subject", "source_address")
PUBLIC_FIELDS = (
    "occurred_at",
    "event_type",
    "actor_type",
    "client_id",
    "outcome",
    "request_id",
    "claims_released",
    "purpose",
    "detail",
)
CONTENT_DOMAIN = b"idp-access-log-entry-v1\x00"
# The entry an operator's `idp issuer move` places: its detail {"from", "to"} is the log's issuer
# history, by which checkpoints signed under an earlier issuer stay checkable.
ISSUER_MOVED = EventType.ISSUER_MOVED
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_ENCODED_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> bytes:
    return canonical_text(value).encode()


def canonical_text(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: one encoding for one value."""
    return _CANONICAL.encode(value)


def encode_time(moment: datetime) -> str:
    """UTC to the microsecond, as 2026-11-29T12:00:00.000000Z."""
    # isoformat is several times faster than strftime and, for years 1000 to 9999, the same text.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def decode_time(text: str) -> datetime:
    """The moment encode_time wrote, to the microsecond."""
    if not _ENCODED_TIME.fullmatch(text):
        raise ValueError(f"not a logged time: {text!r}")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def new_salt() -> str:
    return secrets.token_hex(16)


def personal_commitment(salt: str, personal: Mapping[str, Any]) -> str:
    fields = {name: personal.get(name) for name in PERSONAL_FIELDS}
    return hashlib.sha256(bytes.fromhex(salt) + canonical_json(fields)).hexdigest()


def public_content(fields: Mapping[str, Any]) -> dict[str, Any]:
    content = {name: fields.get(name) for name in PUBLIC_FIELDS}
    occurred_at = content["occurred_at"]
    if isinstance(occurred_at, datetime):
        content["occurred_at"] = encode_time(occurred_at)
    return content


def content_hash(public: Mapping[str, Any], commitment: str) -> str:
    """The hash of everything an entry says, personal data included through its commitment."""
    body = canonical_json({**public, "personal_commitment": commitment})
    return hashlib.sha256(CONTENT_DOMAIN + body).hexdigest()


def leaf_data(log_index: int, entry_content_hash: str) -> bytes:
    """The bytes the Merkle leaf hashes: the entry's position binds order into the tree.

    It is canonical_json({"content": ..., "index": ...}); for the usual case (a hex digest) the
    bytes are written out directly, as the sequencer makes one per entry. A unit test holds the
    two ways equal."""
    if type(log_index) is int and _HEX_DIGEST.fullmatch(entry_content_hash):
        return b'{"content":"%s","index":%d}' % (entry_content_hash.encode(), log_index)
    return canonical_json({"index": log_index, "content": entry_content_hash})


def seal_entry(public: Mapping[str, Any], personal: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a sealed entry: its public content (as public_content gives it), its
    personal fields, a fresh salt, the personal commitment and the content hash."""
    content = {name: public.get(name) for name in PUBLIC_FIELDS}
    salt = new_salt()
    commitment = personal_commitment(salt, personal)
    return {
        **content,
        "occurred_at": decode_time(public["occurred_at"]),
        **{name: personal.get(name) for name in PERSONAL_FIELDS},
        "personal_salt": salt,
        "personal_commitment": commitment,
        "content_hash": content_hash(content, commitment),
    }
