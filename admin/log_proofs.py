"""An entry's place in the log, proved: its inclusion proof in the latest checkpoint, checked
here against the checkpoint's signature and root before a page says "proved"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from idp.keys.jose import SigningKey
from transparency.checkpoints import InvalidCheckpoint, read_checkpoint
from transparency.merkle import verify_inclusion
from transparency.search import FoundEntry
from transparency.store import inclusion_proof_from, latest_checkpoint


@dataclass(frozen=True)
class EntryProof:
    tree_size: int
    root_hash: str  # hex, from the signed checkpoint
    signed_at: datetime
    leaf_hash: str  # hex
    audit_path: list[str]  # hex, leaf to root
    checkpoint: str  # the signed checkpoint (compact JWS)
    holds: bool  # signature valid and the path leads from the leaf to the signed root


def prove_entry(
    session: Session, entry: FoundEntry, *, keys: Iterable[SigningKey], issuer: str
) -> EntryProof | None:
    """None while no checkpoint covers the entry yet (the sequencer signs within seconds)."""
    latest = latest_checkpoint(session)
    if latest is None or entry.log_index >= latest.tree_size:
        return None
    leaf, path = inclusion_proof_from(session, entry.log_index, latest.tree_size)
    try:
        signed = read_checkpoint(latest.signed, keys=keys, issuer=issuer)
    except InvalidCheckpoint:
        signed = None
    holds = (
        signed is not None
        and signed.tree_size == latest.tree_size
        and leaf.hex() == entry.leaf_hash
        and verify_inclusion(
            leaf, entry.log_index, latest.tree_size, path, bytes.fromhex(signed.root_hash)
        )
    )
    return EntryProof(
        tree_size=latest.tree_size,
        root_hash=signed.root_hash if signed else latest.root_hash,
        signed_at=datetime.fromtimestamp(signed.timestamp, UTC) if signed else latest.issued_at,
        leaf_hash=leaf.hex(),
        audit_path=[h.hex() for h in path],
        checkpoint=latest.signed,
        holds=holds,
    )
