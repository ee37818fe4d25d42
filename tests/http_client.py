"""The suite's HTTP clients: httpx's, with one SSL context built once for the whole run.

httpx builds a new SSL context for every client it makes, and `httpx.get` makes one per call:
loading the CA bundle costs about 25 ms of CPU each time, more than most requests to a loopback
gateway. The suite makes thousands of them (every helper call, every poll while a gateway
starts), so every client here shares `TLS`, a context that verifies as httpx's does by
default (certifi's roots, hostnames checked). Tests speak plain HTTP to loopback servers; the
context is only ever used by a test that reaches an `https` URL.

`httpx.get`, `httpx.Client` and the like are banned in tests (ruff TID251, pyproject.toml), so a
new test cannot bring the cost back."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import certifi
import httpx

TLS = ssl.create_default_context(cafile=certifi.where())
# httpx's own default for its top-level functions.
DEFAULT_TIMEOUT = httpx.Timeout(5.0)
# The type of any of them, and of an in-process gateway's TestClient, for annotations.
AnyClient = httpx.Client


def Client(**options: Any) -> httpx.Client:  # noqa: N802 - stands in for httpx.Client
    return httpx.Client(verify=TLS, **options)


def HTTPTransport(**options: Any) -> httpx.HTTPTransport:  # noqa: N802 - for httpx.HTTPTransport
    return httpx.HTTPTransport(verify=TLS, **options)


def request(
    method: str,
    url: str | httpx.URL,
    *,
    timeout: Any = DEFAULT_TIMEOUT,
    follow_redirects: bool = False,
    trust_env: bool = True,
    **arguments: Any,
) -> httpx.Response:
    """One request on a client of its own, as `httpx.request` makes it."""
    with Client(timeout=timeout, follow_redirects=follow_redirects, trust_env=trust_env) as client:
        return client.request(method, url, **arguments)


def _method(method: str) -> Callable[..., httpx.Response]:
    def call(url: str | httpx.URL, **arguments: Any) -> httpx.Response:
        return request(method, url, **arguments)

    call.__name__ = method.lower()
    return call


get, post, put, patch, delete = map(_method, ["GET", "POST", "PUT", "PATCH", "DELETE"])
