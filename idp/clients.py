"""Agency clients: registration (redirect URIs checked by idp.redirect_uris), secrets, lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.models import Client
from idp.opaque_values import digest, matches_digest, new_identifier, new_opaque_value
from idp.protocol.claims import ADMIN_API_SCOPES, SUPPORTED_SCOPES
from idp.redirect_uris import InvalidRedirectUri, check_redirect_uri

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
DEFAULT_GRANT_TYPES = ("authorization_code", "refresh_token")
DEFAULT_SCOPES = ("openid", "profile", "email")
ID_TOKEN_ALGORITHMS = ("RS256", "ES256")


class InvalidClientData(ValueError):
    """The client cannot be registered as given; the message says why."""


@dataclass(frozen=True)
class RegisteredClient:
    client: Client
    client_secret: str | None  # shown once, never stored


def register_client(
    session: Session,
    *,
    name: str,
    redirect_uris: list[str],
    public: bool = False,
    grant_types: list[str] | None = None,
    scopes: list[str] | None = None,
    post_logout_redirect_uris: list[str] | None = None,
    require_pkce: bool = False,
    id_token_signed_response_alg: str = "RS256",  # noqa: S107  (an algorithm name)
    purpose: str | None = None,
    now: datetime,
) -> RegisteredClient:
    name = name.strip()
    if not 1 <= len(name) <= 255:
        raise InvalidClientData("name must be 1 to 255 characters")
    purpose = " ".join(purpose.split()) if purpose is not None else None
    if purpose is not None and not 1 <= len(purpose) <= 500:
        raise InvalidClientData("purpose must be 1 to 500 characters")
    grants = list(dict.fromkeys(grant_types or DEFAULT_GRANT_TYPES))
    for grant in grants:
        if grant not in GRANT_TYPES:
            raise InvalidClientData(f"unsupported grant type: {grant}")
    if public and "client_credentials" in grants:
        raise InvalidClientData("a public client cannot use client_credentials")
    if "authorization_code" in grants and not redirect_uris:
        raise InvalidClientData("authorization_code needs at least one redirect URI")
    for uri in [*redirect_uris, *(post_logout_redirect_uris or [])]:
        try:
            check_redirect_uri(uri)
        except InvalidRedirectUri as error:
            raise InvalidClientData(str(error)) from error
    allowed_scopes = list(dict.fromkeys(scopes or DEFAULT_SCOPES))
    for scope in allowed_scopes:
        if scope not in (*SUPPORTED_SCOPES, *ADMIN_API_SCOPES):
            raise InvalidClientData(f"unsupported scope: {scope}")
    if set(allowed_scopes) & set(ADMIN_API_SCOPES) and grants != ["client_credentials"]:
        # An administrators' client acts for no citizen: it may not sign anyone in.
        raise InvalidClientData("admin: scopes need the client_credentials grant alone")
    if id_token_signed_response_alg not in ID_TOKEN_ALGORITHMS:
        raise InvalidClientData("id_token_signed_response_alg must be RS256 or ES256")
    secret = None if public else new_opaque_value(32)
    client = Client(
        client_id=new_identifier(),
        name=name,
        purpose=purpose,
        secret_digest=digest(secret) if secret else None,
        is_public=public,
        redirect_uris=list(dict.fromkeys(redirect_uris)),
        post_logout_redirect_uris=list(dict.fromkeys(post_logout_redirect_uris or [])),
        grant_types=grants,
        scopes=allowed_scopes,
        # Public clients cannot keep a secret: PKCE is what binds their code (RFC 9700 2.1.1).
        require_pkce=require_pkce or public,
        id_token_signed_response_alg=id_token_signed_response_alg,
        created_at=now,
    )
    session.add(client)
    session.flush()
    return RegisteredClient(client=client, client_secret=secret)


def registration_summary(client: Client) -> dict[str, Any]:
    """What an operator sees of a registration (the command line, the admin API); never a
    secret, of which only the digest is kept."""
    return {
        "client_id": client.client_id,
        "name": client.name,
        "purpose": client.purpose,
        "public": client.is_public,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "grant_types": client.grant_types,
        "scopes": client.scopes,
        "require_pkce": client.require_pkce,
        "disabled": client.disabled_at is not None,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
    }


def find_registration(session: Session, client_id: str) -> Client | None:
    """The client's registration, disabled or not (for operators)."""
    if not client_id or len(client_id) > 64:
        return None
    return session.scalar(select(Client).where(Client.client_id == client_id))


def find_client(session: Session, client_id: str) -> Client | None:
    if not client_id or len(client_id) > 64:
        return None
    client = session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None or client.disabled_at is not None:
        return None
    return client


class ClientCache:
    """Recently read client registrations, so the token endpoint does not query the client on
    every request. Entries are detached rows, read only, and expire after `lifetime`."""

    def __init__(self, lifetime: timedelta) -> None:
        self.lifetime = lifetime
        self._entries: dict[str, tuple[datetime, Client]] = {}

    def find(self, session: Session, client_id: str, *, now: datetime) -> Client | None:
        cached = self._entries.get(client_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        client = find_client(session, client_id)
        if client is None:
            self._entries.pop(client_id, None)
            return None
        session.expunge(client)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[client_id] = (now + self.lifetime, client)
        return client


def list_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).order_by(Client.id)))


def client_secret_matches(client: Client, secret: str) -> bool:
    return not client.is_public and matches_digest(secret, client.secret_digest)
