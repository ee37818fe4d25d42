"""Which language a page is in: ui_locales, then the switcher's pick, then Accept-Language."""

import pytest

from idp.protocol.languages import (
    choose_language,
    language_from_accept_language,
    language_from_ui_locales,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("et", "et"),
        ("et-EE,et;q=0.9,en;q=0.8", "et"),
        ("de-DE, en;q=0.5, et;q=0.7", "et"),  # weights, not order, decide
        ("et;q=0, en", "en"),  # q=0: not this one
        ("fr, de", None),
        ("*", None),
        ("et;q=abc", None),  # an unreadable weight counts as refusal
        ("", None),
        ("x" * 50, None),  # not a language tag
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert language_from_accept_language(header) == expected


@pytest.mark.parametrize(
    ("ui_locales", "expected"),
    [("et", "et"), ("fr-CA et-EE en", "et"), ("en et", "en"), ("fr", None), (None, None)],
)
def test_ui_locales_takes_the_first_supported_language(
    ui_locales: str | None, expected: str | None
) -> None:
    assert language_from_ui_locales(ui_locales) == expected


def test_the_interaction_language_comes_before_the_pick_and_the_browser() -> None:
    assert choose_language(interaction_language="et", picked="en", accept_language="en") == "et"
    assert choose_language(picked="et", accept_language="en") == "et"
    assert choose_language(accept_language="et") == "et"
    assert choose_language() == "en"


def test_unknown_values_are_ignored() -> None:
    assert choose_language(interaction_language="xx", picked="<b>", accept_language="et") == "et"
