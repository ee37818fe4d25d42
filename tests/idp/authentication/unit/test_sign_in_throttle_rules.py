"""The throttle's arithmetic: waits after the free attempts double up to the cap, and the
per-source bucket's share of the window per attempt."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from idp.authentication.throttle import ThrottleRules
from idp.settings import IdpSettings


def _rules(**overrides: Any) -> ThrottleRules:
    return replace(ThrottleRules.of(IdpSettings()), **overrides)


def test_waits_begin_after_the_free_attempts_and_double_up_to_the_cap() -> None:
    rules = _rules()
    assert [rules.wait_after(n) for n in range(5)] == [None] * 5
    assert [rules.wait_after(n) for n in range(5, 10)] == [
        timedelta(seconds=s) for s in (1, 2, 4, 8, 16)
    ]
    assert rules.wait_after(15) == timedelta(minutes=15)
    assert rules.wait_after(10**9) == timedelta(minutes=15)  # no overflow, never longer


def test_the_first_wait_is_a_setting() -> None:
    rules = _rules(first_delay=timedelta(minutes=10))
    assert rules.wait_after(5) == timedelta(minutes=10)
    assert rules.wait_after(6) == timedelta(minutes=15)


def test_source_attempts_share_the_window_without_exceeding_it() -> None:
    rules = _rules(source_attempts=7)
    assert rules.source_interval * 7 <= timedelta(minutes=15) < rules.source_interval * 8
