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
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> bytes:
    return _CANONICAL.encode(value).encode()


def encode_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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


def seal_entry(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's fields plus a fresh salt, the personal commitment and the content hash."""
    salt = new_salt()
    commitment = personal_commitment(salt, fields)
    return {
        **{name: fields.get(name) for name in (*PUBLIC_FIELDS, *PERSONAL_FIELDS)},
        "personal_salt": salt,
        "personal_commitment": commitment,
        "content_hash": content_hash(public_content(fields), commitment),
    }
