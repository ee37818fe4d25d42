"""Which addresses a browser navigates to, so that an answer before the route's own (a
database outage, a NUL in the query) is a readable page there and JSON everywhere else."""

from __future__ import annotations

import pytest

from idp.web.refusals import is_page


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/authorize",
        "/sign-in",
        "/consent",
        "/account",
        "/account/password",
        "/step-up",
        "/step-up/authenticator-app",
        "/logout",
        "/sign-out",
        "/language",
        "/help",
        "/privacy",
        "/accessibility",
        "/open-data/",
        "/admin/",
        "/admin/log",
    ],
)
def test_pages(path: str) -> None:
    assert is_page(path)


@pytest.mark.parametrize(
    "path",
    [
        "/token",
        "/userinfo",
        "/introspect",
        "/revoke",
        "/jwks.json",
        "/.well-known/openid-configuration",
        "/transparency/checkpoint",
        "/open-data/statistics.json",
        "/open-data/statistics.csv",
        "/admin/api/v1/accounts/mari",
        "/accounts",
        "/helpful",
    ],
)
def test_apis_and_other_addresses(path: str) -> None:
    assert not is_page(path)
