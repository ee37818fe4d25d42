"""What an operator does to agency apps, whichever surface it comes through (the admin API, the
console): register, revise, rotate the secret, disable and enable.

Each function makes one change in `ctx.session` and records its event, naming the administrator
as `actor` ("Name (admin API)", "username (console)"); none commits (the caller's unit of work
does). A rule the change would break raises `InvalidClientData`, with a message fit to show; an
unknown client_id raises `UnknownAgencyApp`. Either is raised before anything is changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from admin.console_client import CONSOLE_CLIENT_ID
from idp import events
from idp.clients import (
    InvalidClientData,
    find_registration,
    register_client,
    registration_summary,
    revise_client,
    rotate_secret,
    secret_overlap_ends_at,
)
from idp.models import Client
from idp.oauth.context import OperationContext

__all__ = [
    "AppChanges",
    "AppOptions",
    "InvalidClientData",
    "UnknownAgencyApp",
    "disable_agency_app",
    "enable_agency_app",
    "register_agency_app",
    "rotate_client_secret",
    "update_agency_app",
]


class UnknownAgencyApp(LookupError):
    """No agency app has this client_id."""


@dataclass(frozen=True)
class AppOptions:
    """A new registration, as `idp.clients.register_client` takes it (None: its default)."""

    name: str
    redirect_uris: Sequence[str] = ()
    public: bool = False
    grant_types: Sequence[str] | None = None
    scopes: Sequence[str] | None = None
    post_logout_redirect_uris: Sequence[str] = ()
    backchannel_logout_uri: str | None = None
    frontchannel_logout_uri: str | None = None
    require_pkce: bool = False
    id_token_signed_response_alg: str = "RS256"  # noqa: S105  (an algorithm name)
    purpose: str | None = None


@dataclass(frozen=True)
class AppChanges:
    """What to change of a registration; None leaves a field as it is. An empty `purpose`,
    `backchannel_logout_uri` or `frontchannel_logout_uri` removes it."""

    name: str | None = None
    purpose: str | None = None
    redirect_uris: Sequence[str] | None = None
    post_logout_redirect_uris: Sequence[str] | None = None
    backchannel_logout_uri: str | None = None
    frontchannel_logout_uri: str | None = None
    scopes: Sequence[str] | None = None
    grant_types: Sequence[str] | None = None
    id_token_signed_response_alg: str | None = None
    require_pkce: bool | None = None

    def given(self) -> dict[str, Any]:
        """The changes as `idp.clients.revise_client` takes them."""
        changes: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                value = list(value)
            changes[field.name] = value
        for removable in ("purpose", "backchannel_logout_uri", "frontchannel_logout_uri"):
            if changes.get(removable) == "":
                changes[removable] = None
        return changes


def register_agency_app(
    ctx: OperationContext, *, actor: str, options: AppOptions
) -> tuple[Client, str | None]:
    """The new registration and its secret (None for a public client), which is shown once:
    only its digest is kept."""
    registered = register_client(
        ctx.session,
        name=options.name,
        redirect_uris=list(options.redirect_uris),
        public=options.public,
        grant_types=list(options.grant_types) if options.grant_types is not None else None,
        scopes=list(options.scopes) if options.scopes is not None else None,
        post_logout_redirect_uris=list(options.post_logout_redirect_uris),
        backchannel_logout_uri=options.backchannel_logout_uri,
        frontchannel_logout_uri=options.frontchannel_logout_uri,
        require_pkce=options.require_pkce,
        id_token_signed_response_alg=options.id_token_signed_response_alg,
        purpose=options.purpose,
        issuer=ctx.settings.issuer,
        now=ctx.now,
    )
    client = registered.client
    ctx.record(
        events.client_registered(
            operator=actor, client_id=client.client_id, registration=registration_summary(client)
        )
    )
    return client, registered.client_secret


def update_agency_app(
    ctx: OperationContext, *, actor: str, client_id: str, changes: AppChanges
) -> Client:
    """The registration with `changes`, checked as a registration is; logged only if something
    changed."""
    client = _registration(ctx, client_id)
    changed = revise_client(client, changes.given(), issuer=ctx.settings.issuer)
    if changed:
        ctx.record(events.client_updated(operator=actor, client_id=client_id, changes=changed))
        ctx.provider.clients.forget(client_id)
    return client


def rotate_client_secret(
    ctx: OperationContext, *, actor: str, client_id: str, overlap: timedelta
) -> str:
    """A new secret (shown once). The replaced one works until `ctx.now + overlap`; one still
    in the overlap of an earlier rotation stops at once."""
    client = _registration(ctx, client_id)
    secret = rotate_secret(client, overlap=overlap, now=ctx.now)
    ctx.record(
        events.client_secret_rotated(
            operator=actor,
            client_id=client_id,
            previous_secret_expires_at=secret_overlap_ends_at(client, now=ctx.now),
        )
    )
    # This node uses the new secret at once; other nodes within their client cache lifetime.
    ctx.provider.clients.forget(client_id)
    return secret


def disable_agency_app(ctx: OperationContext, *, actor: str, client_id: str) -> Client:
    """No sign-in, token or userinfo for the app any more; logged only if it was enabled."""
    return _set_disabled(ctx, actor=actor, client_id=client_id, disabled=True)


def enable_agency_app(ctx: OperationContext, *, actor: str, client_id: str) -> Client:
    """A disabled app works again; logged only if it was disabled."""
    return _set_disabled(ctx, actor=actor, client_id=client_id, disabled=False)


def _set_disabled(ctx: OperationContext, *, actor: str, client_id: str, disabled: bool) -> Client:
    client = _registration(ctx, client_id)
    if (client.disabled_at is not None) != disabled:  # a change: logged
        client.disabled_at = ctx.now if disabled else None
        change = events.client_disabled if disabled else events.client_enabled
        ctx.record(change(operator=actor, client_id=client.client_id))
        ctx.provider.clients.forget(client_id)
    return client


def _registration(ctx: OperationContext, client_id: str) -> Client:
    if client_id == CONSOLE_CLIENT_ID:
        # Disabling or changing it would lock every administrator out of the console.
        raise InvalidClientData("the console's own registration is kept by the gateway itself")
    client = find_registration(ctx.session, client_id)
    if client is None:
        raise UnknownAgencyApp(client_id)
    return client
