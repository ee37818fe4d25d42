"""The `idp audit` commands: sequence, verify (database or bundle), export, erase."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from gateway.command_runtime import (
    build_keyring,
    command_database,
    command_unit_of_work,
    ensure_keys_logged,
    now_utc,
    operator_name,
    prepare_embedded,
    print_result,
    record_operator_event,
)
from idp import events
from idp.keys.jose import load_public_keys
from idp.settings import IdpSettings
from transparency.bundles import (
    InvalidBundle,
    NothingSigned,
    read_bundle,
    verify_bundle,
    write_bundle,
)
from transparency.checkpoints import CHECKPOINT_ALG
from transparency.seeding import write_synthetic_entries
from transparency.sequencer import IssuerMismatch, SequencingRefused, sequence_everything
from transparency.settings import AccessLogSettings
from transparency.store import (
    current_tree_size,
    erase_personal_fields,
    logged_entries,
    prune_entries,
    recorded_issuers,
    signed_checkpoints,
)
from transparency.verification import AuditReport, UnsignedTailAllowance, verify_log

# How many sequencer intervals the newest entries may wait for a checkpoint before an audit of
# the database calls them unsigned: a turn runs every interval, and a busy one takes a while.
UNSIGNED_TAIL_INTERVALS = 3


def _progress(label: str) -> Callable[[int], None]:
    def report(count: int) -> None:
        print(f"{label} {count} entries ...", file=sys.stderr, flush=True)

    return report


def _progress_bar(label: str, total: int) -> Callable[[int], None]:
    """A one-line bar on standard error, redrawn at most ten times a second."""
    started = time.monotonic()
    shown = [0.0]

    def update(done: int) -> None:
        now = time.monotonic()
        if done < total and now - shown[0] < 0.1:
            return
        shown[0] = now
        width = 30
        filled = width * done // max(total, 1)
        rate = done / max(now - started, 1e-9)
        end = "\n" if done >= total else ""
        print(
            f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} {rate:,.0f}/s",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    return update


SEED_BATCH = 50_000  # entries per sequencer transaction (one signed checkpoint each)


def cmd_audit_seed(settings: IdpSettings, args: argparse.Namespace) -> int:
    if not args.not_production:
        print(
            "error: seeded entries are synthetic and can never be removed from the log; "
            "run this only on a test or benchmark database, with --not-production",
            file=sys.stderr,
        )
        return 2
    prepare_embedded(settings)
    keyring = build_keyring(settings)
    ensure_keys_logged(settings)
    with command_database(settings) as database:
        written = write_synthetic_entries(
            database,
            args.entries,
            now=now_utc(),
            progress=_progress_bar("writing   ", args.entries),
        )
        sequenced = _progress_bar("sequencing", written)
        batches = [0]

        def clock() -> datetime:  # read once per batch: shows how far the sequencer is
            sequenced(min(written, batches[0] * SEED_BATCH))
            batches[0] += 1
            return now_utc()

        result = sequence_everything(
            database,
            key=lambda: keyring.signing_key(CHECKPOINT_ALG),
            verification_keys=keyring.historical_keys,
            issuer=settings.issuer,
            clock=clock,
            batch_size=SEED_BATCH,
        )
        sequenced(written)
    print_result({"entries": written, "tree_size": result.tree_size}, args.json)
    return 0


def cmd_audit_sequence(settings: IdpSettings, args: argparse.Namespace) -> int:

    prepare_embedded(settings)
    keyring = build_keyring(settings)
    ensure_keys_logged(settings)
    try:
        with command_database(settings) as database:
            result = sequence_everything(
                database,
                key=lambda: keyring.signing_key(CHECKPOINT_ALG),
                verification_keys=keyring.historical_keys,
                issuer=settings.issuer,
                clock=now_utc,
            )
    except SequencingRefused as refusal:
        print(f"error: not sequencing: {refusal}", file=sys.stderr)
        return 2 if isinstance(refusal, IssuerMismatch) else 1
    print_result({"tree_size": result.tree_size, "root_hash": result.root_hash}, args.json)
    return 0


def _load_jwks(source: str) -> dict[str, Any]:
    if source.startswith(("https://", "http://")):
        data = httpx.get(source, timeout=30, follow_redirects=False).raise_for_status().json()
    else:
        with open(source, encoding="utf-8") as handle:
            data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError("a JWKS is a JSON object")
    return data


def cmd_audit_verify(settings: IdpSettings, args: argparse.Namespace) -> int:

    report: AuditReport
    if args.bundle:
        if not args.jwks:
            print(
                "error: --bundle needs --jwks FILE_OR_URL (the gateway's published keys)",
                file=sys.stderr,
            )
            return 2
        try:
            keys = load_public_keys(_load_jwks(args.jwks))
            with open(args.bundle, encoding="utf-8") as handle:
                bundle = read_bundle(handle.read())
        except (OSError, ValueError, InvalidBundle) as error:
            print(f"BUNDLE INVALID: {error}", file=sys.stderr)
            return 1
        report = verify_bundle(bundle, keys=keys, progress=_progress("verified"))
    else:
        prepare_embedded(settings)
        keys = build_keyring(settings).historical_keys()
        if args.jwks:
            keys = load_public_keys(_load_jwks(args.jwks))
        # The sequencer signs each tree it grows within an interval or so: newer entries than
        # the newest checkpoint are only "not yet signed" while that checkpoint is that young.
        interval = AccessLogSettings().sequence_interval
        allowance = UnsignedTailAllowance(
            now=now_utc(), max_age=timedelta(seconds=UNSIGNED_TAIL_INTERVALS * interval)
        )
        with command_unit_of_work(settings) as session:
            report = verify_log(
                logged_entries(session),
                signed_checkpoints(session),
                keys=keys,
                issuer=settings.issuer,
                recorded_issuers=recorded_issuers(session),
                unsigned_tail=allowance,
                progress=_progress("verified"),
            )
    if report.damage is not None:
        where = (
            f" at entry {report.damage.log_index}" if report.damage.log_index is not None else ""
        )
        print(f"DAMAGED ({report.damage.kind}){where}: {report.damage.message}")
        return 1
    print(_summary(report))
    return 0


def _summary(report: AuditReport) -> str:
    line = (
        f"OK: {report.entries_checked} entries, {report.checkpoints_checked} signed "
        f"checkpoints, tree size {report.tree_size}, root {report.root_hash}"
    )
    if len(report.issuers) > 1:
        line += f", signed as {' then '.join(report.issuers)}"
    if report.unsigned_entries:
        line += (
            f"; the newest {report.unsigned_entries} entries are not yet signed (placed after "
            "the newest checkpoint, within the sequencer's interval)"
        )
    return line


def cmd_audit_export(settings: IdpSettings, args: argparse.Namespace) -> int:

    prepare_embedded(settings)
    with command_unit_of_work(settings) as session:
        if not 0 <= args.since <= current_tree_size(session):
            print("error: --since is beyond the end of the log", file=sys.stderr)
            return 2
        try:
            with open(args.output, "w", encoding="utf-8") as out:
                export = write_bundle(
                    session, out, since=args.since, progress=_progress("exported")
                )
        except NothingSigned as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        # Bundles carry no personal fields, but handing the log out is an operator act.
        record_operator_event(
            session,
            events.access_log_exported(
                operator=operator_name(),
                since=args.since,
                start_size=export.start_size,
                end_size=export.end_size,
                entries=export.entries,
            ),
            now=now_utc(),
        )
    print(
        f"wrote {export.entries} entries, from index {export.start_size} (the newest "
        f"checkpoint at or before {args.since}) to {export.end_size} (the newest checkpoint), "
        f"to {args.output}"
    )
    return 0


def cmd_audit_erase(settings: IdpSettings, args: argparse.Namespace) -> int:

    prepare_embedded(settings)
    now = now_utc()
    with command_unit_of_work(settings) as session:
        erased = erase_personal_fields(session, subject=args.subject, now=now)
        # The erasure itself is an event; it names no one (the subject is what was erased).
        record_operator_event(
            session, events.personal_data_erased(operator=operator_name(), entries=erased), now=now
        )
    print_result({"entries_erased": erased}, args.json)
    return 0


def cmd_audit_prune(settings: IdpSettings, args: argparse.Namespace) -> int:
    retention = AccessLogSettings().retention
    if not retention:
        print("nothing to prune: IDP_LOG_RETENTION sets no retention period", file=sys.stderr)
        return 0
    prepare_embedded(settings)
    now = now_utc()
    with command_unit_of_work(settings) as session:
        pruned = prune_entries(session, retention=retention, now=now)
        record_operator_event(
            session, events.access_log_pruned(operator=operator_name(), pruned=pruned), now=now
        )
    print_result({"pruned": pruned}, args.json)
    return 0


def add_audit_commands(sub: Any) -> None:
    audit = sub.add_parser("audit", help="the tamper-evident access log").add_subparsers(
        dest="audit", required=True
    )
    sequence = audit.add_parser("sequence", help="place new entries in the tree, sign a checkpoint")
    sequence.add_argument("--json", action="store_true")
    sequence.set_defaults(handler=cmd_audit_sequence)
    verify = audit.add_parser("verify", help="recompute the tree and check every checkpoint")
    verify.add_argument("--bundle", help="check an exported bundle instead of the database")
    verify.add_argument(
        "--jwks",
        help="the gateway's checkpoint keys: a file or a URL (ISSUER/transparency/jwks.json)",
    )
    verify.set_defaults(handler=cmd_audit_verify)
    export = audit.add_parser("export", help="write a bundle an outside auditor can check")
    export.add_argument("--output", required=True)
    export.add_argument(
        "--since",
        type=int,
        default=0,
        help="first log index wanted: the bundle starts at the newest checkpoint at or before it",
    )
    export.set_defaults(handler=cmd_audit_export)
    erase = audit.add_parser("erase", help="erase a citizen's personal fields from the log")
    erase.add_argument(
        "--subject",
        required=True,
        metavar="SUB",
        help="the citizen's subject; write --subject=SUB, since a subject may begin with '-'",
    )
    erase.add_argument("--json", action="store_true")
    erase.set_defaults(handler=cmd_audit_erase)
    seed = audit.add_parser(
        "seed", help="write synthetic entries, sequenced and signed (test databases only)"
    )
    seed.add_argument("--entries", type=int, required=True)
    seed.add_argument(
        "--not-production",
        action="store_true",
        help="confirm that this database is not production: seeded entries stay for good",
    )
    seed.add_argument("--json", action="store_true")
    seed.set_defaults(handler=cmd_audit_seed)
    prune = audit.add_parser("prune", help="clear entries past their retention (hashes stay)")
    prune.add_argument("--json", action="store_true")
    prune.set_defaults(handler=cmd_audit_prune)
