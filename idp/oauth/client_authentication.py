"""Client authentication at the token, introspection and revocation endpoints: strict parsing of
HTTP Basic credentials and the secret methods Authlib calls.

Authlib's own Basic parser raises on a header it cannot split or decode (`Basic ` with nothing
after it, bytes that are not UTF-8, non-ASCII text), which became a server error. Here every
malformed credential is what it is: a failed client authentication (401 `invalid_client`).
The descriptions of the `InvalidClientError`s raised here are private detail: the server answers
every one with the catalogue's uniform `INVALID_CLIENT` (idp.oauth.server).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import unquote

from authlib.oauth2.rfc6749.authenticate_client import authenticate_client_secret_post
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError

from idp.protocol.errors import CLIENT_AUTHENTICATION_METHODS_MIXED


class MalformedCredentials(ValueError):
    """An Authorization header that names the Basic scheme but holds no readable credentials."""


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """The (client_id, client_secret) of a Basic Authorization header; None for another scheme
    or none at all.

    RFC 7617 2: `Basic` (any case), one space, base64 of `user-id ":" password` in UTF-8 (the
    charset our challenge announces); RFC 6749 2.3.1: both parts form-urlencoded first.
    """
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        # validate=True: characters outside the base64 alphabet are an error, not skipped.
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeError) as error:  # binascii.Error is a ValueError
        raise MalformedCredentials("the Basic credentials are not base64 of UTF-8") from error
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        raise MalformedCredentials("the Basic credentials need a colon after the client_id")
    client_id, client_secret = unquote(client_id), unquote(client_secret)
    if "\x00" in client_id:  # no client_id holds NUL, and PostgreSQL cannot compare it
        raise MalformedCredentials("the client_id holds NUL")
    return client_id, client_secret


def _has_basic_header(request: Any) -> bool:
    scheme = str(request.headers.get("Authorization", "")).strip().partition(" ")[0]
    return scheme.lower() == "basic"


def _authenticate_basic(query_client: Any, request: Any) -> Any:
    try:
        credentials = basic_credentials(request.headers.get("Authorization"))
    except MalformedCredentials as error:
        raise InvalidClientError(status_code=401, description=str(error)) from error
    if credentials is None:
        return None
    client_id, client_secret = credentials
    if not client_id or not client_secret:
        return None  # as Authlib: not this method (a public client may send an empty secret)
    client = query_client(client_id)
    if client is None or not client.check_client_secret(client_secret):
        return None
    return client


def strict_client_auth(method: str) -> Any:
    """Our Basic parsing, Authlib's post method, and two rules Authlib leaves out: one
    authentication method per request (RFC 6749 2.3) and a body `client_id` that must name the
    authenticated client."""
    base = (
        _authenticate_basic if method == "client_secret_basic" else authenticate_client_secret_post
    )

    def authenticate(query_client: Any, request: Any) -> Any:
        if _has_basic_header(request) and "client_secret" in request.form:
            raise InvalidRequestError(CLIENT_AUTHENTICATION_METHODS_MIXED.description)
        client = base(query_client, request)
        if client is None:
            return None
        body_client_id = request.form.get("client_id")
        if body_client_id is not None and body_client_id != client.get_client_id():
            raise InvalidClientError(status_code=401, description="client_id does not match.")
        return client

    return authenticate
