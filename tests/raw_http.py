"""Raw HTTP/1.1 requests: bytes a well-behaved client library refuses to send (a header value
with a trailing space, Latin-1 or invalid UTF-8 bytes, duplicated headers, a wrong length)."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def send_raw(
    issuer: str,
    method: bytes | str,
    target: bytes | str,
    *,
    headers: Sequence[tuple[bytes, bytes]] = (),
    body: bytes = b"",
    content_length: bool = True,
    timeout: float = 30,
) -> RawResponse:
    """Send exactly these bytes (plus Host, Connection: close and, unless told not to, a
    Content-Length) and read the answer."""
    location = urlsplit(issuer)
    method_bytes = method.encode() if isinstance(method, str) else method
    target_bytes = target.encode() if isinstance(target, str) else target
    lines = [
        method_bytes + b" " + target_bytes + b" HTTP/1.1",
        b"Host: " + location.netloc.encode(),
        b"Connection: close",
    ]
    if content_length:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    lines += [name + b": " + value for name, value in headers]
    with socket.create_connection((location.hostname, location.port), timeout=timeout) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        response = http.client.HTTPResponse(sock, method=method_bytes.decode("latin-1"))
        try:
            response.begin()
            data = response.read() if method_bytes != b"HEAD" else b""
        finally:
            response.close()
        return RawResponse(response.status, list(response.getheaders()), data)
