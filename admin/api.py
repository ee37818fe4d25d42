"""The administrators' REST API, mounted at /admin/api/v1 with its own OpenAPI document
(/admin/api/v1/openapi.json). Callers are API clients with client-credentials tokens whose
scopes name their roles (admin.api_access); every refusal is `application/problem+json`
(RFC 9457). Every read of the log is itself logged, with the citizen it concerned."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from admin.api_access import ApiCaller
from admin.api_accounts import router as accounts_router
from admin.api_apps import router as apps_router
from admin.api_calls import call_as
from admin.api_operations import router as operations_router
from admin.api_roles import router as roles_router
from admin.export import as_csv, as_json, matching_entries
from admin.problems import (
    ERRORS,
    HOLDS_NUL,
    METHOD_NOT_ALLOWED,
    NO_SUCH_ENTRY,
    NOT_FOUND,
    NOT_FOUND_HERE,
    NOT_VALID,
    REASON_REQUIRED,
    SERVER_ERROR,
    UNAVAILABLE,
    AdminProblem,
    problem,
)
from admin.roles import Role
from idp import events
from idp.oauth.context import OperationContext
from idp.storage.outage import is_database_unavailable
from idp.web.refusals import query_holds_nul
from idp.web.state import WebState, request_id
from transparency.checkpoints import b64url
from transparency.search import MAX_PAGE, EntryFilter, FoundEntry, entry_at, search_entries
from transparency.store import inclusion_proof_from, latest_checkpoint

log = logging.getLogger("admin.api")
events_router = APIRouter()


class EventQuery(BaseModel):
    """Filters of the log review; every given one must match."""

    model_config = {"extra": "forbid"}

    subject: str | None = Field(None, max_length=64, description="The citizen's subject")
    client_id: str | None = Field(None, max_length=64)
    type: str | None = Field(None, max_length=64, description="Event type, e.g. token.issued")
    outcome: Literal["success", "failure"] | None = None
    since: datetime | None = Field(None, description="From this time on (inclusive)")
    until: datetime | None = Field(None, description="Before this time")
    source: str | None = Field(None, max_length=64, description="Source address")
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(None, pattern=r"^[0-9]{1,18}$", description="From next_cursor")

    def entry_filter(self) -> EntryFilter:
        return EntryFilter(
            subject=self.subject,
            client_id=self.client_id,
            event_type=self.type,
            outcome=self.outcome,
            source_address=self.source,
            since=self.since,
            until=self.until,
        )

    def filters_besides_subject(self) -> dict[str, str]:
        """What the log records of the filter: the subject goes in the entry's own field."""
        given = self.model_dump(exclude={"subject", "cursor", "limit", "format"}, exclude_none=True)
        return {name: str(value) for name, value in given.items()}


class ExportQuery(EventQuery):
    """The same filters; every matching entry is exported (`limit` and `cursor` do not apply)."""

    format: Literal["csv", "json"] = "csv"


class EventItem(BaseModel):
    index: int = Field(description="Position in the log (leaf index)")
    time: datetime
    type: str
    outcome: Literal["success", "failure"]
    actor: dict[str, str | None] = Field(description="Who acted: its type and id")
    client_id: str | None
    subject: str | None = Field(description="The citizen the entry concerns")
    source: str | None = Field(description="Source address of the request")
    request_id: str | None
    claims_released: list[str]
    purpose: str | None
    detail: dict[str, Any]
    erased: bool = Field(description="Its personal fields were erased on request")
    pruned: bool = Field(description="Past its retention: only hashes, time and type are left")


class EventPage(BaseModel):
    items: list[EventItem]
    next_cursor: str | None = Field(description="Give it as `cursor` for the next page")


class InclusionProof(BaseModel):
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    checkpoint: str = Field(description="The signed checkpoint (compact JWS) the proof is for")


class EventWithProof(BaseModel):
    item: EventItem
    proof: InclusionProof | None = Field(
        description="Inclusion in the latest checkpoint; null until a checkpoint covers it"
    )


def _item(entry: FoundEntry) -> EventItem:
    return EventItem(
        index=entry.log_index,
        time=entry.occurred_at,
        type=entry.event_type,
        outcome="failure" if entry.outcome == "failure" else "success",
        actor={"type": entry.actor_type, "id": entry.actor_id},
        client_id=entry.client_id,
        subject=entry.subject,
        source=entry.source_address,
        request_id=entry.request_id,
        claims_released=entry.claims_released,
        purpose=entry.purpose,
        detail=entry.detail,
        erased=entry.erased,
        pruned=entry.pruned,
    )


@events_router.get(
    "/events",
    response_model=EventPage,
    responses=ERRORS,
    summary="Access log entries that match, newest first (role auditor)",
)
async def list_events(
    request: Request, query: Annotated[EventQuery, Query()]
) -> Response | EventPage:
    def work(ctx: OperationContext, caller: ApiCaller) -> EventPage:
        before = int(query.cursor) if query.cursor else None
        page = search_entries(ctx.session, query.entry_filter(), before=before, limit=query.limit)
        ctx.record(
            events.access_log_searched(
                client_id=caller.client_id,
                subject=query.subject,
                filters=query.filters_besides_subject(),
                entries=len(page.entries),
            )
        )
        next_cursor = str(page.next_before) if page.next_before is not None else None
        return EventPage(items=[_item(e) for e in page.entries], next_cursor=next_cursor)

    return await call_as(request, Role.AUDITOR, work)


@events_router.get(
    "/events/export",
    responses={
        200: {"content": {"text/csv": {}, "application/json": {}}},
        **ERRORS,
    },
    summary="The filtered view, every page of it, as CSV or JSON (role auditor)",
)
async def export_events(request: Request, query: Annotated[ExportQuery, Query()]) -> Response:
    state: WebState = request.app.state.web

    def start(ctx: OperationContext, caller: ApiCaller) -> None:
        # On the record before the first entry is sent: an export cut short is there too.
        ctx.record(
            events.access_log_review_exported(
                client_id=caller.client_id,
                subject=query.subject,
                filters=query.filters_besides_subject(),
                format=query.format,
            )
        )

    refusal = await call_as(request, Role.AUDITOR, start)
    if refusal is not None:
        return refusal
    entries = matching_entries(state.database.unit_of_work, query.entry_filter())
    body = as_csv(entries) if query.format == "csv" else as_json(entries)
    media = "text/csv; charset=utf-8" if query.format == "csv" else "application/json"
    return StreamingResponse(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="access-log.{query.format}"',
            "Cache-Control": "no-store",
        },
    )


@events_router.get(
    "/events/{index}",
    response_model=EventWithProof,
    responses={**ERRORS, **NOT_FOUND},
    summary="One entry and its inclusion proof in the latest checkpoint (role auditor)",
)
async def read_event(request: Request, index: int) -> Response | EventWithProof:
    def work(ctx: OperationContext, caller: ApiCaller) -> Response | EventWithProof:
        entry = entry_at(ctx.session, index) if 0 <= index < 2**62 else None
        if entry is None:
            return problem(NO_SUCH_ENTRY)
        proof = _proof(ctx.session, entry)
        ctx.record(_entry_read(caller, entry))
        return EventWithProof(item=_item(entry), proof=proof)

    return await call_as(request, Role.AUDITOR, work)


# Every router of the API, in the order their routes are matched.
API_ROUTERS = (accounts_router, apps_router, operations_router, roles_router, events_router)


class RefuseNulInApiQuery:
    """A query holding NUL (which PostgreSQL cannot compare) is refused before any route reads
    it, as a problem document like every other refusal of the API."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and query_holds_nul(scope.get("query_string", b"")):
            answer = problem(HOLDS_NUL)
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


def build_admin_api(state: WebState) -> FastAPI:
    api = FastAPI(
        title="Citizen identity gateway: administrators' API",
        version="1",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.state.web = state
    api.add_middleware(RefuseNulInApiQuery)
    _install_problem_handlers(api)
    for router in API_ROUTERS:
        api.include_router(router)
    return api


def _entry_read(caller: ApiCaller, entry: FoundEntry) -> events.Event:
    return events.access_log_entry_read(
        client_id=caller.client_id, log_index=entry.log_index, subject=entry.subject
    )


def _proof(session: Session, entry: FoundEntry) -> InclusionProof | None:
    latest = latest_checkpoint(session)
    if latest is None or entry.log_index >= latest.tree_size:
        return None
    leaf, path = inclusion_proof_from(session, entry.log_index, latest.tree_size)
    return InclusionProof(
        tree_size=latest.tree_size,
        leaf_hash=b64url(leaf),
        audit_path=[b64url(h) for h in path],
        checkpoint=latest.signed,
    )


def _install_problem_handlers(api: FastAPI) -> None:
    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        found = error.errors()
        where = ", ".join(".".join(str(p) for p in e["loc"][1:]) for e in found)
        if found and all(e["loc"][-1] == "reason" for e in found):
            # Well-formed, but without the reason support must give (RFC 9110 15.5.21).
            return problem(REASON_REQUIRED)
        return problem(NOT_VALID.detailed(f"Not valid: {where or 'the request'}."))

    @api.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, error: SQLAlchemyError) -> Response:
        if is_database_unavailable(error):
            return problem(UNAVAILABLE, **{"Retry-After": "5"})
        return _server_error(request)

    @api.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        return _server_error(request)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        answers = {404: NOT_FOUND_HERE, 405: METHOD_NOT_ALLOWED}
        answer = answers.get(error.status_code, AdminProblem(error.status_code, "Bad Request"))
        return problem(answer, **dict(error.headers or {}))


def _server_error(request: Request) -> Response:
    correlation = request_id(request)
    log.exception("unexpected error, request %s", correlation)
    return problem(SERVER_ERROR.detailed(f"Reference {correlation}."))
