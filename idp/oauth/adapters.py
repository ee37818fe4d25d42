"""Authlib's model mixins over our rows: clients, codes and issued tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import scope_to_list

from idp.clients import client_secret_matches
from idp.models import AuthorizationCode, Client, IssuedToken
from idp.oauth.tokens import StoredAccessToken
from idp.redirect_uris import redirect_uri_is_registered

CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class OAuthClient(ClientMixin):  # type: ignore[misc]
    def __init__(
        self, row: Client, *, now: datetime, reread: Callable[[], Client | None] | None = None
    ) -> None:
        self.row = row
        self.client_id = row.client_id
        self.now = now  # the request's time, which a previous secret's overlap is held to
        self._reread = reread  # the registration as stored, when `row` may be a cached one

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        # Never pick a redirect URI for the client: it must send one (OIDC Core 3.1.2.1).
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """Requested scopes the client may have; others are dropped, not refused
        (OIDC Core 3.1.2.1: scope values that are not understood SHOULD be ignored)."""
        allowed = self.row.scopes
        return " ".join(s for s in dict.fromkeys(scope_to_list(scope) or []) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri_is_registered(self.row, redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        if client_secret_matches(self.row, client_secret, now=self.now):
            return True
        # A cached registration may predate a rotation made on another node: a secret it does
        # not know is checked once more against the stored one, so a new secret works at once
        # everywhere. A wrong secret costs one read, as it did before there was a cache.
        fresh = self._reread() if self._reread is not None else None
        if fresh is None:
            return False
        self.row = fresh
        return client_secret_matches(fresh, client_secret, now=self.now)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.is_public:
            return method == "none"
        return method in CONFIDENTIAL_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.row.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


class CodeView:
    """An authorization code as Authlib's AuthorizationCodeGrant and CodeChallenge read it."""

    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


class TokenView(TokenMixin):  # type: ignore[misc]
    """An issued token as Authlib's endpoints read it: an access token's stored record, or the
    row of a refresh token (which rotation and revocation change through the ORM)."""

    def __init__(self, row: StoredAccessToken | IssuedToken, *, now: datetime) -> None:
        self.row = row
        self.kind = "access_token" if isinstance(row, StoredAccessToken) else "refresh_token"
        self.now = now

    def check_client(self, client: OAuthClient) -> bool:
        return self.row.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.row.scope

    def expires_at(self) -> datetime | None:
        if isinstance(self.row, StoredAccessToken):
            return self.row.expires_at
        return self.row.refresh_token_expires_at

    def get_expires_in(self) -> int:
        expires = self.expires_at()
        return max(0, int((expires - self.now).total_seconds())) if expires else 0

    def is_expired(self) -> bool:
        expires = self.expires_at()
        return expires is None or expires <= self.now

    def is_revoked(self) -> bool:
        # A refresh token that was already exchanged is no longer usable either.
        if isinstance(self.row, IssuedToken) and self.row.rotated_at is not None:
            return True
        return self.row.revoked_at is not None
