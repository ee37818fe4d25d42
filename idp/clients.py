"""Agency clients: registration and its revision (redirect and logout URIs checked by
idp.redirect_uris), secrets and their rotation, lookup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.models import Client
from idp.opaque_values import digest, matches_digest, new_identifier, new_opaque_value
from idp.protocol.assurance import Level
from idp.protocol.claims import ADMIN_API_SCOPES, SUPPORTED_SCOPES
from idp.redirect_uris import (
    InvalidRedirectUri,
    check_backchannel_logout_uri,
    check_frontchannel_logout_uri,
    check_redirect_uri,
)
from idp.settings import LONGEST_SECRET_OVERLAP

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
    backchannel_logout_uri: str | None = None,
    frontchannel_logout_uri: str | None = None,
    require_pkce: bool = False,
    id_token_signed_response_alg: str = "RS256",  # noqa: S107  (an algorithm name)
    purpose: str | None = None,
    minimum_level: str | None = None,
    issuer: str,
    now: datetime,
) -> RegisteredClient:
    """`issuer`: the gateway's own, which decides whether a loopback back-channel logout URI
    may be registered (idp.redirect_uris.check_backchannel_logout_uri)."""
    choices = checked_choices(
        issuer=issuer,
        public=public,
        name=name,
        purpose=purpose,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout_redirect_uris or [],
        backchannel_logout_uri=backchannel_logout_uri,
        frontchannel_logout_uri=frontchannel_logout_uri,
        grant_types=grant_types or list(DEFAULT_GRANT_TYPES),
        scopes=scopes or list(DEFAULT_SCOPES),
        require_pkce=require_pkce,
        id_token_signed_response_alg=id_token_signed_response_alg,
        minimum_level=minimum_level,
    )
    secret = None if public else new_opaque_value(32)
    client = Client(
        client_id=new_identifier(),
        secret_digest=digest(secret) if secret else None,
        is_public=public,
        created_at=now,
        **choices,
    )
    session.add(client)
    session.flush()
    return RegisteredClient(client=client, client_secret=secret)


# What an operator may change of a registration after it is made (whether the client is
# public is not among them: that decides whether it has a secret at all).
REVISABLE = (
    "name",
    "purpose",
    "redirect_uris",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "frontchannel_logout_uri",
    "grant_types",
    "scopes",
    "require_pkce",
    "id_token_signed_response_alg",
    "minimum_level",
)


def revise_client(client: Client, changes: Mapping[str, Any], *, issuer: str) -> dict[str, Any]:
    """Applies `changes` (names from REVISABLE) after checking the whole registration they make
    by the rules of `register_client`; returns what actually changed, as stored. On
    InvalidClientData nothing is changed."""
    unknown = set(changes) - set(REVISABLE)
    if unknown:
        raise InvalidClientData(f"cannot change: {', '.join(sorted(unknown))}")
    current = {name: getattr(client, name) for name in REVISABLE}
    choices = checked_choices(issuer=issuer, public=client.is_public, **{**current, **changes})
    changed = {name: value for name, value in choices.items() if value != current[name]}
    for name, value in changed.items():
        setattr(client, name, value)
    return changed


def checked_choices(
    *,
    issuer: str,
    public: bool,
    name: str,
    purpose: str | None,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    backchannel_logout_uri: str | None,
    frontchannel_logout_uri: str | None,
    grant_types: list[str],
    scopes: list[str],
    require_pkce: bool,
    id_token_signed_response_alg: str,
    minimum_level: str | None = None,
) -> dict[str, Any]:
    """A registration's chosen fields, normalised, as stored; InvalidClientData says which rule
    one breaks."""
    name, purpose = _checked_words(name, purpose)
    grants = _checked_grants(grant_types, public=public, redirect_uris=redirect_uris)
    _check_uris(
        issuer=issuer,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout_redirect_uris,
        backchannel_logout_uri=backchannel_logout_uri,
        frontchannel_logout_uri=frontchannel_logout_uri,
    )
    allowed_scopes = _checked_scopes(scopes, grants=grants)
    if id_token_signed_response_alg not in ID_TOKEN_ALGORITHMS:
        raise InvalidClientData("id_token_signed_response_alg must be RS256 or ES256")
    if minimum_level is not None and Level.labelled(minimum_level) is None:
        raise InvalidClientData("minimum_level must be low, substantial or high")
    return {
        "name": name,
        "purpose": purpose,
        "redirect_uris": list(dict.fromkeys(redirect_uris)),
        "post_logout_redirect_uris": list(dict.fromkeys(post_logout_redirect_uris)),
        "backchannel_logout_uri": backchannel_logout_uri,
        "frontchannel_logout_uri": frontchannel_logout_uri,
        "grant_types": grants,
        "scopes": allowed_scopes,
        # Public clients cannot keep a secret: PKCE is what binds their code (RFC 9700 2.1.1).
        "require_pkce": require_pkce or public,
        "id_token_signed_response_alg": id_token_signed_response_alg,
        "minimum_level": minimum_level,
    }


def _checked_words(name: str, purpose: str | None) -> tuple[str, str | None]:
    name = name.strip()
    if not 1 <= len(name) <= 255:
        raise InvalidClientData("name must be 1 to 255 characters")
    purpose = " ".join(purpose.split()) if purpose is not None else None
    if purpose is not None and not 1 <= len(purpose) <= 500:
        raise InvalidClientData("purpose must be 1 to 500 characters")
    if not (name + (purpose or "")).isprintable():  # shown on the consent page, as text
        raise InvalidClientData("name and purpose must not hold control characters")
    return name, purpose


def _check_uris(
    *,
    issuer: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    backchannel_logout_uri: str | None,
    frontchannel_logout_uri: str | None,
) -> None:
    try:
        for uri in [*redirect_uris, *post_logout_redirect_uris]:
            check_redirect_uri(uri)
        if backchannel_logout_uri is not None:
            check_backchannel_logout_uri(backchannel_logout_uri, issuer=issuer)
        if frontchannel_logout_uri is not None:
            check_frontchannel_logout_uri(frontchannel_logout_uri, redirect_uris=redirect_uris)
    except InvalidRedirectUri as error:
        raise InvalidClientData(str(error)) from error


def _checked_grants(grant_types: list[str], *, public: bool, redirect_uris: list[str]) -> list[str]:
    grants = list(dict.fromkeys(grant_types))
    if not grants:
        raise InvalidClientData("at least one grant type is needed")
    for grant in grants:
        if grant not in GRANT_TYPES:
            raise InvalidClientData(f"unsupported grant type: {grant}")
    if public and "client_credentials" in grants:
        raise InvalidClientData("a public client cannot use client_credentials")
    if "authorization_code" in grants and not redirect_uris:
        raise InvalidClientData("authorization_code needs at least one redirect URI")
    return grants


def _checked_scopes(scopes: list[str], *, grants: list[str]) -> list[str]:
    allowed_scopes = list(dict.fromkeys(scopes))
    if not allowed_scopes:
        raise InvalidClientData("at least one scope is needed")
    for scope in allowed_scopes:
        if scope not in (*SUPPORTED_SCOPES, *ADMIN_API_SCOPES):
            raise InvalidClientData(f"unsupported scope: {scope}")
    if set(allowed_scopes) & set(ADMIN_API_SCOPES) and grants != ["client_credentials"]:
        # An administrators' client acts for no citizen: it may not sign anyone in.
        raise InvalidClientData("admin: scopes need the client_credentials grant alone")
    return allowed_scopes


def rotate_secret(client: Client, *, overlap: timedelta, now: datetime) -> str:
    """A new secret for a confidential client (returned once; only its digest is kept). The
    replaced secret keeps working until `now + overlap`, none at all for a zero overlap. A
    secret still in the overlap of an earlier rotation ends at once: at most two ever work."""
    if client.is_public:
        raise InvalidClientData("a public client has no secret to rotate")
    if not timedelta(0) <= overlap <= LONGEST_SECRET_OVERLAP:
        raise InvalidClientData("the overlap must be between 0 and 7 days")
    secret = new_opaque_value(32)
    keep_previous = overlap > timedelta(0)
    client.previous_secret_digest = client.secret_digest if keep_previous else None
    client.previous_secret_expires_at = now + overlap if keep_previous else None
    client.secret_digest = digest(secret)
    return secret


def secret_overlap_ends_at(client: Client, *, now: datetime) -> datetime | None:
    """When the secret replaced by the last rotation stops working; None when it already has."""
    ends_at = client.previous_secret_expires_at
    if client.previous_secret_digest is None or ends_at is None or ends_at <= now:
        return None
    return ends_at


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
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "frontchannel_logout_uri": client.frontchannel_logout_uri,
        "grant_types": client.grant_types,
        "scopes": client.scopes,
        "require_pkce": client.require_pkce,
        "disabled": client.disabled_at is not None,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "minimum_level": client.minimum_level or Level.LOW.label,
    }


def find_registration(session: Session, client_id: str) -> Client | None:
    """The client's registration, disabled or not (for operators)."""
    if not client_id or len(client_id) > 64 or "\x00" in client_id:  # PostgreSQL refuses NUL
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

    def reread(self, session: Session, client_id: str, *, now: datetime) -> Client | None:
        """The registration as stored now, cached afresh."""
        self.forget(client_id)
        return self.find(session, client_id, now=now)

    def forget(self, client_id: str) -> None:
        """Drop a registration this node changed, so its next request reads the new one (other
        nodes read it within `lifetime`)."""
        self._entries.pop(client_id, None)


def list_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).order_by(Client.id)))


def client_secret_matches(client: Client, secret: str, *, now: datetime) -> bool:
    """The client's current secret, or the one its last rotation replaced while the overlap
    lasts at `now` (the request's time: a cached registration is held to it too)."""
    if client.is_public:
        return False
    # Both digests are always compared, so the time taken does not tell which secret matched.
    current = matches_digest(secret, client.secret_digest)
    previous = matches_digest(secret, client.previous_secret_digest)
    return current or (previous and secret_overlap_ends_at(client, now=now) is not None)
