"""The console's agency apps (role operator): the list, registering, one app with its onboarding
view for the agency's developers, editing, rotating the secret with an overlap, disabling and
enabling. Rotating a secret is sensitive (a recent sign-in); a secret is shown once, never
again, and never logged."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin.client_operations import (
    AppChanges,
    AppOptions,
    InvalidClientData,
    UnknownAgencyApp,
    disable_agency_app,
    enable_agency_app,
    register_agency_app,
    rotate_client_secret,
    update_agency_app,
)
from admin.console_web import Console, console_form, console_page
from admin.onboarding import onboarding_for
from admin.roles import Role
from idp.clients import (
    GRANT_TYPES,
    ID_TOKEN_ALGORITHMS,
    find_registration,
    list_clients,
    secret_overlap_ends_at,
)
from idp.models import Client
from idp.protocol.claims import ADMIN_API_SCOPES, SUPPORTED_SCOPES
from idp.web.form_errors import FieldError

router = APIRouter(include_in_schema=False)
OVERLAP_CHOICES = (0, 1, 24, 72, 168)  # hours the replaced secret keeps working
ALL_SCOPES = (*SUPPORTED_SCOPES, *ADMIN_API_SCOPES)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _chosen(form: dict[str, str], prefix: str, choices: tuple[str, ...]) -> list[str]:
    return [choice for choice in choices if form.get(f"{prefix}-{choice}") == "yes"]


def _form_of(client: Client) -> dict[str, str]:
    """An app's registration as the edit form shows it."""
    form = {
        "name": client.name,
        "purpose": client.purpose or "",
        "redirect_uris": "\n".join(client.redirect_uris),
        "post_logout_redirect_uris": "\n".join(client.post_logout_redirect_uris),
        "backchannel_logout_uri": client.backchannel_logout_uri or "",
        "frontchannel_logout_uri": client.frontchannel_logout_uri or "",
        "id_token_alg": client.id_token_signed_response_alg,
        "require_pkce": "yes" if client.require_pkce else "",
    }
    form |= {f"grant-{g}": "yes" for g in client.grant_types}
    form |= {f"scope-{s}": "yes" for s in client.scopes}
    return form


def _form_page(
    console: Console,
    *,
    client: Client | None,
    form: dict[str, str],
    errors: list[FieldError],
    status: int = 200,
) -> Response:
    return console.render(
        "admin/app_form.html",
        status=status,
        client=client,
        given=form,
        errors=errors,
        grant_types=GRANT_TYPES,
        scopes=ALL_SCOPES,
        algorithms=ID_TOKEN_ALGORITHMS,
    )


@router.get("/admin/apps")
async def apps_page(request: Request) -> Response:
    def work(console: Console) -> Response:
        return console.render("admin/apps.html", apps=list_clients(console.ctx.session))

    return await console_page(request, Role.OPERATOR, work)


@router.get("/admin/apps/new")
async def new_app_page(request: Request) -> Response:
    def work(console: Console) -> Response:
        defaults = {
            "grant-authorization_code": "yes",
            "grant-refresh_token": "yes",
            "scope-openid": "yes",
            "require_pkce": "yes",
            "id_token_alg": "RS256",
        }
        return _form_page(console, client=None, form=defaults, errors=[])

    return await console_page(request, Role.OPERATOR, work)


@router.post("/admin/apps")
async def register_app(request: Request) -> Response:
    def work(console: Console, form: dict[str, str]) -> Response:
        options = AppOptions(
            name=form.get("name", ""),
            purpose=form.get("purpose", "").strip() or None,
            public=form.get("public") == "yes",
            redirect_uris=_lines(form.get("redirect_uris", "")),
            post_logout_redirect_uris=_lines(form.get("post_logout_redirect_uris", "")),
            backchannel_logout_uri=form.get("backchannel_logout_uri", "").strip() or None,
            frontchannel_logout_uri=form.get("frontchannel_logout_uri", "").strip() or None,
            grant_types=_chosen(form, "grant", GRANT_TYPES) or None,
            scopes=_chosen(form, "scope", ALL_SCOPES) or None,
            require_pkce=form.get("require_pkce") == "yes",
            id_token_signed_response_alg=form.get("id_token_alg", "RS256"),
        )
        try:
            client, secret = register_agency_app(console.ctx, actor=console.actor, options=options)
        except InvalidClientData as error:
            return _form_page(
                console, client=None, form=form, errors=[FieldError(None, str(error))], status=400
            )
        return console.render(
            "admin/app_secret.html",
            client=client,
            secret=secret,
            registered=True,
            old_secret_ends_at=None,
        )

    return await console_form(request, Role.OPERATOR, work)


@router.get("/admin/apps/{client_id}")
async def app_page(request: Request, client_id: str) -> Response:
    def work(console: Console) -> Response:
        client = find_registration(console.ctx.session, client_id)
        if client is None:
            return console.render("admin/entry_missing.html", status=404, index=None)
        issuer = console.ctx.settings.issuer
        return console.render(
            "admin/app.html",
            client=client,
            onboarding=onboarding_for(client, issuer=issuer),
            overlap_ends_at=secret_overlap_ends_at(client, now=console.ctx.now),
            overlap_choices=OVERLAP_CHOICES,
            default_overlap=int(console.ctx.settings.client_secret_overlap.total_seconds() // 3600),
            notice=request.query_params.get("done", "")[:16] or None,
        )

    return await console_page(request, Role.OPERATOR, work)


@router.get("/admin/apps/{client_id}/edit")
async def edit_app_page(request: Request, client_id: str) -> Response:
    def work(console: Console) -> Response:
        client = find_registration(console.ctx.session, client_id)
        if client is None:
            return console.render("admin/entry_missing.html", status=404, index=None)
        return _form_page(console, client=client, form=_form_of(client), errors=[])

    return await console_page(request, Role.OPERATOR, work)


@router.post("/admin/apps/{client_id}/edit")
async def edit_app(request: Request, client_id: str) -> Response:
    def work(console: Console, form: dict[str, str]) -> Response:
        client = find_registration(console.ctx.session, client_id)
        if client is None:
            return console.render("admin/entry_missing.html", status=404, index=None)
        changes = AppChanges(
            name=form.get("name", ""),
            purpose=form.get("purpose", "").strip(),
            redirect_uris=_lines(form.get("redirect_uris", "")),
            post_logout_redirect_uris=_lines(form.get("post_logout_redirect_uris", "")),
            # Emptied fields remove the URI (AppChanges).
            backchannel_logout_uri=form.get("backchannel_logout_uri", "").strip(),
            frontchannel_logout_uri=form.get("frontchannel_logout_uri", "").strip(),
            grant_types=_chosen(form, "grant", GRANT_TYPES),
            scopes=_chosen(form, "scope", ALL_SCOPES),
            require_pkce=form.get("require_pkce") == "yes",
            id_token_signed_response_alg=form.get(
                "id_token_alg", client.id_token_signed_response_alg
            ),
        )
        try:
            update_agency_app(
                console.ctx, actor=console.actor, client_id=client_id, changes=changes
            )
        except InvalidClientData as error:
            return _form_page(
                console, client=client, form=form, errors=[FieldError(None, str(error))], status=400
            )
        return console.see_other(f"/admin/apps/{client_id}?done=saved")

    return await console_form(request, Role.OPERATOR, work)


@router.post("/admin/apps/{client_id}/rotate-secret")
async def rotate_secret(request: Request, client_id: str) -> Response:
    def work(console: Console, form: dict[str, str]) -> Response:
        hours = form.get("overlap_hours", "")
        overlap = (
            timedelta(hours=int(hours))
            if hours.isdigit() and int(hours) in OVERLAP_CHOICES
            else console.ctx.settings.client_secret_overlap
        )
        try:
            secret = rotate_client_secret(
                console.ctx, actor=console.actor, client_id=client_id, overlap=overlap
            )
        except UnknownAgencyApp:
            return console.render("admin/entry_missing.html", status=404, index=None)
        except InvalidClientData as error:
            return console.render(
                "admin/app_refused.html", status=400, message=str(error), client_id=client_id
            )
        client = find_registration(console.ctx.session, client_id)
        return console.render(
            "admin/app_secret.html",
            client=client,
            secret=secret,
            registered=False,
            old_secret_ends_at=secret_overlap_ends_at(client, now=console.ctx.now)
            if client
            else None,
        )

    return await console_form(request, Role.OPERATOR, work, fresh=True)


@router.post("/admin/apps/{client_id}/disable")
async def disable_app(request: Request, client_id: str) -> Response:
    return await _switch(request, client_id, disable=True)


@router.post("/admin/apps/{client_id}/enable")
async def enable_app(request: Request, client_id: str) -> Response:
    return await _switch(request, client_id, disable=False)


async def _switch(request: Request, client_id: str, *, disable: bool) -> Response:
    def work(console: Console, form: dict[str, str]) -> Response:
        change = disable_agency_app if disable else enable_agency_app
        try:
            change(console.ctx, actor=console.actor, client_id=client_id)
        except UnknownAgencyApp:
            return console.render("admin/entry_missing.html", status=404, index=None)
        except InvalidClientData as error:
            return console.render(
                "admin/app_refused.html", status=400, message=str(error), client_id=client_id
            )
        return console.see_other(
            f"/admin/apps/{client_id}?done={'disabled' if disable else 'enabled'}"
        )

    return await console_form(request, Role.OPERATOR, work)
