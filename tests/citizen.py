"""A citizen's browser over plain HTTP: follows our pages, keeps cookies, fills the forms."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx

from tests import http_client

HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
# The gateways under test trust this loopback address as their reverse proxy
# (IDP_TRUSTED_PROXIES): a browser connecting from it speaks from any address it names.
TRUSTED_PROXY = "127.0.0.2"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN_INPUT.findall(page)}


@dataclass
class AppClient:
    client_id: str
    client_secret: str | None
    redirect_uris: list[str]

    @property
    def redirect_uri(self) -> str:
        return self.redirect_uris[0]


class Browser:
    """Cookies and redirects like a browser, but every hop is visible to the test."""

    def __init__(
        self,
        issuer: str,
        *,
        source: str | bytes | None = None,
        http: http_client.AnyClient | None = None,
    ) -> None:
        """`source`: the client address the trusted proxy reports in X-Forwarded-For; without
        it the browser connects straight from 127.0.0.1. `http`: a client already made (an
        in-process gateway's), used as it is."""
        self.issuer = issuer
        if http is not None:
            self.http = http
        elif source is None:
            self.http = http_client.Client(follow_redirects=False, timeout=30)
        else:
            self.http = http_client.Client(
                follow_redirects=False,
                timeout=60,
                transport=http_client.HTTPTransport(local_address=TRUSTED_PROXY),
                headers={"X-Forwarded-For": source},
            )
        self.last_page = ""

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def authorize(self, params: dict[str, str], *, method: str = "GET") -> httpx.Response:
        if method == "POST":
            return self.http.post(f"{self.issuer}/authorize", data=params)
        return self.http.get(f"{self.issuer}/authorize?{urlencode(params)}")

    def follow_to_client(
        self,
        response: httpx.Response,
        *,
        username: str | None = None,
        password: str | None = None,
        consent: str = "allow",
        max_hops: int = 8,
    ) -> httpx.Response:
        """Follow redirects within the gateway, signing in and consenting as asked, and stop at
        the first response that leaves the gateway (the redirect to the client) or any page
        that is neither sign-in nor consent."""
        for _ in range(max_hops):
            location = response.headers.get("location")
            if response.status_code in (302, 303) and location:
                if not location.startswith(self.issuer) and not location.startswith("/"):
                    return response
                url = location if location.startswith("http") else self.issuer + location
                response = self.http.get(url)
                continue
            page = response.text
            self.last_page = page
            fields = hidden_fields(page)
            if 'action="/sign-in"' in page and username is not None:
                response = self.http.post(
                    f"{self.issuer}/sign-in",
                    data={**fields, "username": username, "password": password or ""},
                )
                if response.status_code == 200 and 'action="/sign-in"' in response.text:
                    return response  # sign-in failed: stay on the page
                continue
            if 'action="/consent"' in page and consent:
                response = self.http.post(
                    f"{self.issuer}/consent", data={**fields, "decision": consent}
                )
                continue
            return response
        raise AssertionError("too many hops")


def callback_params(response: httpx.Response) -> dict[str, str]:
    """The parameters the client receives at its redirect URI."""
    location = response.headers["location"]
    return dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))


def authorization_params(app: AppClient, **overrides: Any) -> dict[str, str]:
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uri,
        "scope": "openid profile email",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update({k: v for k, v in overrides.items() if v is not None})
    for key, value in overrides.items():
        if value is None:
            params.pop(key, None)
    params["_verifier"] = verifier
    return params


def split_verifier(params: dict[str, str]) -> tuple[dict[str, str], str]:
    params = dict(params)
    verifier = params.pop("_verifier")
    return params, verifier


def location_query(response: httpx.Response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response.headers["location"]).query)


def account_form_token(page: str) -> str:
    """The token every form of the account page carries (one per browser session)."""
    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found, "the account page has no form"
    return found.group(1)
