"""Translating between Starlette requests/responses and the framework-neutral protocol types."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response

from idp.oauth.requests import Headers, ProtocolRequest, ProtocolResponse

MAX_FORM_BYTES = 64 * 1024  # forms here are small; anything bigger is refused before parsing


class BodyTooLarge(Exception):
    pass


class NotAForm(Exception):
    pass


async def read_form(request: Request) -> list[tuple[str, str]]:
    """The urlencoded body as ordered pairs (duplicates kept, so they can be refused)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise NotAForm()
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise BodyTooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            raise BodyTooLarge()
    return form_pairs(bytes(body))


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    """A urlencoded body as ordered pairs; NotAForm when it cannot be one."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError) as error:
        raise NotAForm() from error
    # No parameter may hold NUL (RFC 6749 Appendix A), and PostgreSQL cannot compare such text.
    if any("\x00" in name or "\x00" in value for name, value in pairs):
        raise NotAForm()
    return pairs


async def page_form(request: Request) -> dict[str, str] | None:
    """A page's submitted form as a dict (the last value of a repeated field), or None when the
    body is not a readable urlencoded form."""
    try:
        return dict(await read_form(request))
    except (NotAForm, BodyTooLarge):
        return None


def protocol_request(
    request: Request, *, url: str, form: list[tuple[str, str]] | None = None
) -> ProtocolRequest:
    """`url` is the configured endpoint URL, never one rebuilt from Host headers."""
    return ProtocolRequest(
        method=request.method,
        url=url,
        query=list(request.query_params.multi_items()),
        form=form or [],
        headers=Headers(list(request.headers.items())),
    )


NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers={**NO_STORE, **(headers or {})},
    )


def from_protocol(response: ProtocolResponse) -> Response:
    """A successful protocol response (errors go through idp.web.errors)."""
    headers = {
        name: value
        for name, value in response.headers
        if name.lower() not in ("content-type", "cache-control", "pragma")
    }
    if isinstance(response.body, dict | list):
        return json_response(response.status, response.body, headers)
    return Response(
        content=response.body or b"", status_code=response.status, headers={**NO_STORE, **headers}
    )


def bearer_token(request: Request) -> tuple[str | None, str | None]:
    """The token from the Authorization header (scheme case-insensitive, RFC 6750 2.1), else
    None; the second value says "malformed" for a header that is not a bearer token."""
    return bearer_token_of(request.headers.get("authorization"))


def bearer_token_of(header: str | None) -> tuple[str | None, str | None]:
    """As `bearer_token`, from the Authorization header's value."""
    if header is None:
        return None, None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None, "malformed"
    return value.strip(), None
