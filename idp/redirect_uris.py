"""Redirect URIs: what may be registered, and the exact match every authorization request and
code exchange is held to."""

from __future__ import annotations

from urllib.parse import urlsplit

from idp.models import Client
from idp.settings import is_loopback_host


class InvalidRedirectUri(ValueError):
    """The URI cannot be registered; the message says why."""


def check_redirect_uri(uri: str) -> None:
    """Registration rules (RFC 9700 2.1, 4.1.3): absolute, no fragment, https or loopback http."""
    if len(uri) > 2000 or not uri.isprintable() or any(c.isspace() for c in uri):
        # urlsplit drops some whitespace silently: what is stored must be what is matched.
        raise InvalidRedirectUri("redirect URI must be at most 2000 characters, without spaces")
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise InvalidRedirectUri(f"redirect URI must not have a fragment: {uri}")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return
    raise InvalidRedirectUri(f"redirect URI must be https (http only on loopback): {uri}")


def redirect_uri_is_registered(client: Client, redirect_uri: str) -> bool:
    """Simple string comparison, nothing else: no normalisation, no prefix, no pattern
    (RFC 9700 2.1 and 4.1.3; OIDC Core 3.1.2.1)."""
    return redirect_uri in client.redirect_uris
