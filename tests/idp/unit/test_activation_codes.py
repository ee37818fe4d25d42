"""The activation code's rules, without a database: its alphabet and grouping, how a typed code
is read, its salted digest, and when one may be redeemed (a fixed clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from idp.activation import (
    ALPHABET,
    MAX_FAILURES,
    Verdict,
    code_digest,
    judge_code,
    new_activation_code,
    normalize_code,
)
from idp.models import ActivationCode

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _record(code: str, **overrides: object) -> ActivationCode:
    fields: dict[str, object] = {
        "code_digest": code_digest("subject-1", code),
        "created_at": T0,
        "expires_at": T0 + timedelta(hours=72),
        "failures": 0,
        "voided_at": None,
        "redeemed_at": None,
        **overrides,
    }
    return ActivationCode(**fields)


def test_codes_are_twelve_unambiguous_characters_in_groups_of_four() -> None:
    assert not set("01ILOU") & set(ALPHABET)
    codes = {new_activation_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4]
        assert set("".join(groups)) <= set(ALPHABET)


def test_a_typed_code_is_read_without_its_spacing_or_case() -> None:
    assert normalize_code("abcd efgh-jkmn") == "ABCDEFGHJKMN"
    assert normalize_code(" ABCD-EFGH-JKMN ") == "ABCDEFGHJKMN"
    for not_a_code in ("", "ABCD-EFGH-JKM", "ABCD-EFGH-JKMNP", "ABCD-EFGH-JKM0", "x" * 100):
        assert normalize_code(not_a_code) is None


def test_the_digest_is_of_the_code_and_the_account() -> None:
    assert code_digest("s", "abcd-efgh-jkmn") == code_digest("s", "ABCDEFGHJKMN")
    assert code_digest("s", "ABCD-EFGH-JKMN") != code_digest("t", "ABCD-EFGH-JKMN")


def test_only_a_live_code_typed_right_is_redeemable() -> None:
    code = "ABCD-EFGH-JKMN"

    def judged(record: ActivationCode | None, typed: str = code, at: datetime = T0) -> Verdict:
        return judge_code(record, subject="subject-1", typed=typed, now=at)

    assert judged(_record(code)) is Verdict.REDEEMABLE
    assert judged(_record(code), typed="abcd efgh jkmn") is Verdict.REDEEMABLE
    assert judged(_record(code), typed="ABCD-EFGH-JKMP") is Verdict.WRONG
    assert judged(_record(code), typed="not even a code") is Verdict.WRONG
    assert judged(None) is Verdict.NOT_LIVE
    assert judged(_record(code), at=T0 + timedelta(hours=72)) is Verdict.NOT_LIVE
    assert judged(_record(code, redeemed_at=T0)) is Verdict.NOT_LIVE
    assert judged(_record(code, voided_at=T0)) is Verdict.NOT_LIVE
    assert judged(_record(code, failures=MAX_FAILURES)) is Verdict.NOT_LIVE
    assert judged(_record(code, failures=MAX_FAILURES - 1)) is Verdict.REDEEMABLE
