"""Configuration is validated at start: https issuer outside loopback, sane lifetimes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from idp.settings import IdpSettings


@pytest.mark.parametrize(
    "issuer",
    [
        "http://localhost:8000",
        "http://127.0.0.1:9000",
        "https://id.example.gov",
        "http://[::1]:8000",
    ],
)
def test_accepted_issuers(issuer: str) -> None:
    assert IdpSettings(issuer=issuer).issuer == issuer


@pytest.mark.parametrize(
    "issuer",
    [
        "http://id.example.gov",
        "http://10.0.0.5:8000",
        "https://id.example.gov/?x=1",
        "ftp://id.example.gov",
        "https://id.example.gov/#f",
        "not a url",
    ],
)
def test_refused_issuers(issuer: str) -> None:
    with pytest.raises(ValidationError):
        IdpSettings(issuer=issuer)


def test_durations_read_seconds_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDP_AUTHORIZATION_CODE_LIFETIME", "30")
    monkeypatch.setenv("IDP_ACCESS_TOKEN_LIFETIME", "PT15M")
    settings = IdpSettings()
    assert settings.authorization_code_lifetime == timedelta(seconds=30)
    assert settings.access_token_lifetime == timedelta(minutes=15)


def test_code_lifetime_is_capped() -> None:
    with pytest.raises(ValidationError):
        IdpSettings(authorization_code_lifetime=timedelta(hours=1))


def test_jwks_cache_must_expire_before_a_new_key_signs() -> None:
    with pytest.raises(ValidationError):
        IdpSettings(jwks_max_age=timedelta(minutes=20), key_publish_lead=timedelta(minutes=10))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("10.0.0.1", ["10.0.0.1/32"]),
        ("10.0.0.0/8, 2001:db8::/32", ["10.0.0.0/8", "2001:db8::/32"]),
        ('["192.0.2.0/24", "::1"]', ["192.0.2.0/24", "::1/128"]),
    ],
)
def test_trusted_proxies_read_from_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    monkeypatch.setenv("IDP_TRUSTED_PROXIES", value)
    assert [str(network) for network in IdpSettings().trusted_proxies] == expected


@pytest.mark.parametrize("value", ["10.0.0.1/8", "proxy.example", "10.0.0.0/33"])
def test_trusted_proxies_must_be_addresses_or_networks(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("IDP_TRUSTED_PROXIES", value)
    with pytest.raises(ValidationError):
        IdpSettings()


def test_first_sign_in_wait_is_within_the_cap() -> None:
    with pytest.raises(ValidationError):
        IdpSettings(sign_in_first_delay=timedelta(hours=1))
    with pytest.raises(ValidationError):
        IdpSettings(sign_in_first_delay=timedelta(0))
