"""Probes for load balancers and orchestrators: alive (the process answers, whatever the
database does, so an outage does not get it restarted), and ready (the database answers)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from idp.web.http import json_response
from idp.web.state import web_state

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def alive() -> Response:
    return json_response(200, {"status": "ok"})


@router.get("/readyz", include_in_schema=False)
async def ready(request: Request) -> Response:
    state = web_state(request)

    def check() -> bool:
        if not state.database.is_reachable():
            return False
        try:
            state.provider.keyring.signing_key("ES256")
            state.provider.keyring.signing_key("RS256")
        except (LookupError, OSError):
            return False
        return True

    if await run_in_threadpool(check):
        return json_response(200, {"status": "ready"})
    return json_response(503, {"status": "unavailable"})
