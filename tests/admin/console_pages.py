"""The console in Chromium, as the browser tests and the screenshots reach it: a gateway run by
`idp serve --admin-port`, administrators with roles, sign-in through the gateway's own pages,
and each console page in a known state."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Page

from idp.web.translations import translations
from tests.builders import CitizenAccount, add_citizen
from tests.gateway_process import Gateway


@dataclass
class ConsoleTab:
    page: Page
    gateway: Gateway
    console: str  # the console's base address, on its own port
    # The cookies of administrators already signed in, by their roles; shared between tabs (a
    # module's tests) so that each page state does not sign in again.
    signed_in: dict[tuple[str, ...], list[Any]] = field(default_factory=dict)
    language: str = "en"  # what the tab's browser asks for (Accept-Language)

    def says(self, message: str) -> str:
        """A catalogue message as the console shows it in this tab's language."""
        return str(translations(self.language).gettext(message))

    def click_labelled(self, element: str, message: str) -> None:
        """Click the `element` ("button", "a") whose text holds `message`, in this language."""
        self.page.click(f"{element}:has-text({json.dumps(self.says(message), ensure_ascii=False)})")

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

    def sign_in_as(self, *roles: str, path: str = "/") -> None:
        """As an administrator with `roles`: signed in once, then the same session again."""
        key = tuple(sorted(roles))
        if key in self.signed_in:
            self.page.context.add_cookies(self.signed_in[key])
            assert self.open(path) == 200 and self.page.url.startswith(self.console), self.page.url
            return
        self.sign_in(self.administrator(*roles), path)
        self.signed_in[key] = list(self.page.context.cookies())

    def open(self, path: str) -> int:
        response = self.page.goto(self.console + path)
        assert response is not None
        return response.status


def _signed_in(*roles: str, path: str = "/") -> Callable[[ConsoleTab], None]:
    def reach(tab: ConsoleTab) -> None:
        tab.sign_in_as(*roles, path=path)

    return reach


def _log_filter_error(tab: ConsoleTab) -> None:
    tab.sign_in_as("auditor", path="/log")
    tab.page.fill("#from", "2026-12-31")
    tab.page.fill("#to", "2026-12-01")
    with tab.page.expect_navigation():
        tab.click_labelled("button", "Show entries")


def _entry(tab: ConsoleTab) -> None:
    tab.sign_in_as("auditor", path="/log")
    with tab.page.expect_navigation():
        tab.page.click("table.entries tbody tr:first-child td:first-child a")


def _verified(tab: ConsoleTab) -> None:
    tab.sign_in_as("auditor", path="/log/verify")
    with tab.page.expect_navigation():
        tab.click_labelled("button", "Verify the log now")
    tab.page.wait_for_selector("#run:not([data-state=running])", timeout=60_000)


def _refused(tab: ConsoleTab) -> None:
    tab.sign_in_as("auditor")
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
    assert tab.page.locator("h1").inner_text() == tab.says("You are not an administrator")


def _signed_out(tab: ConsoleTab) -> None:
    tab.sign_in(tab.administrator("auditor"))
    with tab.page.expect_navigation():
        tab.click_labelled("button", "Sign out")


def register_app_in_console(tab: ConsoleTab, name: str) -> tuple[str, str]:
    """An operator fills in the registration form for a machine-to-machine app; its client_id
    and the secret shown once."""
    tab.open("/apps/new")
    tab.page.fill("#name", name)
    tab.page.uncheck("#grant-authorization_code")
    tab.page.uncheck("#grant-refresh_token")
    tab.page.check("#grant-client_credentials")
    with tab.page.expect_navigation():
        tab.click_labelled("button", "Register the app")
    return tab.page.inner_text("#client-id"), tab.page.inner_text("#client-secret")


def _app_registered(tab: ConsoleTab) -> None:
    tab.sign_in_as("operator", path="/apps")
    register_app_in_console(tab, "Pension fund")


def _app(tab: ConsoleTab) -> None:
    _app_registered(tab)
    with tab.page.expect_navigation():
        tab.click_labelled("a", "Go to the app")


def _app_edit(tab: ConsoleTab) -> None:
    _app(tab)
    with tab.page.expect_navigation():
        tab.click_labelled("a", "Change the registration")


def _app_form_error(tab: ConsoleTab) -> None:
    tab.sign_in_as("operator", path="/apps/new")
    tab.page.fill("#name", "Broken app")
    tab.page.fill("#redirect_uris", "http://not-loopback.example/cb")
    with tab.page.expect_navigation():
        tab.click_labelled("button", "Register the app")


def _citizens_found(tab: ConsoleTab) -> None:
    citizen = add_citizen(tab.gateway, given_name="Mari", family_name="Maasikas")
    tab.sign_in_as("support", path="/citizens")
    tab.page.fill("#q", citizen.username)
    with tab.page.expect_navigation():
        tab.click_labelled("button", "Search")


def open_citizen_record(tab: ConsoleTab, citizen: CitizenAccount, reason: str) -> None:
    tab.open(f"/citizens/{citizen.username}")
    tab.page.fill("#reason", reason)
    with tab.page.expect_navigation():
        tab.click_labelled("button", "Open the record")


def _citizen_reason(tab: ConsoleTab) -> None:
    citizen = add_citizen(tab.gateway)
    tab.sign_in_as("support", path=f"/citizens/{citizen.username}")


def _citizen_reason_missing(tab: ConsoleTab) -> None:
    _citizen_reason(tab)
    with tab.page.expect_navigation():
        tab.click_labelled("button", "Open the record")


def _citizen_record(tab: ConsoleTab) -> None:
    citizen = add_citizen(tab.gateway, given_name="Mari", family_name="Maasikas")
    tab.sign_in_as("support", path="/citizens")
    open_citizen_record(tab, citizen, "The citizen called about a locked account, case 4711")


def _activation_code(tab: ConsoleTab) -> None:
    _citizen_record(tab)
    with tab.page.expect_navigation():
        tab.click_labelled("button", "Give an activation code")


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
    "apps": _signed_in("operator", path="/apps"),
    "app-registered": _app_registered,
    "app": _app,
    "app-edit": _app_edit,
    "app-form-error": _app_form_error,
    "citizens-found": _citizens_found,
    "citizen-reason": _citizen_reason,
    "citizen-reason-missing": _citizen_reason_missing,
    "citizen-record": _citizen_record,
    "activation-code": _activation_code,
    "refused": _refused,
    "no-role": _no_role,
    "signed-out": _signed_out,
}
