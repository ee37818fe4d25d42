"""The `idp` command: serve, db upgrade, clients, users, keys (audit, issuer, admins, logout and
users activation-code have modules of their own)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy.orm import Session

from admin.settings import ConsoleSettings
from gateway.account_recovery_cli import add_activation_code_command
from gateway.admins_cli import add_admins_commands
from gateway.audit_cli import add_audit_commands
from gateway.command_runtime import (
    build_keyring,
    command_unit_of_work,
    ensure_keys_logged,
    is_embedded,
    log_key_changes,
    now_utc,
    operator_name,
    prepare_embedded,
    print_result,
    record_operator_event,
)
from gateway.issuer_cli import add_issuer_commands, issuer_conflict
from gateway.logout_cli import add_logout_commands
from gateway.schema import upgrade_database
from idp import events
from idp.accounts import (
    InvalidAccountData,
    create_account,
    find_account_by_username,
    list_accounts,
)
from idp.clients import (
    GRANT_TYPES,
    InvalidClientData,
    find_registration,
    list_clients,
    register_client,
    registration_summary,
)
from idp.protocol.assurance import AcrVocabulary
from idp.settings import IdpSettings


def bind_admin_socket(host: str, port: int) -> socket.socket:
    """A listening socket for the console's own port, as uvicorn binds its main one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def cmd_serve(settings: IdpSettings, args: argparse.Namespace) -> int:
    import uvicorn

    if is_embedded(settings):
        upgrade_database(settings.database_url)
        ensure_keys_logged(settings)
    elif not build_keyring(settings).statuses():
        print("no signing keys: run `idp keys rotate` first", file=sys.stderr)
        return 2
    if conflict := issuer_conflict(settings):
        print(f"error: {conflict}", file=sys.stderr)
        return 2
    if args.demo:
        from gateway.demo import DEMO_PASSWORD, DEMO_USERNAME, seed_demo

        os.environ["GATEWAY_DEMO_CLIENT_ID"] = seed_demo(settings)
        print(f"Demo agency app: {settings.issuer}/demo-agency/", flush=True)
        print(f"Demo citizen:    username {DEMO_USERNAME}, password {DEMO_PASSWORD}", flush=True)
    print(f"Gateway listening at {settings.issuer}", flush=True)
    if args.admin_port is not None:
        print(f"Administrator console: {os.environ['IDP_ADMIN_CONSOLE_URL']}/", flush=True)
    config = uvicorn.Config(
        "gateway.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        server_header=False,
        proxy_headers=False,
    )
    sockets = [config.bind_socket()]
    if args.admin_port is not None:
        sockets.append(bind_admin_socket(args.host, args.admin_port))
    if args.workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=sockets).run()
    else:
        uvicorn.Server(config).run(sockets=sockets)
    return 0


def cmd_db_upgrade(settings: IdpSettings, args: argparse.Namespace) -> int:
    upgrade_database(settings.database_url)
    print("database is at the latest revision")
    return 0


def client_summary(client: Any, secret: str | None = None) -> dict[str, Any]:
    data = registration_summary(client)
    if secret:
        data["client_secret"] = secret
    return data


def client_options(args: argparse.Namespace, vocabulary: AcrVocabulary) -> dict[str, Any]:
    """`register_client`'s options from the arguments of `idp clients add`; InvalidClientData
    for an `acr` value the gateway does not offer."""
    minimum = vocabulary.level_of(args.min_acr) if args.min_acr else None
    if args.min_acr and minimum is None:
        offered = ", ".join(vocabulary.supported())
        raise InvalidClientData(f"--min-acr must be one of: {offered}")
    return {
        "name": args.name,
        "redirect_uris": args.redirect_uri or [],
        "public": args.public,
        "grant_types": args.grant_type,
        "scopes": args.scope,
        "post_logout_redirect_uris": args.post_logout_redirect_uri,
        "backchannel_logout_uri": args.backchannel_logout_uri,
        "frontchannel_logout_uri": args.frontchannel_logout_uri,
        "require_pkce": args.require_pkce,
        "id_token_signed_response_alg": args.id_token_alg,
        "purpose": args.purpose,
        "minimum_level": minimum.label if minimum else None,
    }


def add_client(session: Session, *, now: datetime, issuer: str, **options: Any) -> dict[str, Any]:
    """`idp clients add` inside a unit of work: register and log `client.registered`; the
    summary it prints, secret included. `options` are `register_client`'s."""
    registered = register_client(session, now=now, issuer=issuer, **options)
    summary = client_summary(registered.client, registered.client_secret)
    record_operator_event(
        session,
        events.client_registered(
            operator=operator_name(),
            client_id=registered.client.client_id,
            registration=summary,
        ),
        now=registered.client.created_at,
    )
    return summary


def cmd_clients_add(settings: IdpSettings, args: argparse.Namespace) -> int:
    try:
        options = client_options(args, settings.acr_vocabulary)
        prepare_embedded(settings)
        with command_unit_of_work(settings) as session:
            summary = add_client(session, now=now_utc(), issuer=settings.issuer, **options)
    except InvalidClientData as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_result(summary, args.json)
    return 0


def cmd_clients_list(settings: IdpSettings, args: argparse.Namespace) -> int:
    prepare_embedded(settings)
    with command_unit_of_work(settings) as session:
        rows = [client_summary(c) for c in list_clients(session)]
    print_result(rows, args.json)
    return 0


def _read_password() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def add_account(session: Session, *, now: datetime, **fields: Any) -> dict[str, str]:
    """`idp users add` inside a unit of work: create and log `account.created`; the summary
    it prints. `fields` are `create_account`'s."""
    account = create_account(session, now=now, **fields)
    record_operator_event(
        session,
        events.account_created(operator=operator_name(), subject=account.subject),
        now=account.created_at,
    )
    return {"username": account.username, "subject": account.subject}


def cmd_users_add(settings: IdpSettings, args: argparse.Namespace) -> int:
    prepare_embedded(settings)
    password = _read_password() if args.password_stdin else None
    try:
        birthdate = date.fromisoformat(args.birthdate) if args.birthdate else None
    except ValueError:
        print("error: --birthdate must be YYYY-MM-DD", file=sys.stderr)
        return 2
    try:
        with command_unit_of_work(settings) as session:
            summary = add_account(
                session,
                username=args.username,
                password=password,
                given_name=args.given_name,
                family_name=args.family_name,
                email=args.email,
                birthdate=birthdate,
                national_id=args.national_id,
                now=now_utc(),
            )
    except InvalidAccountData as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_result(summary, args.json)
    return 0


def cmd_users_list(settings: IdpSettings, args: argparse.Namespace) -> int:
    prepare_embedded(settings)
    with command_unit_of_work(settings) as session:
        rows = [
            {"username": a.username, "subject": a.subject, "disabled": a.disabled_at is not None}
            for a in list_accounts(session)
        ]
        # Reading citizens' data is itself an event (who looked at whose data).
        record_operator_event(
            session,
            events.account_listed(operator=operator_name(), accounts=len(rows)),
            now=now_utc(),
        )
    print_result(rows, args.json)
    return 0


def cmd_users_show(settings: IdpSettings, args: argparse.Namespace) -> int:
    prepare_embedded(settings)
    with command_unit_of_work(settings) as session:
        account = find_account_by_username(session, args.username)
        if account is None:
            print(f"error: no citizen account named {args.username!r}", file=sys.stderr)
            return 2
        shown = {
            "username": account.username,
            "subject": account.subject,
            "given_name": account.given_name,
            "family_name": account.family_name,
            "email": account.email,
            "birthdate": account.birthdate.isoformat() if account.birthdate else None,
            "national_id": account.national_id,
            "created_at": account.created_at.isoformat(),
            "disabled": account.disabled_at is not None,
        }
        # An administrator reading one citizen's data: logged with whose data, in the same
        # transaction, before anything is printed.
        record_operator_event(
            session,
            events.account_read(
                operator=operator_name(),
                subject=account.subject,
                fields=(name for name, value in shown.items() if value),
            ),
            now=now_utc(),
        )
    print_result(shown, args.json)
    return 0


def _set_client_disabled(settings: IdpSettings, args: argparse.Namespace, *, disabled: bool) -> int:
    prepare_embedded(settings)
    with command_unit_of_work(settings) as session:
        client = find_registration(session, args.client_id)
        if client is None:
            print(f"error: no agency application {args.client_id!r}", file=sys.stderr)
            return 2
        if (client.disabled_at is not None) == disabled:
            print_result(client_summary(client), args.json)  # already so: nothing to log
            return 0
        now = now_utc()
        client.disabled_at = now if disabled else None
        change = events.client_disabled if disabled else events.client_enabled
        record_operator_event(
            session, change(operator=operator_name(), client_id=client.client_id), now=now
        )
        summary = client_summary(client)
    print_result(summary, args.json)
    return 0


def cmd_clients_disable(settings: IdpSettings, args: argparse.Namespace) -> int:
    return _set_client_disabled(settings, args, disabled=True)


def cmd_clients_enable(settings: IdpSettings, args: argparse.Namespace) -> int:
    return _set_client_disabled(settings, args, disabled=False)


def _key_rows(settings: IdpSettings) -> list[dict[str, Any]]:
    return [
        {
            "kid": s.record.kid,
            "alg": s.record.alg,
            "state": s.state,
            "activates_at": s.record.activates_at.isoformat(),
            "unpublish_at": s.unpublish_at.isoformat() if s.unpublish_at else None,
        }
        for s in build_keyring(settings).statuses()
    ]


def cmd_keys_list(settings: IdpSettings, args: argparse.Namespace) -> int:
    ensure_keys_logged(settings)
    print_result(_key_rows(settings), args.json)
    return 0


def cmd_keys_rotate(settings: IdpSettings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    keyring = build_keyring(settings)
    created = keyring.ensure_initial_keys()
    if created:
        log_key_changes(settings, events.signing_key_created, created)
    else:
        lead = timedelta(0) if args.immediately else settings.key_publish_lead
        log_key_changes(settings, events.signing_key_rotated, keyring.rotate(publish_lead=lead))
    print_result(_key_rows(settings), args.json)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="idp", description="Citizen identity gateway")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the provider")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--demo", action="store_true", help="also register the demo agency app and demo citizen"
    )
    serve.add_argument(
        "--admin-port",
        type=int,
        help="serve the console and the admin API on this port only (not on --port)",
    )
    serve.set_defaults(handler=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="apply pending migrations").set_defaults(handler=cmd_db_upgrade)
    _add_client_commands(sub)
    _add_user_commands(sub)
    _add_key_commands(sub)
    add_audit_commands(sub)
    add_issuer_commands(sub)
    add_admins_commands(sub)
    add_logout_commands(sub)
    return parser


def _add_client_commands(sub: Any) -> None:
    clients = sub.add_parser("clients", help="agency applications").add_subparsers(
        dest="clients", required=True
    )
    add = clients.add_parser("add", help="register an agency application")
    add.add_argument("--name", required=True)
    add.add_argument("--redirect-uri", action="append")
    add.add_argument("--public", action="store_true", help="no secret; PKCE required")
    add.add_argument("--grant-type", action="append", choices=GRANT_TYPES)
    add.add_argument("--scope", action="append")
    add.add_argument("--post-logout-redirect-uri", action="append")
    add.add_argument(
        "--backchannel-logout-uri",
        metavar="URI",
        help="where the gateway posts a logout token when a citizen's session ends "
        "(Back-Channel Logout 1.0)",
    )
    add.add_argument(
        "--min-acr",
        metavar="URI",
        help="the lowest level of assurance (an acr value of the discovery document) every "
        "sign-in for the app must reach; a weaker session is asked to step up",
    )
    add.add_argument(
        "--frontchannel-logout-uri",
        metavar="URI",
        help="framed on the signed-out page so the app ends its session in the browser too "
        "(Front-Channel Logout 1.0); scheme, host and port of a redirect URI",
    )
    add.add_argument(
        "--require-pkce", action="store_true", help="require PKCE from this confidential client too"
    )
    add.add_argument("--id-token-alg", default="RS256", choices=["RS256", "ES256"])
    add.add_argument(
        "--purpose",
        help="why the agency needs citizens' data, in its words: shown on the consent page "
        "and recorded with every release in the access log",
    )
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_clients_add)
    listing = clients.add_parser("list", help="list agency applications")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_clients_list)
    disable = clients.add_parser(
        "disable", help="stop an agency application: no sign-in, token or userinfo for it"
    )
    disable.add_argument("client_id")
    disable.add_argument("--json", action="store_true")
    disable.set_defaults(handler=cmd_clients_disable)
    enable = clients.add_parser("enable", help="let a disabled agency application work again")
    enable.add_argument("client_id")
    enable.add_argument("--json", action="store_true")
    enable.set_defaults(handler=cmd_clients_enable)


def _add_user_commands(sub: Any) -> None:
    users = sub.add_parser("users", help="citizen accounts").add_subparsers(
        dest="users", required=True
    )
    uadd = users.add_parser("add", help="create a citizen account")
    uadd.add_argument("--username", required=True)
    uadd.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (never from arguments)",
    )
    uadd.add_argument("--given-name")
    uadd.add_argument("--family-name")
    uadd.add_argument("--email")
    uadd.add_argument("--birthdate")
    uadd.add_argument("--national-id")
    uadd.add_argument("--json", action="store_true")
    uadd.set_defaults(handler=cmd_users_add)
    ulist = users.add_parser("list", help="list citizen accounts")
    ulist.add_argument("--json", action="store_true")
    ulist.set_defaults(handler=cmd_users_list)
    ushow = users.add_parser("show", help="show one citizen's data (logged as an admin read)")
    ushow.add_argument("username")
    ushow.add_argument("--json", action="store_true")
    ushow.set_defaults(handler=cmd_users_show)
    add_activation_code_command(users)


def _add_key_commands(sub: Any) -> None:
    keys = sub.add_parser("keys", help="signing keys").add_subparsers(dest="keys", required=True)
    klist = keys.add_parser("list", help="show keys and their state")
    klist.add_argument("--json", action="store_true")
    klist.set_defaults(handler=cmd_keys_list)
    rotate = keys.add_parser("rotate", help="add new keys, published before they sign")
    rotate.add_argument(
        "--immediately",
        action="store_true",
        help="emergency rollover: sign with the new keys at once",
    )
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(handler=cmd_keys_rotate)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve" and "IDP_ISSUER" not in os.environ:
        # Development default: the issuer follows the chosen port (workers inherit it).
        os.environ["IDP_ISSUER"] = f"http://localhost:{args.port}"
    if args.command == "serve" and args.admin_port is not None:
        # The console's listener, for this process and the workers it starts.
        os.environ["IDP_ADMIN_PORT"] = str(args.admin_port)
        if "IDP_ADMIN_CONSOLE_URL" not in os.environ:
            host = urlsplit(os.environ["IDP_ISSUER"]).hostname or args.host
            os.environ["IDP_ADMIN_CONSOLE_URL"] = f"http://{host}:{args.admin_port}/admin"
    try:
        settings = IdpSettings()
        ConsoleSettings()  # read again by the app; a mistake is reported here, not as a traceback
    except ValidationError as error:
        prefix = error.title.removesuffix("Settings")  # the class: Idp, Console, ...
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"])
            where = f" ({prefix} setting {field})" if field else ""
            print(f"configuration error{where}: {problem['msg']}", file=sys.stderr)
        return 2
    settings.configure_password_hashing()
    result: int = args.handler(settings, args)
    return result


if __name__ == "__main__":
    sys.exit(main())
