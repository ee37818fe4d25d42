"""`idp admins`: who may administer the gateway (admin.roles). Granting and revoking are access
log events, written in the same transaction as the change."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from admin.roles import Role, administrators, grant_roles, revoke_roles
from gateway.command_runtime import (
    command_unit_of_work,
    now_utc,
    operator_name,
    prepare_embedded,
    print_result,
    record_operator_event,
)
from idp import events
from idp.accounts import find_account_by_username
from idp.settings import IdpSettings


def _change_roles(settings: IdpSettings, args: argparse.Namespace, *, grant: bool) -> int:
    prepare_embedded(settings)
    roles = [Role(role) for role in args.role]
    now, operator = now_utc(), operator_name()
    with command_unit_of_work(settings) as session:
        account = find_account_by_username(session, args.username)
        if account is None:
            print(f"error: no account named {args.username!r}", file=sys.stderr)
            return 2
        if grant:
            changed = grant_roles(session, account, roles, by=operator, now=now)
            event = events.admin_roles_granted
        else:
            changed = revoke_roles(session, account, roles)
            event = events.admin_roles_revoked
        if changed:
            record_operator_event(
                session,
                event(operator=operator, subject=account.subject, roles=[str(r) for r in changed]),
                now=now,
            )
    key = "granted" if grant else "revoked"
    print_result({"username": args.username, key: [str(r) for r in changed]}, args.json)
    return 0


def cmd_admins_grant(settings: IdpSettings, args: argparse.Namespace) -> int:
    return _change_roles(settings, args, grant=True)


def cmd_admins_revoke(settings: IdpSettings, args: argparse.Namespace) -> int:
    return _change_roles(settings, args, grant=False)


def cmd_admins_list(settings: IdpSettings, args: argparse.Namespace) -> int:
    prepare_embedded(settings)
    with command_unit_of_work(settings) as session:
        rows = [
            {"username": a.username, "subject": a.subject, "roles": [str(r) for r in a.roles]}
            for a in administrators(session)
        ]
    print_result(rows, args.json)
    return 0


def add_admins_commands(sub: Any) -> None:
    admins = sub.add_parser("admins", help="administrators and their roles").add_subparsers(
        dest="admins", required=True
    )
    for name, handler, help_text in (
        ("grant", cmd_admins_grant, "give an account one or more roles"),
        ("revoke", cmd_admins_revoke, "take one or more roles from an account"),
    ):
        change = admins.add_parser(name, help=help_text)
        change.add_argument("--username", required=True)
        change.add_argument(
            "--role",
            action="append",
            required=True,
            choices=[str(r) for r in Role],
            help="auditor: the access log; operator: agency apps and keys; support: citizen "
            "accounts; security: roles. Repeat for several.",
        )
        change.add_argument("--json", action="store_true")
        change.set_defaults(handler=handler)
    listing = admins.add_parser("list", help="every account holding a role")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_admins_list)
