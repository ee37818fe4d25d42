"""The console's access log review (role auditor): the filtered list, newest first, a page at a
time; one entry with its inclusion proof checked; the filtered view exported; and "verify the
log". Every look is itself logged, naming the citizen it concerned."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from admin.console_web import Console, console_form, console_page
from admin.export import as_csv, as_json, matching_entries
from admin.log_proofs import prove_entry
from admin.log_verification_runs import (
    VerificationSetup,
    recent_runs,
    run_state,
    start_run,
    verify_in_background,
)
from admin.models import LogVerificationRun
from admin.roles import Role
from idp import events
from idp.accounts import find_account_by_username
from idp.clients import list_clients
from idp.web.form_errors import FieldError
from idp.web.state import web_state
from transparency.search import EntryFilter, entry_at, search_entries
from transparency.store import latest_checkpoint

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
FILTER_FIELDS = ("citizen", "app", "type", "outcome", "from", "to", "source")


@dataclass
class LogFilter:
    """The filter form as given (to show it again) and what it means."""

    given: dict[str, str]
    matching: EntryFilter = field(default_factory=EntryFilter)
    errors: list[FieldError] = field(default_factory=list)

    def query(self, **extra: str) -> str:
        return urlencode({k: v for k, v in {**self.given, **extra}.items() if v})

    def recorded(self) -> dict[str, str]:
        """What the log records of the filter (the subject goes in the entry's own field)."""
        return {k: v for k, v in self.given.items() if v and k != "citizen"}


def read_filter(console: Console, params: dict[str, str]) -> LogFilter:
    given = {name: params.get(name, "").strip()[:128] for name in FILTER_FIELDS}
    errors: list[FieldError] = []
    subject = None
    if given["citizen"]:
        # A username or a subject: the username is what support hears on the phone.
        account = find_account_by_username(console.ctx.session, given["citizen"])
        subject = account.subject if account else given["citizen"]
    outcome = given["outcome"] or None
    if outcome not in (None, "success", "failure"):
        errors.append(FieldError("outcome", "Choose success or failure"))
        outcome = None
    since, until = _day(given["from"]), _day(given["to"])
    if given["from"] and since is None:
        errors.append(FieldError("from", "Enter the first day as a date, for example 2026-12-01"))
    if given["to"] and until is None:
        errors.append(FieldError("to", "Enter the last day as a date, for example 2026-12-01"))
    if since and until and until < since:
        errors.append(FieldError("to", "The last day must be the same as or after the first day"))
    matching = EntryFilter(
        subject=subject,
        client_id=given["app"] or None,
        event_type=given["type"] or None,
        outcome=outcome,
        source_address=given["source"] or None,
        since=since,
        # The last day is included: up to the start of the next.
        until=until + timedelta(days=1) if until else None,
    )
    return LogFilter(given=given, matching=matching, errors=errors)


def _day(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), time(), UTC) if text else None
    except ValueError:
        return None


@router.get("/admin/log")
async def log_page(request: Request) -> Response:
    params = dict(request.query_params)

    def work(console: Console) -> Response:
        chosen = read_filter(console, params)
        before = params.get("before", "")
        before_index = int(before) if before.isdigit() and len(before) <= 18 else None
        apps = list_clients(console.ctx.session)
        if chosen.errors:
            return console.render(
                "admin/log.html",
                status=400,
                chosen=chosen,
                errors=chosen.errors,
                apps=apps,
                entries=[],
                next_page=None,
                event_types=list(events.EventType),
                names={},
            )
        page = search_entries(
            console.ctx.session, chosen.matching, before=before_index, limit=PAGE_SIZE
        )
        console.ctx.record(
            events.access_log_searched(
                operator=console.actor,
                subject=chosen.matching.subject,
                filters=chosen.recorded(),
                entries=len(page.entries),
            )
        )
        next_page = (
            f"/admin/log?{chosen.query(before=str(page.next_before))}"
            if page.next_before is not None
            else None
        )
        return console.render(
            "admin/log.html",
            chosen=chosen,
            errors=[],
            apps=apps,
            names={app.client_id: app.name for app in apps},
            entries=page.entries,
            next_page=next_page,
            event_types=list(events.EventType),
            export_query=chosen.query(),
            checkpoint=latest_checkpoint(console.ctx.session),
        )

    return await console_page(request, Role.AUDITOR, work)


@router.get("/admin/log/entries/{index}")
async def entry_page(request: Request, index: str) -> Response:
    def work(console: Console) -> Response:
        session = console.ctx.session
        entry = entry_at(session, int(index)) if index.isdigit() and len(index) <= 18 else None
        if entry is None:
            return console.render("admin/entry_missing.html", status=404, index=index[:20])
        state = web_state(request)
        proof = prove_entry(
            session,
            entry,
            keys=state.provider.keyring.historical_keys(),
            issuer=state.provider.settings.issuer,
        )
        console.ctx.record(
            events.access_log_entry_read(
                operator=console.actor, log_index=entry.log_index, subject=entry.subject
            )
        )
        return console.render("admin/entry.html", entry=entry, proof=proof)

    return await console_page(request, Role.AUDITOR, work)


@router.get("/admin/log/export")
async def export(request: Request) -> Response:
    params = dict(request.query_params)
    kind = "json" if params.get("format") == "json" else "csv"
    started: dict[str, EntryFilter] = {}

    def work(console: Console) -> Response:
        chosen = read_filter(console, params)
        if chosen.errors:
            return console.see_other(f"/admin/log?{chosen.query()}")
        # On the record before the first entry is sent: an export cut short is there too.
        console.ctx.record(
            events.access_log_review_exported(
                operator=console.actor,
                subject=chosen.matching.subject,
                filters=chosen.recorded(),
                format=kind,
            )
        )
        started["filter"] = chosen.matching
        return Response(status_code=204)

    answer = await console_page(request, Role.AUDITOR, work)
    if "filter" not in started:
        return answer
    entries = matching_entries(web_state(request).database.unit_of_work, started["filter"])
    return StreamingResponse(
        as_csv(entries) if kind == "csv" else as_json(entries),
        media_type="text/csv; charset=utf-8" if kind == "csv" else "application/json",
        headers={
            "Content-Disposition": f'attachment; filename="access-log.{kind}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/admin/log/verify")
async def verify_page(request: Request) -> Response:
    def work(console: Console) -> Response:
        session, now = console.ctx.session, console.ctx.now
        runs = [(run, run_state(run, now=now)) for run in recent_runs(session)]
        return console.render("admin/verify.html", checkpoint=latest_checkpoint(session), runs=runs)

    return await console_page(request, Role.AUDITOR, work)


@router.post("/admin/log/verify")
async def start_verification(request: Request) -> Response:
    state = web_state(request)
    setup = VerificationSetup(
        database=state.database,
        access_log=state.provider.access_log,
        keys=state.provider.keyring.historical_keys,
        issuer=state.provider.settings.issuer,
        clock=state.provider.clock,
    )
    started: dict[str, int] = {}

    def work(console: Console, form: dict[str, str]) -> Response:
        run = start_run(console.ctx.session, started_by=console.actor, now=console.ctx.now)
        started["run"] = run.id
        return console.see_other(f"/admin/log/verify/{run.id}")

    answer = await console_form(request, Role.AUDITOR, work)
    if "run" in started:  # committed: the thread finds the run
        verify_in_background(setup, started["run"])
    return answer


@router.get("/admin/log/verify/{run_id}")
async def verification_progress(request: Request, run_id: str) -> Response:
    def work(console: Console) -> Response:
        run = (
            console.ctx.session.get(LogVerificationRun, int(run_id))
            if run_id.isdigit() and len(run_id) <= 9
            else None
        )
        if run is None:
            return console.render("admin/entry_missing.html", status=404, index=None)
        return console.render(
            "admin/verify_run.html", run=run, state=run_state(run, now=console.ctx.now)
        )

    return await console_page(request, Role.AUDITOR, work)
