"""Builds the FastAPI application: the one place that wires idp, consent and admin together."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from importlib.resources import files

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from admin.api import build_admin_api
from admin.console_app_routes import router as console_app_router
from admin.console_citizen_routes import router as console_citizen_router
from admin.console_client import ensure_console_client
from admin.console_log_routes import router as console_log_router
from admin.console_routes import router as console_router
from admin.console_sign_in_routes import router as console_sign_in_router
from admin.console_sign_out_routes import router as console_sign_out_router
from admin.settings import ConsoleSettings
from consent.account_web import router as account_router
from consent.records import DatabaseConsentRecords
from consent.web import router as consent_router
from gateway.command_runtime import build_keyring, now_utc
from gateway.listeners import AdminListenerSplit
from idp.authentication.passwords import PasswordChecker
from idp.clients import ClientCache
from idp.keys.sealing import Sealer
from idp.oauth.capabilities import provider_capabilities
from idp.oauth.context import Provider
from idp.oauth.server import allow_loopback_http
from idp.protocol.discovery import provider_metadata
from idp.protocol.errors import INVALID_REQUEST, METHOD_NOT_ALLOWED, NOT_FOUND, server_error
from idp.settings import IdpSettings
from idp.sign_out.worker import SignOutWorker
from idp.storage.database import Database, create_database_engine
from idp.storage.outage import is_database_unavailable
from idp.web.activation_routes import router as activation_router
from idp.web.authenticator_app_routes import router as authenticator_app_router
from idp.web.back_channel import BackChannel
from idp.web.errors import error_for_anyone, error_response
from idp.web.health_routes import router as health_router
from idp.web.information_routes import router as information_router
from idp.web.interaction_routes import router as interaction_router
from idp.web.language_routes import router as language_router
from idp.web.pages import PageRenderer
from idp.web.passkey_routes import router as passkey_router
from idp.web.passkey_sign_in_routes import router as passkey_sign_in_router
from idp.web.password_routes import router as password_router
from idp.web.refusals import RefuseNulInQuery, database_unavailable
from idp.web.security_headers import SecurityHeaders
from idp.web.sign_out_routes import router as sign_out_router
from idp.web.state import WebState, request_id, unit_of_work_threads
from idp.web.step_up_code_routes import router as step_up_code_router
from idp.web.step_up_routes import router as step_up_router
from transparency.access_log import DatabaseAccessLog
from transparency.checkpoints import CHECKPOINT_ALG
from transparency.open_data_web import router as open_data_router
from transparency.sequencer import sequence_periodically
from transparency.settings import AccessLogSettings
from transparency.web import router as transparency_router

log = logging.getLogger("gateway")


def _password_checker(settings: IdpSettings) -> PasswordChecker:
    """The argon2 pool, once this process hashes with IDP_PASSWORD_HASH_*."""
    settings.configure_password_hashing()
    return PasswordChecker(settings.password_hash_workers)


# Every router, in the order their routes are matched (the console's too: AdminListenerSplit
# keeps its paths to their own port when there is one).
_ROUTERS = (
    health_router,
    interaction_router,
    step_up_router,
    step_up_code_router,
    passkey_sign_in_router,
    sign_out_router,
    language_router,
    information_router,
    consent_router,
    account_router,
    activation_router,
    password_router,
    authenticator_app_router,
    passkey_router,
    transparency_router,
    console_sign_in_router,
    console_router,
    console_log_router,
    console_app_router,
    console_citizen_router,
    console_sign_out_router,
    open_data_router,
)


async def _stopped(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait until it has stopped."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_app(
    settings: IdpSettings | None = None,
    log_settings: AccessLogSettings | None = None,
    console_settings: ConsoleSettings | None = None,
    *,
    clock: Callable[[], datetime] = now_utc,
) -> FastAPI:
    """`clock` is the only time the requests see (tests pass one they can move forward)."""
    settings = settings or IdpSettings()
    log_settings = log_settings or AccessLogSettings()
    console_settings = console_settings or ConsoleSettings()
    allow_loopback_http(settings)
    database = Database(
        create_database_engine(settings.database_url, pool_size=settings.request_threads)
    )
    sealer = Sealer(settings.keys_dir)
    sealer.ensure_key()  # first start: the key that seals authenticator apps' secrets
    provider = Provider(
        settings=settings,
        keyring=build_keyring(settings, clock),
        access_log=DatabaseAccessLog(),
        consent=DatabaseConsentRecords(),
        clock=clock,
        clients=ClientCache(settings.client_cache_lifetime),
        sealer=sealer,
    )
    password_checker = _password_checker(settings)
    sign_out_worker = SignOutWorker(database, provider)

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        # Request work runs in this many threads, each with its own pooled connection.
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        await to_thread.run_sync(
            lambda: ensure_console_client(
                database,
                issuer=settings.issuer,
                console_base=console_settings.console_base(settings.issuer),
                minimum_level=console_settings.minimum_level,
                now=clock(),
            )
        )
        sequencer = asyncio.create_task(
            sequence_periodically(
                database,
                key=lambda: provider.keyring.signing_key(CHECKPOINT_ALG),
                verification_keys=provider.keyring.historical_keys,
                issuer=settings.issuer,
                clock=provider.clock,
                interval_seconds=log_settings.sequence_interval,
                batch_size=log_settings.batch_size,
            )
        )
        signing_out = asyncio.create_task(sign_out_worker.run())
        try:
            yield
        finally:
            # Each step runs even when one before it fails, so the pool is always closed last,
            # once nothing can check a connection out again: a connection given back to a pool
            # after its disposal would stay open until the garbage collector found it.
            try:
                # Awaited, so its HTTP client is closed before the loop ends (a turn under way
                # is let finish: each is short, a delivery waits IDP_LOGOUT_DELIVERY_TIMEOUT).
                await _stopped(signing_out)
                await _stopped(sequencer)
            finally:
                password_checker.shutdown()
                started.state.web.unit_of_work_threads.shutdown()
                database.engine.dispose()

    app = _GatewayApp(
        title="Citizen identity gateway",
        lifespan=lifespan,
        docs_url="/docs" if settings.enable_api_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.enable_api_docs else None,
        # No OpenTelemetry here: off, FastAPI no longer looks up the global providers (and the
        # environment) on every request, 2 % of a sign-in-once flow's CPU (ADR 0026).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.web = WebState(
        database=database,
        provider=provider,
        pages=PageRenderer(["idp.web", "consent", "transparency", "admin"]),
        password_checker=password_checker,
        sign_out=sign_out_worker,
        unit_of_work_threads=unit_of_work_threads(database, settings.request_threads),
        discovery_document=json.dumps(
            provider_metadata(settings.issuer, provider_capabilities(settings.acr_vocabulary))
        ).encode(),
    )
    app.state.console = console_settings
    for router in _ROUTERS:
        app.include_router(router)
    app.mount("/admin/api/v1", build_admin_api(app.state.web))
    app.mount(
        "/admin/static",
        StaticFiles(directory=str(files("admin") / "static")),
        name="admin-static",
    )
    app.mount("/static", StaticFiles(directory=str(files("idp.web") / "static")), name="static")
    _install_error_handlers(app)
    # Each one added wraps those before it: the security headers go on every answer, the
    # listener split's too.
    # The administrators' API refuses NUL itself, with a problem document (admin/api.py).
    app.add_middleware(RefuseNulInQuery, answered_elsewhere=("/admin/api/",))
    if console_settings.port is not None:
        # Inside the security headers, so the other listener's 404 carries them too.
        app.add_middleware(AdminListenerSplit, admin_port=console_settings.port)
    app.add_middleware(SecurityHeaders, https=settings.is_https)
    app.back_channel_admin_port = console_settings.port
    return app


class _GatewayApp(FastAPI):
    """FastAPI with the back channel (ADR 0020) ahead of every layer, FastAPI's own error,
    telemetry and body-limit layers included: they did nothing for its answers and cost its
    endpoints a few per cent of their CPU (ADR 0025)."""

    back_channel_admin_port: int | None = None

    def build_middleware_stack(self) -> ASGIApp:
        return BackChannel(
            super().build_middleware_stack(),
            state=self.state.web,
            admin_port=self.back_channel_admin_port,
        )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        headers = dict(error.headers or {})  # e.g. Allow with a 405
        if error.status_code == 405:
            return error_for_anyone(request, METHOD_NOT_ALLOWED, headers)
        if error.status_code == 404:
            return error_for_anyone(request, NOT_FOUND, headers)
        return error_response(replace(INVALID_REQUEST, status=error.status_code), headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        return error_response(INVALID_REQUEST)

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, error: SQLAlchemyError) -> Response:
        # Unreachable (logged once per outage by the database): 503. Anything else is a bug.
        if is_database_unavailable(error):
            return database_unavailable(request)
        return _server_error(request)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> Response:
        return _server_error(request)


def _server_error(request: Request) -> Response:
    """`server_error` with a correlation id; the detail (traceback) goes to the log only."""
    correlation = request_id(request)
    log.exception("unexpected error, request %s", correlation)
    return error_response(server_error(correlation))
