"""Screenshots of the sign-in page (fresh and after an empty submission) and the consent page, in
English and Estonian, for docs/screenshots/: a real gateway on SQLite in a temporary folder, as
the tests start one, and Debian's Chromium. `scripts/screenshots` runs it."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import ViewportSize, sync_playwright

from tests.chromium import CallbackServer, launch_chromium
from tests.gateway_process import start_gateway
from tests.page_states import LANGUAGES, STATES, Visit, register_agency

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
# Page state (tests/page_states.py) and the file it goes to, per language.
SHOTS = {"sign-in": "sign-in", "sign-in-empty": "sign-in-error", "consent": "consent"}
VIEWPORT = ViewportSize(width=800, height=600)  # full page: as tall as the page is


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=SCREENSHOTS, help="folder for the PNG files")
    for path in take_screenshots(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
