"""`idp users activation-code`: an operator gives a citizen who cannot sign in a one-time
activation code, to set a new password at /account/activate.

It is support's operation (admin.support_operations.issue_activation_code), the same the console
and the admin API run: the old code stops working, the issue is logged naming the operator (the
operating-system account), the citizen and the reason, and a locked account gets no code. The
code is printed once and stored only as its digest.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from admin.support_operations import (
    AccountIsLocked,
    ReasonRequired,
    UnknownAccount,
    issue_activation_code,
)
from gateway.command_runtime import (
    command_context,
    command_unit_of_work,
    operator_name,
    prepare_embedded,
    print_result,
)
from idp.accounts import normalize_username
from idp.settings import IdpSettings

# What the log says when the operator gives no reason of their own.
DEFAULT_REASON = "Account recovery requested from an operator at the command line"


def cmd_users_activation_code(settings: IdpSettings, args: argparse.Namespace) -> int:
    prepare_embedded(settings)
    try:
        with command_unit_of_work(settings) as session:
            issued = issue_activation_code(
                command_context(settings, session),
                actor=operator_name(),
                username=args.username,
                reason=args.reason,
            )
    except UnknownAccount:
        print(f"error: no citizen account named {args.username!r}", file=sys.stderr)
        return 2
    except AccountIsLocked:
        print("error: the account is locked: unlock it before giving a code", file=sys.stderr)
        return 2
    except ReasonRequired as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # Committed: only a stored code is shown.
    shown = {
        "username": normalize_username(args.username),
        "code": issued.code,
        "expires_at": issued.expires_at.isoformat(),
    }
    print_result(shown, args.json)
    return 0


def add_activation_code_command(users: Any) -> None:
    """Under `idp users`."""
    command = users.add_parser(
        "activation-code",
        help="give a citizen a one-time code to set a new password at /account/activate "
        "(the old code stops working; logged)",
    )
    command.add_argument("--username", required=True)
    command.add_argument(
        "--reason",
        default=DEFAULT_REASON,
        help="why, in your words: what an auditor reads in the access log "
        f"(default: {DEFAULT_REASON!r})",
    )
    command.add_argument("--json", action="store_true")
    command.set_defaults(handler=cmd_users_activation_code)
