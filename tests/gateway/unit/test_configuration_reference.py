"""docs/configuration.md is generated from IdpSettings, so it can never go stale."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.configuration_reference import (
    REGENERATE_COMMAND,
    describe_duration,
    render_configuration_reference,
)
from idp.settings import IdpSettings

CONFIGURATION_PAGE = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_page_equals_the_generated_reference() -> None:
    written = CONFIGURATION_PAGE.read_text(encoding="utf-8")
    assert written == render_configuration_reference(), f"stale page: run `{REGENERATE_COMMAND}`"


@pytest.mark.parametrize("name", list(IdpSettings.model_fields))
def test_every_setting_is_described_and_listed(name: str) -> None:
    description = IdpSettings.model_fields[name].description
    assert description is not None
    assert description.strip()
    assert f"| `IDP_{name.upper()}` |" in render_configuration_reference()


def test_durations_read_as_seconds_and_words() -> None:
    row = next(
        line
        for line in render_configuration_reference().splitlines()
        if line.startswith("| `IDP_AUTHORIZATION_CODE_LIFETIME` |")
    )
    assert "| duration | `60` seconds (1 minute) |" in row


@pytest.mark.parametrize(
    ("duration", "words"),
    [
        (timedelta(0), "0 seconds"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(minutes=90), "1 hour 30 minutes"),
        (timedelta(days=2, seconds=5), "2 days 5 seconds"),
        (timedelta(milliseconds=1500), "1.5 seconds"),
    ],
)
def test_describe_duration(duration: timedelta, words: str) -> None:
    assert describe_duration(duration) == words
