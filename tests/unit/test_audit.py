"""The log verifier on entries built in memory: each kind of damage is named at its entry."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from consent.access_log import queued_values
from consent.audit import LoggedEntry, verify_log
from consent.checkpoints import sign_checkpoint
from consent.log_entries import canonical_json, decode_time, encode_time, leaf_data
from consent.merkle import CompactRange, leaf_hash
from consent.sequencer import seal_queued
from idp.jose import generate_signing_key
from idp.ports import AccessEvent

ISSUER = "https://id.example.gov"
KEY = generate_signing_key(alg="ES256", kid="log-key")
T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _log(count: int) -> tuple[list[LoggedEntry], list[str]]:
    entries, checkpoints = [], []
    compact = CompactRange()
    for n in range(count):
        values = seal_queued(
            queued_values(
                AccessEvent(
                    event_type="token.issued",
                    occurred_at=T0 + timedelta(seconds=n),
                    actor_type="client",
                    actor_id="agency",
                    subject=f"citizen-{n}",
                    source_address="192.0.2.1",
                    outcome="success",
                    client_id="agency",
                    detail={"n": n},
                )
            )
        )
        leaf = leaf_hash(leaf_data(n, str(values["content_hash"])))
        compact.append(leaf)
        entries.append(
            LoggedEntry(
                log_index=n,
                fields=values,
                personal_salt=str(values["personal_salt"]),
                personal_commitment=str(values["personal_commitment"]),
                content_hash=str(values["content_hash"]),
                leaf_hash=leaf.hex(),
            )
        )
        if n % 4 == 3:
            checkpoints.append(
                sign_checkpoint(
                    key=KEY,
                    issuer=ISSUER,
                    tree_size=compact.size,
                    root_hash=compact.root().hex(),
                    now=T0,
                )
            )
    return entries, checkpoints


def _verify(entries: list[LoggedEntry], checkpoints: list[str]) -> tuple[str, int | None] | None:
    report = verify_log(entries, checkpoints, keys=[KEY], issuer=ISSUER)
    return None if report.damage is None else (report.damage.kind, report.damage.log_index)


def test_untouched_log_verifies() -> None:
    entries, checkpoints = _log(12)
    report = verify_log(entries, checkpoints, keys=[KEY], issuer=ISSUER)
    assert report.ok and report.entries_checked == 12 and report.checkpoints_checked == 3


def test_each_kind_of_damage_is_named() -> None:
    entries, checkpoints = _log(12)
    edited = [*entries]
    edited[5] = dataclasses.replace(entries[5], fields={**entries[5].fields, "outcome": "failure"})
    assert _verify(edited, checkpoints) == ("altered", 5)
    personal = [*entries]
    personal[2] = dataclasses.replace(entries[2], fields={**entries[2].fields, "subject": "x"})
    assert _verify(personal, checkpoints) == ("altered", 2)
    assert _verify(entries[:5] + entries[6:], checkpoints) == ("deleted", 5)
    assert _verify([*entries[:6], entries[5], *entries[6:]], checkpoints) == ("inserted", 5)
    swapped = [*entries]
    swapped[5] = dataclasses.replace(entries[6], log_index=5)
    swapped[6] = dataclasses.replace(entries[5], log_index=6)
    assert _verify(swapped, checkpoints) == ("reordered", 5)
    assert _verify(entries[:9], checkpoints) == ("truncated", 9)
    forged = sign_checkpoint(
        key=generate_signing_key(alg="ES256", kid="log-key"),
        issuer=ISSUER,
        tree_size=4,
        root_hash="00" * 32,
        now=T0,
    )
    assert _verify(entries, [forged, *checkpoints[1:]]) == ("checkpoint", None)


def test_erased_personal_fields_still_verify() -> None:
    entries, checkpoints = _log(8)
    erased = [
        dataclasses.replace(
            e,
            personal_salt=None,
            fields={**e.fields, "subject": None, "actor_id": None, "source_address": None},
        )
        for e in entries
    ]
    assert _verify(erased, checkpoints) is None


@pytest.mark.parametrize("issuer", ["https://other.example", None])
def test_checkpoint_issuer_must_match_when_given(issuer: str | None) -> None:
    entries, checkpoints = _log(4)
    report = verify_log(entries, checkpoints, keys=[KEY], issuer=issuer)
    assert report.ok is (issuer is None)


@pytest.mark.parametrize(
    ("index", "content"),
    [
        (0, "0" * 64),
        (1_022_199, "ab" * 32),
        (7, "not a digest"),  # a damaged stored hash takes the general encoder
        (3, 'quote " and \\ backslash'),
        (2**40, "AB" * 32),  # upper-case hex is not what sealing makes
    ],
)
def test_leaf_data_is_the_canonical_json_of_index_and_content(index: int, content: str) -> None:
    assert leaf_data(index, content) == canonical_json({"index": index, "content": content})


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 29, 12, 0, 0, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=3))),
    ],
)
def test_logged_times_are_utc_to_the_microsecond_and_read_back_exactly(moment: datetime) -> None:
    text = encode_time(moment)
    assert text == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert decode_time(text) == moment


@pytest.mark.parametrize(
    "text", ["2026-11-29T12:00:00Z", "2026-11-29T12:00:00.000000+00:00", "2026-11-29 12:00"]
)
def test_a_time_in_another_form_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a logged time"):
        decode_time(text)
