"""The newcomer's path from the README: `idp serve --demo` in an empty folder, then sign in to the
demo agency app as the demo citizen. The demo is defined on the embedded default (SQLite)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx

from tests.citizen import Browser
from tests.gateway_process import IDP_COMMAND, free_port


def test_demo_agency_app_signs_the_demo_citizen_in(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "GATEWAY_"))}
    log_path = tmp_path / "demo.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*IDP_COMMAND, "serve", "--demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    issuer = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{issuer}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        printed = log_path.read_text()
        assert f"Demo agency app: {issuer}/demo-agency/" in printed
        assert "username demo, password demo-citizen-password" in printed
        assert (tmp_path / "data" / "idp.db").exists()
        assert list((tmp_path / "keys").glob("*.pem"))

        browser = Browser(issuer)
        try:
            start = browser.http.get(f"{issuer}/demo-agency/login")
            # The demo app lives on the gateway's origin: the walk ends on its callback page.
            page = browser.follow_to_client(
                start, username="demo", password="demo-citizen-password"
            )
            assert page.status_code == 200, page.text
            assert "You are signed in" in page.text and "Maasikas" in page.text
            # Its own stylesheet, which its own policy lets the page load.
            assert "style-src 'self'" in page.headers["content-security-policy"]
            sheet = browser.http.get(f"{issuer}/demo-agency/agency.css")
            assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
            assert "<title>You are signed in &ndash; Demo agency service</title>" in page.text
            # The app keeps its session, until the citizen signs out of it.
            assert "Maasikas" in browser.http.get(f"{issuer}/demo-agency/").text
            # Its sign-out goes through the gateway's end-session endpoint, which signs the
            # citizen out of the gateway too, and comes back.
            out = browser.http.post(f"{issuer}/demo-agency/sign-out")
            assert out.status_code == 303 and out.headers["location"].startswith(
                f"{issuer}/logout?"
            )
            back = browser.http.get(out.headers["location"])
            assert back.status_code == 303
            assert back.headers["location"] == f"{issuer}/demo-agency/signed-out"
            assert "signed out" in browser.http.get(back.headers["location"]).text
            assert "Maasikas" not in browser.http.get(f"{issuer}/demo-agency/").text
            again = browser.http.get(f"{issuer}/demo-agency/login")
            assert 'action="/sign-in"' in browser.follow_to_client(again).text  # the password again
        finally:
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "Traceback" not in log_path.read_text()
