"""Framework-neutral HTTP request and response types, and their Authlib adapters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request

from idp.protocol.errors import ProtocolError


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only header mapping."""

    def __init__(self, items: Mapping[str, str] | Sequence[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items = {name.lower(): value for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, name: str, default: Any = None) -> Any:
        return self._items.get(name.lower(), default)


@dataclass(frozen=True)
class ProtocolRequest:
    method: str
    url: str
    query: list[tuple[str, str]] = field(default_factory=list)
    form: list[tuple[str, str]] = field(default_factory=list)
    headers: Headers = field(default_factory=Headers)


@dataclass
class ProtocolResponse:
    status: int
    body: Any
    headers: list[tuple[str, str]]
    # Set when the response is an error answer: the web layer renders it from the catalogue.
    error: ProtocolError | None = None

    @property
    def location(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "location":
                return value
        return None

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(n, v) for n, v in self.headers if n.lower() != "location"]
        self.headers.append(("Location", value))


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._pairs = pairs

    @cached_property
    def data(self) -> dict[str, str]:
        first: dict[str, str] = {}
        for name, value in self._pairs:
            first.setdefault(name, value)
        return first

    @cached_property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in self._pairs:
            values[name].append(value)
        return values


class GatewayOAuth2Request(OAuth2Request):  # type: ignore[misc]
    """Authlib's request view of a ProtocolRequest.

    The payload is the query for GET and the form for POST, never a mix (RFC 6749 3.1/3.2).
    """

    def __init__(self, request: ProtocolRequest) -> None:
        super().__init__(method=request.method, uri=request.url, headers=request.headers)
        pairs = request.query if request.method == "GET" else request.form
        self.payload = _Payload(pairs)
        self._query = _Payload(request.query).data
        self._form = _Payload(request.form).data
        self.browser_session: Any = None

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form
