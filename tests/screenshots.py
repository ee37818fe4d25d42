"""Screenshots for docs/screenshots/: the sign-in page (fresh and after an empty submission), the
consent page and the signed-out page in English and Estonian, and the administrator console's
pages; a real gateway on SQLite in a temporary folder, as the tests start one, and Debian's
Chromium. `scripts/screenshots` runs it."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import ViewportSize, sync_playwright

from tests.admin.console_pages import CONSOLE_STATES, ConsoleTab
from tests.builders import add_citizen, register_app
from tests.chromium import CallbackServer, launch_chromium
from tests.citizen import Browser as HttpBrowser
from tests.conftest import signed_in_tokens
from tests.gateway_process import Gateway, free_port, start_gateway
from tests.page_states import LANGUAGES, STATES, Visit, register_agency

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
# Page state (tests/page_states.py) and the file it goes to, per language.
SHOTS = {
    "sign-in": "sign-in",
    "sign-in-empty": "sign-in-error",
    "consent": "consent",
    "signed-out": "signed-out",
}
VIEWPORT = ViewportSize(width=800, height=600)  # full page: as tall as the page is
CONSOLE_VIEWPORT = ViewportSize(width=1280, height=800)  # administrators' screens are wider
# Console page state (tests/admin/console_pages.py) and its file.
CONSOLE_SHOTS = {
    "dashboard": "console-dashboard",
    "log": "console-log",
    "entry": "console-entry",
    "verify-finished": "console-verified",
    "app": "console-app",
    "citizen-record": "console-citizen",
    "refused": "console-refused",
}


def take_screenshots(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with (
        tempfile.TemporaryDirectory() as workdir,
        CallbackServer() as callback,
        sync_playwright() as playwright,
    ):
        gateway = start_gateway(
            Path(workdir), backend="sqlite", database_url=f"sqlite:///{workdir}/idp.db"
        )
        browser = launch_chromium(playwright)
        try:
            agency = register_agency(gateway, callback.url)
            for language in LANGUAGES:
                for state, name in SHOTS.items():
                    context = browser.new_context(locale="en-GB", viewport=VIEWPORT)
                    page = context.new_page()
                    STATES[state](Visit(page, gateway, agency, language))
                    path = folder / f"{name}-{language}.png"
                    page.screenshot(path=str(path), full_page=True, animations="disabled")
                    written.append(path)
                    context.close()
        finally:
            browser.close()
            gateway.stop()
    return written


def take_console_screenshots(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as workdir, sync_playwright() as playwright:
        admin_port = free_port()
        gateway = start_gateway(
            Path(workdir),
            backend="sqlite",
            database_url=f"sqlite:///{workdir}/idp.db",
            extra_env={"IDP_LOG_SEQUENCE_INTERVAL": "0.2"},
            serve_args=("--admin-port", str(admin_port)),
        )
        browser = launch_chromium(playwright)
        try:
            _some_activity(gateway)
            for state, name in CONSOLE_SHOTS.items():
                context = browser.new_context(locale="en-GB", viewport=CONSOLE_VIEWPORT)
                tab = ConsoleTab(
                    context.new_page(), gateway, f"http://localhost:{admin_port}/admin"
                )
                CONSOLE_STATES[state](tab)
                path = folder / f"{name}.png"
                tab.page.screenshot(path=str(path), full_page=True, animations="disabled")
                written.append(path)
                context.close()
        finally:
            browser.close()
            gateway.stop()
    return written


def _some_activity(gateway: Gateway) -> None:
    """A month of synthetic entries, then citizens signing in at three agency apps, so the
    dashboard and the log have something to show."""
    gateway.command("audit", "seed", "--entries", "6000", "--not-production")
    apps = [register_app(gateway, name=name) for name in ("Tax office", "Land registry", "Health")]
    for n in range(9):
        citizen = add_citizen(gateway)
        for app in apps[: 1 + n % 3]:
            with HttpBrowser(gateway.issuer) as http:
                signed_in_tokens(gateway, http, app, citizen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=SCREENSHOTS, help="folder for the PNG files")
    folder = parser.parse_args().out
    for path in [*take_screenshots(folder), *take_console_screenshots(folder)]:
        print(path)


if __name__ == "__main__":
    main()
