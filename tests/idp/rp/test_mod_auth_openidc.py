"""A real agency website, Apache httpd with mod_auth_openidc from Debian, signs a citizen in
through the gateway, signs them in again without a password (single sign-on), and signs them out
of both through the gateway's end-session endpoint (RP-Initiated Logout 1.0).

The module is an independent relying party written in C: it does its own discovery, PKCE, token
request, ID token validation and logout redirect, so what it accepts is what the gateway
actually sends. It is configured with the snippet the gateway's onboarding view hands agencies
(admin/onboarding.py), so that snippet is proven to work too. The gateway is on `localhost` and
Apache on `127.0.0.1`, so that their cookies, which ignore ports, stay apart as those of two
sites would.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import httpx
import pytest

from admin.onboarding import PASSPHRASE_VARIABLE, SECRET_VARIABLE, onboarding_for
from idp.clients import find_registration
from idp.storage.database import Database, create_database_engine
from tests.apache import (
    APACHE,
    MISSING_APACHE,
    MODULES,
    PROTECTED_TEXT,
    SIGNED_OUT_TEXT,
    AgencySite,
    agency_site_files,
    running_apache,
    write_config,
)
from tests.builders import CitizenAccount, add_citizen, register_app
from tests.citizen import Browser
from tests.gateway_process import Gateway, free_port

INSTALLED = APACHE.exists() and (MODULES / "mod_auth_openidc.so").exists()
# CI installs Apache (.ci/install-e2e.sh), so there a missing Apache fails the test instead.
IN_CI = bool(os.environ.get("CI"))
# From the protected page to the gateway's sign-in page, or back, takes at most five redirects.
MAX_HOPS = 10

pytestmark = [
    pytest.mark.apache,
    pytest.mark.skipif(not INSTALLED and not IN_CI, reason=MISSING_APACHE),
]


@dataclass
class Visit:
    """Every response on the way from one address to the first page that is not a redirect."""

    responses: list[httpx.Response] = field(default_factory=list)

    @property
    def page(self) -> httpx.Response:
        return self.responses[-1]

    def urls(self) -> list[str]:
        return [str(response.request.url) for response in self.responses]


@dataclass
class AgencyWebsite:
    site: AgencySite
    client_id: str
    error_log: Path


@pytest.fixture
def agency(gateway: Gateway, tmp_path: Path) -> Iterator[AgencyWebsite]:
    """Apache on a free loopback port, registered at the gateway as a confidential client of its
    own, with its signed-out page as the one place the gateway may send the citizen after
    signing out, and configured with the snippet the console gives the agency."""
    if not INSTALLED:
        pytest.fail(f"{MISSING_APACHE}; CI must run this test")
    port = free_port()
    site = AgencySite(f"http://127.0.0.1:{port}")
    app = register_app(
        gateway,
        "--scope",
        "openid",
        "--scope",
        "profile",
        "--scope",
        "email",
        "--post-logout-redirect-uri",
        site.signed_out_url,
        name="Agency website on Apache",
        redirect_uris=[site.redirect_uri],
    )
    assert app.client_secret
    env = {SECRET_VARIABLE: app.client_secret, PASSPHRASE_VARIABLE: secrets.token_urlsafe(32)}
    with agency_site_files() as document_root:
        config = write_config(
            tmp_path, document_root, port=port, snippet=apache_snippet(gateway, app.client_id)
        )
        with running_apache(config, port=port, env=env) as error_log:
            yield AgencyWebsite(site, app.client_id, error_log)
            log = error_log.read_text(errors="replace")
    # The module logs what it refused (a bad ID token, a failed token request) as errors.
    assert ":error]" not in log, log[-4000:]


def apache_snippet(gateway: Gateway, client_id: str) -> str:
    """The mod_auth_openidc configuration the onboarding view gives this app's agency."""
    database = Database(create_database_engine(gateway.database_url, pool_size=1))
    try:
        with database.unit_of_work() as session:
            client = find_registration(session, client_id)
            assert client is not None
            view = onboarding_for(client, issuer=gateway.issuer)
    finally:
        database.engine.dispose()
    [snippet] = [s.text for s in view.snippets if s.language == "apache"]
    return snippet


@pytest.fixture
def citizen_of_agency(gateway: Gateway) -> CitizenAccount:
    """A citizen of their own, since signing out ends every session of theirs."""
    return add_citizen(gateway, given_name="Kati", family_name="Karu", email="kati@example.org")


def visit(browser: Browser, url: str) -> Visit:
    """Follow redirects across Apache and the gateway, as a browser would, keeping each hop."""
    seen = Visit()
    response = browser.http.get(url)
    for _ in range(MAX_HOPS):
        seen.responses.append(response)
        location = response.headers.get("location")
        if response.status_code not in (301, 302, 303, 307) or not location:
            return seen
        response = browser.http.get(urljoin(str(response.request.url), location))
    raise AssertionError(f"more than {MAX_HOPS} redirects: {seen.urls()}")


def continue_from(browser: Browser, response: httpx.Response) -> Visit:
    """Carry on from a redirect the gateway answered with (back to Apache)."""
    assert response.status_code in (302, 303), response.text[:500]
    return visit(browser, urljoin(str(response.request.url), response.headers["location"]))


def is_sign_in_page(response: httpx.Response, gateway: Gateway) -> bool:
    return (
        response.status_code == 200
        and str(response.request.url).startswith(gateway.issuer)
        and 'action="/sign-in"' in response.text
    )


def claims_at_apache(browser: Browser, agency: AgencyWebsite) -> dict[str, Any]:
    """What mod_auth_openidc validated and keeps in its session (its info hook)."""
    response = browser.http.get(f"{agency.site.redirect_uri}?info=json")
    assert response.status_code == 200, response.text[:500]
    info: dict[str, Any] = json.loads(response.text)
    return info


def forget_agency_cookies(browser: Browser) -> None:
    """A fresh Apache session: its cookies gone, the gateway's kept (another tab, next day)."""
    browser.http.cookies.jar.clear(domain="127.0.0.1")
    assert not [cookie for cookie in browser.http.cookies.jar if cookie.domain == "127.0.0.1"]


def sign_in_at_apache(
    gateway: Gateway, browser: Browser, agency: AgencyWebsite, citizen: CitizenAccount
) -> Visit:
    """From the protected page through the gateway's sign-in and consent and back."""
    to_gateway = visit(browser, agency.site.protected_url)
    assert is_sign_in_page(to_gateway.page, gateway), to_gateway.urls()
    authorize = urlsplit(to_gateway.urls()[1])
    sent = parse_qs(authorize.query)
    assert (
        f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{gateway.issuer}/authorize"
    )
    assert sent["client_id"] == [agency.client_id]
    assert sent["redirect_uri"] == [agency.site.redirect_uri]
    assert sent["code_challenge_method"] == ["S256"]
    back = browser.follow_to_client(
        to_gateway.page, username=citizen.username, password=citizen.password
    )
    assert 'action="/consent"' in browser.last_page, "the first sign-in asks for consent"
    return continue_from(browser, back)


def test_apache_signs_in_signs_in_again_without_a_password_and_signs_out(
    gateway: Gateway, browser: Browser, agency: AgencyWebsite, citizen_of_agency: CitizenAccount
) -> None:
    # a. The protected page, after signing in at the gateway and consenting.
    at_apache = sign_in_at_apache(gateway, browser, agency, citizen_of_agency)
    assert at_apache.page.status_code == 200, at_apache.urls()
    assert PROTECTED_TEXT in at_apache.page.text
    validated = claims_at_apache(browser, agency)
    claims = validated["id_token"]
    assert claims["sub"] == citizen_of_agency.subject
    assert claims["iss"] == gateway.issuer
    assert claims["aud"] in (agency.client_id, [agency.client_id])
    assert validated["userinfo"]["sub"] == claims["sub"]
    assert validated["userinfo"]["email"] == "kati@example.org"

    # b. A new Apache session: the gateway's session signs the citizen in with no page at all.
    forget_agency_cookies(browser)
    again = visit(browser, agency.site.protected_url)
    assert again.page.status_code == 200 and PROTECTED_TEXT in again.page.text, again.urls()
    at_gateway = [r for r in again.responses if str(r.request.url).startswith(gateway.issuer)]
    assert at_gateway, again.urls()
    assert all(r.status_code in (302, 303) for r in at_gateway), "no sign-in or consent page"
    assert claims_at_apache(browser, agency)["id_token"]["sub"] == citizen_of_agency.subject

    # c. Apache's logout sends the browser to the gateway's end-session endpoint, which ends
    #    the gateway's session too and sends it back to the signed-out page.
    metadata = gateway.metadata()
    # The module learns the endpoint from discovery alone, as every agency's would.
    assert "end_session_endpoint" in metadata, (
        "discovery names no end_session_endpoint (RP-Initiated Logout 1.0 section 2.1): "
        "mod_auth_openidc then signs the citizen out of Apache alone, and the gateway's "
        "session signs them straight back in"
    )
    end_session = metadata["end_session_endpoint"]
    signed_out = visit(
        browser,
        f"{agency.site.redirect_uri}?logout={quote(agency.site.signed_out_url, safe='')}",
    )
    assert signed_out.page.status_code == 200, signed_out.urls()
    assert SIGNED_OUT_TEXT in signed_out.page.text
    at_end_session = [
        r for r in signed_out.responses if str(r.request.url).startswith(f"{end_session}?")
    ]
    assert len(at_end_session) == 1, signed_out.urls()
    [logout] = at_end_session
    sent = parse_qs(urlsplit(str(logout.request.url)).query)
    assert sent["post_logout_redirect_uri"] == [agency.site.signed_out_url]
    assert sent["id_token_hint"], "mod_auth_openidc sends the ID token it was given"
    assert logout.status_code == 303, logout.text[:500]
    assert logout.headers["location"].startswith(agency.site.signed_out_url)

    # d. Signed out everywhere: the protected page needs the password again.
    after = visit(browser, agency.site.protected_url)
    assert is_sign_in_page(after.page, gateway), after.urls()
    assert not any("code=" in url for url in after.urls()), "no code without signing in"
