"""The console's citizen accounts (role support): find a citizen; open their record, which asks
why first (the reason is logged with what was shown, and the citizen sees it on their account
page); lock and unlock, an activation code, ending their sessions, their access history. Opening
a record and acting on it are sensitive: they need a recent sign-in."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin.console_web import Console, console_form, console_page
from admin.roles import Role
from admin.support_operations import (
    AccountIsLocked,
    ReasonRequired,
    UnknownAccount,
    access_history,
    end_browser_sessions,
    issue_activation_code,
    lock_account,
    normalized_reason,
    unlock_account,
)
from idp import events
from idp.accounts import find_account_by_username, find_accounts
from idp.models import Account
from idp.web.form_errors import FieldError

router = APIRouter(include_in_schema=False)
RECORD_FIELDS = (
    ("username", "Username"),
    ("subject", "Subject"),
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    ("email", "Email"),
    ("birthdate", "Date of birth"),
    ("national_id", "National identifier"),
    ("created_at", "Account created"),
)
ENTER_REASON = "Enter why you need to open this citizen's record"


def _path(username: str) -> str:
    return f"/admin/citizens/{quote(username, safe='')}"


@router.get("/admin/citizens")
async def citizens_page(request: Request) -> Response:
    text = request.query_params.get("q", "").strip()[:128]

    def work(console: Console) -> Response:
        found = find_accounts(console.ctx.session, text) if text else []
        if text:
            console.ctx.record(events.account_listed(operator=console.actor, accounts=len(found)))
        return console.render("admin/citizens.html", q=text, found=found, searched=bool(text))

    return await console_page(request, Role.SUPPORT, work)


@router.get("/admin/citizens/{username}")
async def reason_page(request: Request, username: str) -> Response:
    def work(console: Console) -> Response:
        account = find_account_by_username(console.ctx.session, username[:256])
        if account is None:
            return console.render("admin/entry_missing.html", status=404, index=None)
        return console.render("admin/citizen_reason.html", account=account, errors=[], reason="")

    return await console_page(request, Role.SUPPORT, work, fresh=True)


@router.post("/admin/citizens/{username}/open")
async def open_record(request: Request, username: str) -> Response:
    def work(console: Console, form: dict[str, str]) -> Response:
        account = find_account_by_username(console.ctx.session, username[:256])
        if account is None:
            return console.render("admin/entry_missing.html", status=404, index=None)
        try:
            why = normalized_reason(form.get("reason", ""))
        except ReasonRequired:
            errors = [FieldError("reason", ENTER_REASON)]
            return console.render(
                "admin/citizen_reason.html", status=400, account=account, errors=errors, reason=""
            )
        shown = [
            (label, value) for name, label in RECORD_FIELDS if (value := getattr(account, name))
        ]
        # Logged in the same transaction, before anything is sent; the citizen will see it.
        console.ctx.record(
            events.account_read(
                operator=console.actor,
                subject=account.subject,
                fields=[name for name, _ in RECORD_FIELDS if getattr(account, name)],
                reason=why,
            )
        )
        return _record(console, account, why, shown)

    return await console_form(request, Role.SUPPORT, work, fresh=True)


def _record(
    console: Console,
    account: Account,
    reason: str,
    shown: list[tuple[str, object]],
    *,
    done: str | None = None,
    code: object = None,
    history: object = None,
) -> Response:
    return console.render(
        "admin/citizen.html",
        account=account,
        shown=shown,
        reason=reason,
        path=_path(account.username),
        done=done,
        code=code,
        history=history,
    )


def _support_action(action: str) -> Callable[[Request, str], object]:
    async def route(request: Request, username: str) -> Response:
        def work(console: Console, form: dict[str, str]) -> Response:
            ctx, actor = console.ctx, console.actor
            reason = form.get("reason", "")
            try:
                code = history = None
                if action == "lock":
                    lock_account(ctx, actor=actor, username=username, reason=reason)
                elif action == "unlock":
                    unlock_account(ctx, actor=actor, username=username, reason=reason)
                elif action == "activation-code":
                    code = issue_activation_code(ctx, actor=actor, username=username, reason=reason)
                elif action == "end-sessions":
                    end_browser_sessions(ctx, actor=actor, username=username, reason=reason)
                else:
                    before = form.get("before", "")
                    history = access_history(
                        ctx,
                        actor=actor,
                        username=username,
                        reason=reason,
                        before=int(before) if before.isdigit() and len(before) <= 18 else None,
                    )
            except UnknownAccount:
                return console.render("admin/entry_missing.html", status=404, index=None)
            except ReasonRequired:
                return console.render(
                    "admin/citizen_refused.html",
                    status=400,
                    message=ENTER_REASON,
                    path=_path(username),
                )
            except AccountIsLocked:
                return console.render(
                    "admin/citizen_refused.html",
                    status=409,
                    message="The account is locked: unlock it before giving an activation code.",
                    path=_path(username),
                )
            account = find_account_by_username(ctx.session, username)
            assert account is not None
            return _record(
                console,
                account,
                normalized_reason(reason),
                [],
                done=action,
                code=code,
                history=history,
            )

        return await console_form(request, Role.SUPPORT, work, fresh=True)

    return route


for _action in ("lock", "unlock", "activation-code", "end-sessions", "history"):
    router.add_api_route(
        f"/admin/citizens/{{username}}/{_action}", _support_action(_action), methods=["POST"]
    )
