"""Redirect URIs, and the logout URIs held to the same registration rules: what may be
registered, and the exact match every authorization request and code exchange is held to."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import SplitResult, urlsplit

from idp.models import Client
from idp.settings import is_loopback_host


class InvalidRedirectUri(ValueError):
    """The URI cannot be registered; the message says why."""


def check_redirect_uri(uri: str, *, name: str = "redirect URI") -> None:
    """Registration rules (RFC 9700 2.1, 4.1.3): absolute, no fragment, https or loopback http.
    `name` is what the message calls the URI (a logout URI is held to the same rules)."""
    if len(uri) > 2000 or not uri.isprintable() or any(c.isspace() for c in uri):
        # urlsplit drops some whitespace silently: what is stored must be what is matched.
        raise InvalidRedirectUri(f"{name} must be at most 2000 characters, without spaces")
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise InvalidRedirectUri(f"{name} must not have a fragment: {uri}")
    if _origin(parts) is None:
        raise InvalidRedirectUri(f"{name} has a port that is not a number from 0 to 65535: {uri}")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return
    raise InvalidRedirectUri(f"{name} must be an absolute https URI (http only on loopback): {uri}")


def check_backchannel_logout_uri(uri: str, *, issuer: str) -> None:
    """Where the gateway posts the app's logout tokens. Back-Channel Logout 1.0 section 2.2: an
    absolute URI, a query allowed, no fragment; https, as for redirect URIs (http on loopback).

    Unlike a redirect URI, which the citizen's browser follows, this one the gateway requests
    itself: on loopback it would reach services on the gateway's own machine (server-side
    request forgery, OWASP ASVS 5.0 1.3.6). So a loopback one is taken only while the gateway
    itself runs on loopback, for development and tests."""
    check_redirect_uri(uri, name="backchannel_logout_uri")
    if not may_post_logout_tokens_to(uri, issuer=issuer):
        raise InvalidRedirectUri(
            "backchannel_logout_uri must not be on loopback unless the gateway is: "
            f"the gateway would post to its own machine: {uri}"
        )


def may_post_logout_tokens_to(uri: str, *, issuer: str) -> bool:
    """False for a loopback URI when the gateway's issuer is not on loopback."""
    host = urlsplit(uri).hostname or ""
    return not is_loopback_host(host) or is_loopback_host(urlsplit(issuer).hostname or "")


def check_frontchannel_logout_uri(uri: str, *, redirect_uris: Sequence[str]) -> None:
    """What the gateway's signed-out page frames in the citizen's browser. Front-Channel Logout
    1.0 section 2: the rules of a redirect URI (a query allowed, no fragment), and the scheme,
    host and port of one of the app's registered redirect URIs, so the page never frames a site
    the app does not sign citizens in on."""
    name = "frontchannel_logout_uri"
    check_redirect_uri(uri, name=name)
    origin = _origin(urlsplit(uri))
    if origin not in {_origin(urlsplit(redirect_uri)) for redirect_uri in redirect_uris}:
        raise InvalidRedirectUri(
            f"{name} must have the scheme, host and port of a registered redirect URI: {uri}"
        )


def _origin(parts: SplitResult) -> tuple[str, str, int | None] | None:
    """Scheme, host and port (None when the URI has none), or None for a port that is not one."""
    try:
        port = parts.port
    except ValueError:
        return None
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or ""), port if port is not None else default


def redirect_uri_is_registered(client: Client, redirect_uri: str) -> bool:
    """Simple string comparison, nothing else: no normalisation, no prefix, no pattern
    (RFC 9700 2.1 and 4.1.3; OIDC Core 3.1.2.1)."""
    return redirect_uri in client.redirect_uris
