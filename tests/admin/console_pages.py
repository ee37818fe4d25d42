"""The console in Chromium, as the browser tests and the screenshots reach it: a gateway run by
`idp serve --admin-port`, administrators with roles, sign-in through the gateway's own pages,
and each console page in a known state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page

from tests.builders import CitizenAccount, add_citizen
from tests.gateway_process import Gateway


@dataclass
class ConsoleTab:
    page: Page
    gateway: Gateway
    console: str  # the console's base address, on its own port

    def administrator(self, *roles: str) -> CitizenAccount:
        person = add_citizen(self.gateway, given_name="Ann", family_name="Auditor")
        for role in roles:
            self.gateway.command("admins", "grant", "--username", person.username, "--role", role)
        return person

    def sign_in(self, person: CitizenAccount, path: str = "/") -> None:
        """Open `path` of the console, be sent to the gateway, sign in (and allow the console
        the first time), and land back on `path`."""
        self.page.goto(self.console + path)
        self.page.wait_for_url(f"{self.gateway.issuer}/sign-in?*")
        self.page.fill("#username", person.username)
        self.page.fill("#password", person.password)
        with self.page.expect_navigation():
            self.page.click("button[name=sign_in]")
        if "/consent" in self.page.url:
            with self.page.expect_navigation():
                self.page.click("button[value=allow]")
        self.page.wait_for_url(f"{self.console}{path.split('?', maxsplit=1)[0]}*")

    def open(self, path: str) -> int:
        response = self.page.goto(self.console + path)
        assert response is not None
        return response.status


def _signed_in(*roles: str, path: str = "/") -> Callable[[ConsoleTab], None]:
    def reach(tab: ConsoleTab) -> None:
        tab.sign_in(tab.administrator(*roles), path)

    return reach


def _log_filter_error(tab: ConsoleTab) -> None:
    tab.sign_in(tab.administrator("auditor"), "/log")
    tab.page.fill("#from", "2026-12-31")
    tab.page.fill("#to", "2026-12-01")
    with tab.page.expect_navigation():
        tab.page.click("button:has-text('Show entries')")


def _entry(tab: ConsoleTab) -> None:
    tab.sign_in(tab.administrator("auditor"), "/log")
    with tab.page.expect_navigation():
        tab.page.click("table.entries tbody tr:first-child td:first-child a")


def _verified(tab: ConsoleTab) -> None:
    tab.sign_in(tab.administrator("auditor"), "/log/verify")
    with tab.page.expect_navigation():
        tab.page.click("button:has-text('Verify the log now')")
    tab.page.wait_for_selector("#run:not([data-state=running])", timeout=60_000)


def _refused(tab: ConsoleTab) -> None:
    tab.sign_in(tab.administrator("auditor"))
    assert tab.open("/keys") == 403


def _no_role(tab: ConsoleTab) -> None:
    person = tab.administrator()
    tab.page.goto(tab.console + "/")
    tab.page.wait_for_url(f"{tab.gateway.issuer}/sign-in?*")
    tab.page.fill("#username", person.username)
    tab.page.fill("#password", person.password)
    with tab.page.expect_navigation():
        tab.page.click("button[name=sign_in]")
    if "/consent" in tab.page.url:
        with tab.page.expect_navigation():
            tab.page.click("button[value=allow]")
    assert tab.page.locator("h1").inner_text() == "You are not an administrator"


def _signed_out(tab: ConsoleTab) -> None:
    tab.sign_in(tab.administrator("auditor"))
    with tab.page.expect_navigation():
        tab.page.click("button:has-text('Sign out')")


CONSOLE_STATES: dict[str, Callable[[ConsoleTab], None]] = {
    "dashboard": _signed_in("auditor", "operator", "support", "security"),
    "log": _signed_in("auditor", path="/log"),
    "log-filter-error": _log_filter_error,
    "entry": _entry,
    "verify": _signed_in("auditor", path="/log/verify"),
    "verify-finished": _verified,
    "keys": _signed_in("operator", path="/keys"),
    "keys-emergency": _signed_in("operator", path="/keys/emergency"),
    "roles": _signed_in("security", path="/roles"),
    "refused": _refused,
    "no-role": _no_role,
    "signed-out": _signed_out,
}
