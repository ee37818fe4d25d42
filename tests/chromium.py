"""Debian's Chromium driven by Playwright, and the agency's redirect URI it ends on: what the
browser tests (tests/idp/web/test_browser.py, tests/idp/web/test_page_accessibility.py) and the
screenshots of the pages (tests/screenshots.py) share."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous for a 2-core CI machine, yet a hung page fails in seconds, not minutes.
TIMEOUT_MS = 15_000
MISSING_CHROMIUM = (
    f"Debian's chromium is not installed at {CHROMIUM} "
    "(apt-get install -y chromium; see .ci/install-e2e.sh)"
)


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's chromium, never a Playwright download (`playwright install` fails offline)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS * 2
    )


class CallbackServer:
    """The agency's redirect URI: a loopback HTTP server that records the queries /callback gets
    (the browser's own requests, such as /favicon.ico, are answered but not recorded)."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        received = self.queries

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/callback":
                    received.append(dict(parse_qsl(url.query, keep_blank_values=True)))
                body = b"<!doctype html><title>Agency</title><h1>Back at the agency</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: pytest shows the assertions, not an access log."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def __enter__(self) -> CallbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
