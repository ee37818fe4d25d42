"""The back-channel endpoints as one plain ASGI layer in front of FastAPI's routing: discovery,
JWKS, token, introspection, revocation and userinfo (ADR 0020).

Agencies' servers call these millions of times a day and none of them needs FastAPI's dependency
and validation layer, its routing through every router, or Starlette's request object: each is a
fixed path with a fixed method. This layer reads the method, path, headers and body straight from
the ASGI messages, runs the same protocol functions the rest of the gateway uses (idp.oauth), and
sends the answer with the headers every response carries (idp.web.security_headers). What it does
not answer (another path, a query holding NUL, the console's own port) goes on to the app, whose
middleware answers it as before.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from idp.oauth.requests import Headers, ProtocolRequest, ProtocolResponse
from idp.oauth.server import handle_introspection, handle_revocation, handle_token_request
from idp.oauth.userinfo import answer_userinfo
from idp.protocol.errors import (
    ACCESS_TOKEN_IN_QUERY,
    ACCESS_TOKEN_SENT_TWICE,
    BODY_NOT_A_FORM,
    BODY_TOO_LARGE,
    METHOD_NOT_ALLOWED,
    PARAMETERS_IN_QUERY,
    TEMPORARILY_UNAVAILABLE,
    ProtocolError,
    repeated_parameter,
    server_error,
)
from idp.storage.outage import is_database_unavailable
from idp.web.errors import error_for_anyone, error_response
from idp.web.http import (
    MAX_FORM_BYTES,
    BodyTooLarge,
    NotAForm,
    bearer_token_of,
    form_pairs,
    from_protocol,
    json_response,
)
from idp.web.refusals import RETRY_AFTER_SECONDS, query_holds_nul
from idp.web.security_headers import response_headers
from idp.web.state import WebState, operation_context, run_unit_of_work

log = logging.getLogger("idp.web.back_channel")


class _Bytes:
    """A prebuilt answer: status, raw headers and body, sent as they are."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class _Call:
    """One request as this layer reads it: nothing is parsed until a handler asks for it."""

    __slots__ = ("headers", "method", "path", "query", "receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query: bytes = scope.get("query_string", b"")
        self.headers = Headers(
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        )

    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query.decode("latin-1"), keep_blank_values=True)

    def header_values(self, name: bytes) -> list[str]:
        return [v.decode("latin-1") for n, v in self.scope["headers"] if n == name]

    async def form(self) -> list[tuple[str, str]]:
        """The urlencoded body, by the rules of idp.web.http.read_form."""
        content_type = self.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            raise NotAForm()
        declared = self.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
            raise BodyTooLarge()
        body = b""
        while True:
            message = await self.receive()
            if message["type"] != "http.request":
                raise NotAForm()  # the client went away
            body += message.get("body", b"")
            if len(body) > MAX_FORM_BYTES:
                raise BodyTooLarge()
            if not message.get("more_body", False):
                break
        return form_pairs(body)


Handler = Callable[[_Call], Awaitable[Response | _Bytes]]


class BackChannel:
    """The ASGI layer; `admin_port` is the console's own listener, where these paths are not
    served (gateway.listeners)."""

    def __init__(self, app: ASGIApp, *, state: WebState, admin_port: int | None = None) -> None:
        self.app = app
        self.state = state
        self.admin_port = admin_port
        settings = state.provider.settings
        self.extra_headers = response_headers(https=settings.is_https)
        max_age = int(settings.jwks_max_age.total_seconds())
        self.cache_control = f"public, max-age={max_age}".encode()
        self.discovery = self._document(state.discovery_document, b"application/json")
        self._jwks: tuple[bytes, _Bytes] | None = None
        self.routes: dict[str, dict[str, Handler]] = {
            "/.well-known/openid-configuration": {"GET": self._discovery},
            "/.well-known/oauth-authorization-server": {"GET": self._discovery},
            "/jwks.json": {"GET": self._jwks_document},
            "/token": {"POST": self._token},
            "/introspect": {"POST": self._introspect},
            "/revoke": {"POST": self._revoke},
            "/userinfo": {"GET": self._userinfo, "POST": self._userinfo},
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        methods = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if (
            methods is None
            or query_holds_nul(scope.get("query_string", b""))
            or (
                self.admin_port is not None
                and (scope.get("server") or (None, None))[1] == self.admin_port
            )
        ):
            await self.app(scope, receive, send)
            return
        handler = methods.get(scope["method"])
        call = _Call(scope, receive)
        try:
            if handler is None:
                answer: Response | _Bytes = error_for_anyone(
                    Request(scope, receive), METHOD_NOT_ALLOWED, {"Allow": ", ".join(methods)}
                )
            else:
                answer = await handler(call)
        except SQLAlchemyError as error:
            answer = self._database_error(error)
        except Exception:
            answer = self._server_error()
        await self._send(answer, send)

    # -- sending --

    async def _send(self, answer: Response | _Bytes, send: Send) -> None:
        if isinstance(answer, _Bytes):
            status, headers, body = answer.status, answer.headers, answer.body
        else:
            status, body = answer.status_code, bytes(answer.body)
            headers = [(n, v) for n, v in answer.raw_headers if n != b"server"]
        present = {name for name, _ in headers}
        start: Message = {
            "type": "http.response.start",
            "status": status,
            "headers": headers + [h for h in self.extra_headers if h[0] not in present],
        }
        await send(start)
        await send({"type": "http.response.body", "body": body})

    def _database_error(self, error: SQLAlchemyError) -> Response:
        # As the app's own handler: unreachable is 503 (logged once per outage), else a bug.
        if is_database_unavailable(error):
            return error_response(
                TEMPORARILY_UNAVAILABLE, {"Retry-After": str(RETRY_AFTER_SECONDS)}
            )
        return self._server_error()

    def _server_error(self) -> Response:
        correlation = uuid.uuid4().hex
        log.exception("unexpected error, request %s", correlation)
        return error_response(server_error(correlation))

    # -- the documents --

    def _document(self, body: bytes, media_type: bytes) -> _Bytes:
        etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'
        return _Bytes(
            200,
            [
                (b"content-type", media_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", self.cache_control),
                (b"etag", etag),
            ],
            body,
        )

    def _conditional(self, call: _Call, document: _Bytes) -> _Bytes:
        """304 Not Modified for a cache that already holds this version (RFC 9110 13.1.2)."""
        wanted = call.headers.get("if-none-match")
        etag = document.headers[3][1].decode()
        if wanted is not None and (
            wanted.strip() == "*"
            or etag in (tag.strip().removeprefix("W/") for tag in wanted.split(","))
        ):
            return _Bytes(304, [document.headers[2], document.headers[3]], b"")
        return document

    async def _discovery(self, call: _Call) -> _Bytes:
        return self._conditional(call, self.discovery)

    async def _jwks_document(self, call: _Call) -> _Bytes:
        # The keyring answers from its current view (a new one after a rotation or when a key
        # changes state), so the prebuilt answer is rebuilt exactly when the JWKS changes.
        body = self.state.provider.keyring.jwks_document()
        cached = self._jwks
        if cached is None or cached[0] is not body:
            cached = (body, self._document(body, b"application/jwk-set+json"))
            self._jwks = cached
        return self._conditional(call, cached[1])

    # -- token, introspection, revocation (RFC 6749 3.2, RFC 7662, RFC 7009) --

    async def _token(self, call: _Call) -> Response:
        return await self._form_endpoint(call, handle_token_request, _writes_once)

    async def _introspect(self, call: _Call) -> Response:
        # It reads the token and writes its log entry: the statements stand alone (ADR 0027).
        return await self._form_endpoint(call, handle_introspection, lambda _form: True)

    async def _revoke(self, call: _Call) -> Response:
        return await self._form_endpoint(call, handle_revocation)

    async def _form_endpoint(
        self,
        call: _Call,
        handler: Callable[[Any, ProtocolRequest], ProtocolResponse],
        single_write: Callable[[list[tuple[str, str]]], bool] = lambda _form: False,
    ) -> Response:
        # Credentials and tokens belong in the body, never in a URL that logs keep (RFC 6749 3.2).
        if call.query and call.query_pairs():
            return error_response(PARAMETERS_IN_QUERY)
        form = await self._form_or_error(call)
        if isinstance(form, Response):
            return form
        repeated = _duplicate(form)
        if repeated:
            return error_response(repeated_parameter(repeated))
        request = ProtocolRequest(
            method=call.method,
            url=self.state.provider.settings.endpoint(call.path),
            query=[],
            form=form,
            headers=call.headers,
        )

        writes_once = single_write(form)

        def work() -> Response:
            with self._operation(call, single_write=writes_once) as ctx:
                response = handler(ctx, request)
            if response.error is not None:
                return error_response(response.error)
            return from_protocol(response)

        return await run_unit_of_work(self.state, work)

    async def _form_or_error(self, call: _Call) -> list[tuple[str, str]] | Response:
        try:
            return await call.form()
        except NotAForm:
            return error_response(BODY_NOT_A_FORM)
        except BodyTooLarge:
            return error_response(BODY_TOO_LARGE)

    # -- userinfo (OIDC Core 5.3, RFC 6750 2) --

    async def _userinfo(self, call: _Call) -> Response:
        if call.query and any(name == "access_token" for name, _ in call.query_pairs()):
            return error_response(ACCESS_TOKEN_IN_QUERY)
        access_token, problem = bearer_token_of(call.headers.get("authorization"))
        if call.method == "POST":
            form = await self._form_or_error(call) if call.headers.get("content-type") else []
            if isinstance(form, Response):
                return form
            body_tokens = [v for k, v in form if k == "access_token"]
            if body_tokens and access_token:
                return error_response(ACCESS_TOKEN_SENT_TWICE)
            if len(body_tokens) == 1:
                access_token = body_tokens[0]
        if problem:
            access_token = None

        def work() -> Response:
            # It reads the token and writes its log entry: the statements stand alone (ADR 0027).
            with self._operation(call, single_write=True) as ctx:
                answer = answer_userinfo(ctx, access_token)
            if isinstance(answer, ProtocolError):
                return error_response(answer)
            return json_response(200, answer)

        return await run_unit_of_work(self.state, work)

    def _operation(self, call: _Call, *, single_write: bool = False) -> Any:
        client = call.scope.get("client")
        return operation_context(
            self.state,
            request_id=uuid.uuid4().hex,
            peer=client[0] if client else None,
            forwarded_for=call.header_values(b"x-forwarded-for"),
            single_write=single_write,
        )


def _writes_once(form: list[tuple[str, str]]) -> bool:
    """A client credentials grant reads the client and writes its token row and log entry, held
    for the commit and sent as one statement: it stands alone (ADR 0027). The other grants claim
    a code or a refresh token and issue in one transaction (ADR 0007)."""
    return ("grant_type", "client_credentials") in form


def _duplicate(form: list[tuple[str, str]]) -> str | None:
    seen: set[str] = set()
    for name, _ in form:
        if name in seen:
            return name
        seen.add(name)
    return None
