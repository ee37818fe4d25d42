"""The log verifier on entries built in memory: each kind of damage is named at its entry."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from idp.keys.jose import generate_signing_key
from idp.ports import AccessEvent
from transparency.access_log import queued_values
from transparency.checkpoints import sign_checkpoint
from transparency.entries import canonical_json, decode_time, encode_time, leaf_data
from transparency.merkle import CompactRange, leaf_hash
from transparency.sequencer import seal_queued
from transparency.verification import LoggedEntry, UnsignedTailAllowance, verify_log

ISSUER = "https://id.example.gov"
KEY = generate_signing_key(alg="ES256", kid="log-key")
T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _event(n: int, **overrides: Any) -> AccessEvent:
    values: dict[str, Any] = {
        "event_type": "token.issued",
        "occurred_at": T0 + timedelta(seconds=n),
        "actor_type": "client",
        "actor_id": "agency",
        "subject": f"citizen-{n}",
        "source_address": "192.0.2.1",
        "outcome": "success",
        "client_id": "agency",
        "detail": {"n": n},
    }
    return AccessEvent(**{**values, **overrides})


def _log(
    count: int,
    *,
    events: dict[int, AccessEvent] | None = None,
    issuer_of: Callable[[int], str] = lambda size: ISSUER,
    every: int = 4,
) -> tuple[list[LoggedEntry], list[str]]:
    """`count` entries (`events` replaces some) and a checkpoint after every `every`th, signed
    under `issuer_of(tree_size)`."""
    entries, checkpoints = [], []
    compact = CompactRange()
    for n in range(count):
        values = seal_queued(queued_values((events or {}).get(n) or _event(n)))
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
        if n % every == every - 1:
            checkpoints.append(
                sign_checkpoint(
                    key=KEY,
                    issuer=issuer_of(compact.size),
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


def test_entries_no_checkpoint_covers_are_unsigned() -> None:
    entries, checkpoints = _log(12)
    assert _verify(entries, checkpoints[:2]) == ("unsigned", 8)
    assert _verify(entries, []) == ("unsigned", 0)
    # Only checkpoints of a smaller tree than where the entries start cover none of them.
    compact = CompactRange()
    compact.extend(bytes.fromhex(str(e.leaf_hash)) for e in entries[:8])
    report = verify_log(entries[8:], checkpoints[:2], keys=[KEY], issuer=ISSUER, start=compact)
    assert report.damage is not None and (report.damage.kind, report.damage.log_index) == (
        "unsigned",
        8,
    )


@pytest.mark.parametrize(
    ("age", "unsigned"), [(timedelta(seconds=15), 4), (timedelta(seconds=15, microseconds=1), None)]
)
def test_the_newest_entries_may_wait_a_few_intervals_for_a_checkpoint(
    age: timedelta, unsigned: int | None
) -> None:
    entries, checkpoints = _log(12)  # every checkpoint signed at T0
    allowance = UnsignedTailAllowance(now=T0 + age, max_age=timedelta(seconds=15))
    report = verify_log(
        entries, checkpoints[:2], keys=[KEY], issuer=ISSUER, unsigned_tail=allowance
    )
    if unsigned is None:
        assert report.damage is not None and report.damage.kind == "unsigned"
        assert report.damage.log_index == 8 and "longer ago" in report.damage.message
    else:
        assert report.ok and report.unsigned_entries == unsigned


def test_a_log_without_any_checkpoint_is_never_a_tail_waiting() -> None:
    entries, _ = _log(3)
    allowance = UnsignedTailAllowance(now=T0, max_age=timedelta(hours=1))
    report = verify_log(entries, [], keys=[KEY], issuer=ISSUER, unsigned_tail=allowance)
    assert report.damage is not None and (report.damage.kind, report.damage.log_index) == (
        "unsigned",
        0,
    )


OTHER = "https://new.id.example.gov"


def _moved(n: int, old: str, new: str, **detail: Any) -> AccessEvent:
    return _event(
        n, event_type="issuer.moved", actor_type="admin", detail={"from": old, "to": new, **detail}
    )


def test_checkpoints_before_a_move_name_the_old_issuer_and_after_it_the_new() -> None:
    # The move is entry 5; the checkpoints of 4 entries and fewer name ISSUER, later ones OTHER.
    entries, checkpoints = _log(
        12, events={5: _moved(5, ISSUER, OTHER)}, issuer_of=lambda n: ISSUER if n <= 5 else OTHER
    )
    report = verify_log(entries, checkpoints, keys=[KEY], issuer=OTHER)
    assert report.ok and report.issuers == [ISSUER, OTHER]
    # Verified as the old issuer, the log is signed as another now.
    assert _verify_as(entries, checkpoints, ISSUER) == ("issuer", None)
    # Without a move entry the change is unexplained.
    plain, unexplained = _log(12, issuer_of=lambda n: ISSUER if n <= 5 else OTHER)
    assert _verify_as(plain, unexplained, OTHER) == ("issuer", None)


def test_a_move_must_start_from_the_issuer_the_log_was_signed_as() -> None:
    entries, checkpoints = _log(8, events={5: _moved(5, OTHER, ISSUER)}, issuer_of=lambda n: ISSUER)
    assert _verify_as(entries, checkpoints, ISSUER) == ("issuer", 5)


def test_a_change_recorded_afterwards_by_the_migration_is_accepted() -> None:
    # Before moves were placed, a node started under OTHER at the checkpoint of 8 entries;
    # migration 0007 recorded that as entry 10, naming that checkpoint.
    recorded = _moved(10, ISSUER, OTHER, tree_size=8)
    entries, checkpoints = _log(
        12, events={10: recorded}, issuer_of=lambda n: ISSUER if n < 8 else OTHER
    )
    assert _verify_as(entries, checkpoints, OTHER) is None
    wrong = _moved(10, ISSUER, OTHER, tree_size=12)
    entries, checkpoints = _log(
        12, events={10: wrong}, issuer_of=lambda n: ISSUER if n < 8 else OTHER
    )
    assert _verify_as(entries, checkpoints, OTHER) == ("issuer", 10)


def test_stored_issuers_must_be_what_the_checkpoints_say() -> None:
    entries, checkpoints = _log(8)
    recorded = dict.fromkeys(checkpoints, ISSUER)
    assert verify_log(entries, checkpoints, keys=[KEY], issuer=ISSUER, recorded_issuers=recorded).ok
    recorded[checkpoints[1]] = OTHER
    report = verify_log(entries, checkpoints, keys=[KEY], issuer=ISSUER, recorded_issuers=recorded)
    assert report.damage is not None and report.damage.kind == "checkpoint"


def _verify_as(
    entries: list[LoggedEntry], checkpoints: list[str], issuer: str
) -> tuple[str, int | None] | None:
    report = verify_log(entries, checkpoints, keys=[KEY], issuer=issuer)
    return None if report.damage is None else (report.damage.kind, report.damage.log_index)


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
