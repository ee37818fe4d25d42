"""Debian's Chromium driven by Playwright, and the agency's redirect URI it ends on: what the
browser tests (tests/idp/web/test_browser.py, tests/idp/web/test_page_accessibility.py) and the
screenshots of the pages (tests/screenshots.py) share."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from tests.virtual_authenticator import remove_virtual_authenticators

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


# Playwright's own, for a context made without a viewport.
DEFAULT_VIEWPORT = {"width": 1280, "height": 720}


class ReusedTabs:
    """Tabs for the tests of a module, one test after another, each in a context kept open
    between tests instead of a new context per test: making and closing a context costs
    Chromium more than most page states cost to reach (the accessibility audit's SQLite half
    took 64 CPU-s with tabs used again, 94 with a context per test).

    A tab handed out is as a new context's would be: on a blank page at the viewport asked
    for, with no cookies, no web storage, no routes, no virtual authenticator, no permissions
    and no other page. Tabs asked for with the same options share a context, so a test gets
    one tab per set of options."""

    def __init__(self, browser: Browser, **defaults: Any) -> None:
        self._browser = browser
        self._defaults = defaults
        self._open: dict[str, tuple[BrowserContext, Page]] = {}
        self._in_use: set[str] = set()

    def tab(self, **options: Any) -> Page:
        """`options`: those of `Browser.new_context` (viewport, java_script_enabled, ...)."""
        key = repr(sorted(options.items()))
        assert key not in self._in_use, f"one tab per test for the options {key}"
        self._in_use.add(key)
        if key in self._open and self._open[key][1].is_closed():
            self._open.pop(key)[0].close()
        if key not in self._open:
            context = self._browser.new_context(**{**self._defaults, **options})
            context.set_default_timeout(TIMEOUT_MS)
            context.set_default_navigation_timeout(TIMEOUT_MS)
            self._open[key] = (context, context.new_page())
        context, page = self._open[key]
        _make_like_new(context, page, options.get("viewport", DEFAULT_VIEWPORT))
        return page

    def test_done(self) -> None:
        self._in_use.clear()

    def close(self) -> None:
        for context, _ in self._open.values():
            context.close()
        self._open.clear()


def _make_like_new(context: BrowserContext, page: Page, viewport: dict[str, int]) -> None:
    for other in context.pages:
        if other != page:
            other.close()
    page.unroute_all(behavior="ignoreErrors")
    remove_virtual_authenticators(page)
    page.goto("about:blank")  # first, so that no request of the last page sets a cookie after
    context.clear_cookies()
    context.clear_permissions()
    page.set_viewport_size(viewport)
    # No page script uses web storage; were one to, its leftovers would show here.
    left = context.storage_state()
    assert left["cookies"] == [] and left["origins"] == [], left


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
