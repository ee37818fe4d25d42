"""The `idp issuer` command, moving the gateway and its access log to a new issuer, and the check
each node makes at start that it signs the log as the other nodes on its database do."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from gateway.command_runtime import (
    build_keyring,
    command_unit_of_work,
    now_utc,
    operator_name,
    prepare_embedded,
    print_result,
)
from idp.settings import IdpSettings
from transparency.checkpoints import CHECKPOINT_ALG
from transparency.sequencer import SequencingRefused, move_issuer
from transparency.store import log_issuer


def issuer_conflict(settings: IdpSettings) -> str | None:
    """Why this node must not start, if its issuer is not the one the log is signed under.

    Checkpoints name their issuer; a node signing as another one would break the log for every
    verifier (and its tokens would name an issuer the agencies do not know)."""
    try:
        with command_unit_of_work(settings) as session:
            signed_as = log_issuer(session)
    except SQLAlchemyError as error:
        return f"cannot read the access log (run `idp db upgrade` first?): {error}"
    if signed_as is None or signed_as == settings.issuer:
        return None
    return (
        f"IDP_ISSUER is {settings.issuer}, but the other nodes on this database sign the access "
        f"log as {signed_as}. Start this node with IDP_ISSUER={signed_as}, or, if the gateway "
        f"is moving to {settings.issuer}, run `idp issuer move --to {settings.issuer}` first."
    )


def cmd_issuer_move(settings: IdpSettings, args: argparse.Namespace) -> int:
    try:
        # The new issuer obeys the rules IDP_ISSUER does (https, no query or fragment).
        to_issuer = IdpSettings(issuer=args.to).issuer
    except ValidationError as error:
        for problem in error.errors():
            print(f"error: --to: {problem['msg']}", file=sys.stderr)
        return 2
    prepare_embedded(settings)
    keyring = build_keyring(settings)
    try:
        with command_unit_of_work(settings) as session:
            move = move_issuer(
                session,
                to_issuer=to_issuer,
                actor_id=operator_name(),
                key=keyring.signing_key(CHECKPOINT_ALG),
                verification_keys=keyring.historical_keys(),
                now=now_utc(),
            )
    except (SequencingRefused, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_result(
        {"from": move.from_issuer, "to": move.to_issuer, "log_index": move.log_index}, args.json
    )
    if settings.issuer != to_issuer:
        print(f"now start every node with IDP_ISSUER={to_issuer}", file=sys.stderr)
    return 0


def add_issuer_commands(sub: Any) -> None:
    issuer = sub.add_parser("issuer", help="the gateway's issuer").add_subparsers(
        dest="issuer", required=True
    )
    move = issuer.add_parser(
        "move",
        help="move the gateway to a new issuer: logged, and the access log is signed as the "
        "new issuer from here on",
    )
    move.add_argument("--to", required=True, help="the new issuer, as agencies will configure it")
    move.add_argument("--json", action="store_true")
    move.set_defaults(handler=cmd_issuer_move)
