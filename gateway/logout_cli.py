"""`idp logout`: the outbox of back-channel logout tokens, as operators see it
(`idp logout deliveries`), and one delivery turn run by hand (`idp logout deliver`), which any
running gateway does on its own every IDP_LOGOUT_DELIVERY_INTERVAL."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from consent.records import DatabaseConsentRecords
from gateway.command_runtime import (
    build_keyring,
    command_database,
    now_utc,
    prepare_embedded,
    print_result,
)
from idp.clients import ClientCache
from idp.keys.sealing import Sealer
from idp.oauth.context import Provider
from idp.settings import IdpSettings
from idp.sign_out.outbox import DELIVERY_STATES, list_deliveries
from idp.sign_out.worker import delivery_client, sign_out_turn
from transparency.access_log import DatabaseAccessLog


def cmd_logout_deliveries(settings: IdpSettings, args: argparse.Namespace) -> int:
    prepare_embedded(settings)
    with command_database(settings) as database, database.unit_of_work() as session:
        rows = list_deliveries(session, state=args.state, limit=args.limit)
    print_result([asdict(row) for row in rows], args.json)
    return 0


def cmd_logout_deliver(settings: IdpSettings, args: argparse.Namespace) -> int:
    prepare_embedded(settings)
    provider = Provider(
        settings=settings,
        keyring=build_keyring(settings),
        access_log=DatabaseAccessLog(),
        consent=DatabaseConsentRecords(),
        clock=now_utc,
        clients=ClientCache(settings.client_cache_lifetime),
        sealer=Sealer(settings.keys_dir),
    )
    with command_database(settings) as database, delivery_client(provider) as http:
        turn = sign_out_turn(database, provider, http, clock=now_utc)
    print_result({"sessions_ended": turn.sessions_ended, **asdict(turn.deliveries)}, args.json)
    return 0


def add_logout_commands(sub: Any) -> None:
    logout = sub.add_parser("logout", help="back-channel logout deliveries").add_subparsers(
        dest="logout", required=True
    )
    deliveries = logout.add_parser(
        "deliveries", help="logout tokens owed to agency apps, newest first"
    )
    deliveries.add_argument("--state", choices=DELIVERY_STATES, help="only those in this state")
    deliveries.add_argument("--limit", type=int, default=100)
    deliveries.add_argument("--json", action="store_true")
    deliveries.set_defaults(handler=cmd_logout_deliveries)
    deliver = logout.add_parser(
        "deliver", help="end expired sessions and send the logout tokens that are due, once"
    )
    deliver.add_argument("--json", action="store_true")
    deliver.set_defaults(handler=cmd_logout_deliver)
