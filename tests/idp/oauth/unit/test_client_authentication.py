"""Parsing HTTP Basic client credentials (RFC 7617, RFC 6749 2.3.1): anything unreadable is a
failed authentication, never an exception that escapes."""

from __future__ import annotations

import base64

import pytest

from idp.oauth.client_authentication import MalformedCredentials, basic_credentials


def _basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


def test_credentials_are_decoded_and_form_urldecoded() -> None:
    assert basic_credentials(_basic(b"agency%3Aone:s%20cret")) == ("agency:one", "s cret")
    assert basic_credentials("bAsIc " + _basic(b"a:b")[6:]) == ("a", "b")
    assert basic_credentials(_basic("é:ü".encode())) == ("é", "ü")
    assert basic_credentials(_basic(b"public-app:")) == ("public-app", "")


@pytest.mark.parametrize("header", [None, "Bearer abc", "Digest x", "", "Basicx abc"])
def test_other_schemes_are_not_basic(header: str | None) -> None:
    assert basic_credentials(header) is None


@pytest.mark.parametrize(
    "header",
    [
        "Basic ",
        "Basic",
        "Basic /w==",  # one byte, 0xff: not UTF-8
        "Basic é",  # not base64 (and not ASCII)
        "Basic ***",
        "Basic YQ",  # padding missing
        _basic(b"no-colon"),
        _basic(b"\xff:\xfe"),
        _basic(b"a\x00b:secret"),
    ],
)
def test_unreadable_credentials_are_malformed(header: str) -> None:
    with pytest.raises(MalformedCredentials):
        basic_credentials(header)
