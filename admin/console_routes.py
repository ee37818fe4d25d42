"""The console's dashboard, signing keys (role operator) and administrators' roles (role
security). Rotating keys and changing roles are sensitive: they need a recent sign-in."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from admin.console_web import Console, console_form, console_page
from admin.dashboard import FIXED_NAMES, dashboard_of
from admin.roles import Role, administrators, grant_roles, revoke_roles
from idp import events
from idp.accounts import find_account_by_username
from idp.protocol.languages import translatable
from idp.web.charts import Series, bar_chart, data_table, line_chart
from idp.web.form_errors import FieldError
from transparency.statistics import Measure

router = APIRouter(include_in_schema=False)
# A signing key's states (idp.keys.keyring) as the keys page names them.
KEY_STATES = (
    translatable("next"),
    translatable("active"),
    translatable("retiring"),
    translatable("expired"),
)


@router.get("/admin")
def console_root() -> Response:
    return RedirectResponse("/admin/", status_code=308)


@router.get("/admin/")
async def dashboard(request: Request) -> Response:
    def work(console: Console) -> Response:
        return console.render(
            "admin/dashboard.html",
            board=dashboard_of(console.ctx.session, now=console.ctx.now),
            measures=Measure,
            bar_chart=bar_chart,
            line_chart=line_chart,
            data_table=data_table,
            series_of=Series,
            fixed_names=FIXED_NAMES,
        )

    return await console_page(request, None, work)


@router.get("/admin/keys")
async def keys_page(request: Request) -> Response:
    def work(console: Console) -> Response:
        notice = request.query_params.get("rotated", "")
        return console.render(
            "admin/keys.html",
            keys=console.ctx.provider.keyring.statuses(),
            rotated=notice if notice in ("planned", "emergency") else None,
        )

    return await console_page(request, Role.OPERATOR, work)


@router.get("/admin/keys/emergency")
async def emergency_page(request: Request) -> Response:
    def work(console: Console) -> Response:
        return console.render("admin/keys_emergency.html", errors=[])

    return await console_page(request, Role.OPERATOR, work, fresh=True)


@router.post("/admin/keys/rotate")
async def rotate_keys(request: Request) -> Response:
    def work(console: Console, form: dict[str, str]) -> Response:
        emergency = form.get("emergency") == "yes"
        if emergency and form.get("confirm") != "yes":
            errors = [
                FieldError("confirm", "Confirm that you understand what an emergency rotation does")
            ]
            return console.render("admin/keys_emergency.html", status=400, errors=errors)
        ctx = console.ctx
        lead = timedelta(0) if emergency else ctx.settings.key_publish_lead
        created = ctx.provider.keyring.rotate(publish_lead=lead)
        ctx.record(events.signing_key_rotated(operator=console.actor, keys=created))
        return console.see_other(f"/admin/keys?rotated={'emergency' if emergency else 'planned'}")

    return await console_form(request, Role.OPERATOR, work, fresh=True)


@router.get("/admin/roles")
async def roles_page(request: Request) -> Response:
    def work(console: Console) -> Response:
        return console.render(
            "admin/roles.html",
            administrators=administrators(console.ctx.session),
            all_roles=list(Role),
            errors=[],
            given={},
            changed=request.query_params.get("changed", "")[:128] or None,
        )

    return await console_page(request, Role.SECURITY, work, fresh=True)


@router.post("/admin/roles")
async def change_roles(request: Request) -> Response:
    def work(console: Console, form: dict[str, str]) -> Response:
        session = console.ctx.session
        username = form.get("username", "").strip()[:128]
        action = form.get("action")
        chosen = [role for role in Role if form.get(f"role-{role}") == "yes"]
        errors = []
        account = find_account_by_username(session, username) if username else None
        if not username:
            errors.append(FieldError("username", "Enter the administrator's username"))
        elif account is None:
            errors.append(FieldError("username", "There is no account with this username"))
        if not chosen:
            errors.append(FieldError("roles", "Choose at least one role"))
        if action not in ("grant", "revoke"):
            errors.append(FieldError(None, "Choose whether to grant or revoke"))
        if errors or account is None:
            return console.render(
                "admin/roles.html",
                status=400,
                administrators=administrators(session),
                all_roles=list(Role),
                errors=errors,
                given=form,
                changed=None,
            )
        if action == "grant":
            changed = grant_roles(session, account, chosen, by=console.actor, now=console.ctx.now)
            event = events.admin_roles_granted
        else:
            changed = revoke_roles(session, account, chosen)
            event = events.admin_roles_revoked
        if changed:
            console.ctx.record(
                event(
                    operator=console.actor, subject=account.subject, roles=[str(r) for r in changed]
                )
            )
        return console.see_other(f"/admin/roles?changed={account.username}")

    return await console_form(request, Role.SECURITY, work, fresh=True)
