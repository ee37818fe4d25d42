"""One admin API call: the caller's token checked for the role the operation needs, then the
operation's work in one unit of work on a worker thread; or the refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from admin.api_access import ApiCaller, ApiRefusal, allowed, api_caller
from admin.problems import refused
from admin.roles import Role
from idp.oauth.context import OperationContext
from idp.web.http import bearer_token
from idp.web.state import operation

T = TypeVar("T")


async def call_as(
    request: Request, role: Role, work: Callable[[OperationContext, ApiCaller], T]
) -> T | Response:
    token, _ = bearer_token(request)

    def run() -> T | Response:
        with operation(request) as ctx:
            caller = allowed(api_caller(ctx, token), role)
            if isinstance(caller, ApiRefusal):
                return refused(caller)
            return work(ctx, caller)

    return await run_in_threadpool(run)
