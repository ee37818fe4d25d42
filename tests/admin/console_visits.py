"""Administrators in the console, as the tests drive it over HTTP: an account with roles, signed
in through the gateway (the authorization endpoint, the sign-in page, consent), and the console's
forms with their token."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from admin.roles import Role, grant_roles
from idp.accounts import find_account_by_username
from tests import http_client
from tests.builders import CitizenAccount, add_citizen
from tests.citizen import Browser
from tests.in_process import InProcessGateway

FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def add_administrator(gateway: InProcessGateway, *roles: Role) -> CitizenAccount:
    person = add_citizen(gateway)
    if roles:
        with gateway.app.state.web.database.unit_of_work() as session:
            account = find_account_by_username(session, person.username)
            assert account is not None
            grant_roles(session, account, roles, by="test", now=gateway.clock())
    return person


@dataclass
class ConsoleVisit:
    browser: Browser
    person: CitizenAccount

    @property
    def http(self) -> http_client.AnyClient:
        return self.browser.http

    def get(self, path: str, **params: str) -> httpx.Response:
        # Without parameters the path's own query stands (httpx would replace it).
        return self.http.get(path, params=params) if params else self.http.get(path)

    def form_token(self, path: str = "/admin/") -> str:
        page = self.http.get(path)
        found = FORM_TOKEN.search(page.text)
        assert found, page.text
        return found.group(1)

    def post(
        self,
        path: str,
        data: dict[str, str],
        *,
        token_from: str = "/admin/",  # noqa: S107  (a page, not a secret)
    ) -> httpx.Response:
        return self.http.post(path, data={"form_token": self.form_token(token_from), **data})

    def sign_in_again(self, response: httpx.Response) -> httpx.Response:
        """From a page asking for a fresh sign-in: follow its link, type the password again."""
        link = re.search(r'href="(/admin/sign-in\?[^"]+)"', response.text)
        assert link, response.text
        started = self.http.get(link.group(1).replace("&amp;", "&"))
        return self.browser.follow_to_client(
            started, username=self.person.username, password=self.person.password
        )


def sign_in_to_console(
    gateway: InProcessGateway, person: CitizenAccount, *, start: str = "/admin/"
) -> tuple[ConsoleVisit, httpx.Response]:
    """Open `start`, be sent to sign in, sign in and consent; the page it lands on."""
    browser = gateway.browser()
    first = browser.http.get(start)
    landed = browser.follow_to_client(
        first, username=person.username, password=person.password, max_hops=16
    )
    return ConsoleVisit(browser=browser, person=person), landed
