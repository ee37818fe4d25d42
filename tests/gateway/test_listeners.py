"""With the console on a listener of its own (`idp serve --admin-port P`), the public listener
answers a path under `/admin` as it answers any unknown path: the error catalogue's not_found,
JSON for a client and the readable page for a browser, with the security headers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS, TEST_ENV, in_process_gateway_with
from tests.in_process import InProcessGateway

# The in-process gateway is reached on the issuer's port, 8400: the console listens elsewhere.
SPLIT_ENV = {**TEST_ENV, "IDP_ADMIN_PORT": "8401"}


@pytest.fixture(scope="module", params=BACKENDS)
def public_listener(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessGateway]:
    with in_process_gateway_with(SPLIT_ENV, request.param, tmp_path_factory) as running:
        yield running


def test_the_admin_api_is_not_found_on_the_public_listener(
    public_listener: InProcessGateway,
) -> None:
    answer = public_listener.http.get("/admin/api/v1/openapi.json")
    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found"}
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert public_listener.http.get("/jwks.json").status_code == 200


def test_a_browser_gets_the_not_found_page_for_the_console(
    public_listener: InProcessGateway,
) -> None:
    page = public_listener.http.get("/admin/", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text
    assert "content-security-policy" in page.headers
