"""The citizen's pages in every state the accessibility tests audit and the screenshots show, and
how a browser gets to each: in English, or in Estonian the way a citizen gets there (the agency's
`ui_locales` for the sign-in and consent pages, the language switcher for the others)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pyotp
from playwright.sync_api import Page

from tests import http_client
from tests.builders import CitizenAccount, add_citizen, register_app
from tests.citizen import AppClient, Browser, authorization_params, split_verifier
from tests.gateway_process import Gateway
from tests.virtual_authenticator import VirtualAuthenticator, add_virtual_authenticator

LANGUAGES = ("en", "et")
FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
AGENCY_NAME = "Tax office"
AGENCY_PURPOSE = "To fill in your income tax return for you"
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
HIGH = "http://eidas.europa.eu/LoA/high"


def register_agency(gateway: Gateway, redirect_uri: str) -> AppClient:
    """The agency the pages name: it asks for a name and an email address, and says why."""
    return register_app(
        gateway,
        *("--scope", "openid", "--scope", "profile", "--scope", "email"),
        *("--purpose", AGENCY_PURPOSE),
        name=AGENCY_NAME,
        redirect_uris=[redirect_uri],
    )


@dataclass
class Visit:
    """One browser tab on its way to a page, in one language. `request` and `verifier` are those
    of the last authorization request it opened."""

    page: Page
    gateway: Gateway
    agency: AppClient
    language: str
    request: dict[str, str] | None = None
    verifier: str = ""

    def open(self, path: str) -> int:
        """Shows `path` in this visit's language; the page's HTTP status."""
        url = self.gateway.issuer + path
        if self.language != LANGUAGES[0]:
            url = f"{self.gateway.issuer}/language?{urlencode({'to': self.language, 'back': path})}"
        response = self.page.goto(url)
        assert response is not None
        assert urlsplit(self.page.url).path == urlsplit(path).path, self.page.url
        return response.status

    def open_sign_in(self) -> None:
        """The agency sends the browser to /authorize (PKCE, state, nonce, `ui_locales`)."""
        self.request, self.verifier = split_verifier(
            authorization_params(self.agency, ui_locales=self.language)
        )
        self.page.goto(f"{self.gateway.issuer}/authorize?{urlencode(self.request)}")
        assert self.page.url.startswith(f"{self.gateway.issuer}/sign-in?interaction="), (
            self.page.url
        )

    def submit_sign_in(self, username: str, password: str) -> None:
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        with self.page.expect_navigation():
            self.page.click("button[name=sign_in]")

    def new_citizen(self) -> CitizenAccount:
        """A citizen of this visit alone: consent is remembered, and failed sign-ins count."""
        return add_citizen(
            self.gateway, given_name="Mari", family_name="Maasikas", email="mari@example.org"
        )

    def reach_consent(self) -> CitizenAccount:
        citizen = self.new_citizen()
        self.open_sign_in()
        self.submit_sign_in(citizen.username, citizen.password)
        self.page.wait_for_url(f"{self.gateway.issuer}/consent?*")
        return citizen

    def allow(self) -> None:
        """Allow on the consent page, and wait for the browser to reach the agency."""
        self.page.click("button[value=allow]")
        self.page.wait_for_url(f"{self.agency.redirect_uri}?*")

    def signed_in_at_the_agency(self) -> CitizenAccount:
        """A new citizen signed in, with the agency allowed, as `reach_consent` and `allow`
        leave this browser, but reached over HTTP (tests.citizen.Browser, with this browser's
        User-Agent) and handed the gateway's cookies: the sign-in and consent pages are states
        of their own, so the states past them need not be walked through them again (three
        browser navigations saved each time)."""
        citizen = self.new_citizen()
        with Browser(self.gateway.issuer) as http:
            http.http.headers["User-Agent"] = self.page.evaluate("navigator.userAgent")
            request = split_verifier(authorization_params(self.agency))[0]
            arrived = http.follow_to_client(
                http.authorize(request), username=citizen.username, password=citizen.password
            )
            assert arrived.status_code in (302, 303), arrived.text[:300]
            assert arrived.headers["location"].startswith(self.agency.redirect_uri)
            jar = list(http.http.cookies.jar)
        assert jar, "the gateway set no cookie"
        self.page.context.add_cookies(
            [
                {
                    "name": cookie.name,
                    "value": cookie.value or "",
                    "url": self.gateway.issuer,
                    "httpOnly": cookie.has_nonstandard_attr("HttpOnly"),
                    "secure": cookie.secure,
                    "sameSite": str(cookie.get_nonstandard_attr("SameSite") or "Lax").title(),
                }
                for cookie in jar
            ]
        )
        return citizen


def _information(path: str) -> Callable[[Visit], None]:
    def reach(visit: Visit) -> None:
        assert visit.open(path) == 200

    return reach


def _not_found(visit: Visit) -> None:
    assert visit.open("/no-such-page") == 404


def _sign_in(visit: Visit) -> None:
    visit.open_sign_in()


def _sign_in_empty(visit: Visit) -> None:
    visit.open_sign_in()
    visit.submit_sign_in("", "")
    assert visit.page.locator("#username-error").is_visible()
    assert visit.page.locator("#password-error").is_visible()


def _sign_in_wrong_password(visit: Visit) -> None:
    citizen = visit.new_citizen()
    visit.open_sign_in()
    visit.submit_sign_in(citizen.username, citizen.password + "-wrong")
    assert visit.page.locator("#credentials-error").is_visible()


def _sign_in_timeout_warning(visit: Visit) -> None:
    """The warning as static/timeout-warning.js shows it two minutes before the end."""
    visit.open_sign_in()
    visit.page.evaluate(
        "() => { const w = document.getElementById('timeout-warning'); w.hidden = false; "
        "w.focus(); }"
    )
    assert visit.page.locator("#timeout-warning").is_visible()


def _consent(visit: Visit) -> None:
    visit.reach_consent()


def _form_post(visit: Visit) -> None:
    """`response_mode=form_post` when its script does not run (blocked, or JavaScript off): the
    page that posts the answer to the agency waits for the citizen's Continue."""
    visit.page.route("**/static/form_post.js", lambda route: route.abort())
    citizen = visit.new_citizen()
    visit.request, visit.verifier = split_verifier(
        authorization_params(visit.agency, ui_locales=visit.language, response_mode="form_post")
    )
    visit.page.goto(f"{visit.gateway.issuer}/authorize?{urlencode(visit.request)}")
    visit.submit_sign_in(citizen.username, citizen.password)
    visit.page.wait_for_url(f"{visit.gateway.issuer}/consent?*")
    with visit.page.expect_navigation():
        visit.page.click("button[value=allow]")
    assert visit.page.locator("form#form-post button[type=submit]").is_visible()


def _account_signed_out(visit: Visit) -> None:
    assert visit.open("/account") == 200
    assert visit.page.locator("a[href='/account/sign-in']").is_visible()


def _account_signed_in(visit: Visit) -> None:
    visit.signed_in_at_the_agency()
    assert visit.open("/account") == 200
    assert visit.page.locator("li.agency h2").all_inner_texts() == [AGENCY_NAME]


def _signed_out(visit: Visit) -> None:
    """The citizen's own "Sign out" in the banner of the account page: no app to go back to,
    so the page offers to sign in again."""
    _account_signed_in(visit)
    with visit.page.expect_navigation():
        visit.page.click(".sign-out button[type=submit]")
    assert visit.page.locator("a[href='/account/sign-in']").is_visible()


def _account_other_browser_signed_out(visit: Visit) -> None:
    """Signed in on two more browsers, one of them just signed out from this page: the
    confirmation, this browser, and the other one with its button."""
    citizen = visit.signed_in_at_the_agency()
    for _ in range(2):
        with Browser(visit.gateway.issuer) as other:
            other.http.headers["User-Agent"] = FIREFOX_ON_LINUX
            request = split_verifier(authorization_params(visit.agency))[0]
            arrived = other.follow_to_client(
                other.authorize(request), username=citizen.username, password=citizen.password
            )
            assert arrived.status_code in (302, 303), arrived.text[:300]
    assert visit.open("/account") == 200
    assert visit.page.locator("li.browser").count() == 3
    with visit.page.expect_navigation():
        visit.page.click("form[action='/account/sessions/end'] button")
    assert visit.page.locator("#signed-out-notice").is_visible()
    assert visit.page.locator("li.browser").count() == 2


def _support_acts(visit: Visit, citizen: CitizenAccount, what: str) -> dict[str, str]:
    """What support does to an account through the admin API (`lock`, `activation-code`)."""
    support = register_app(
        visit.gateway, "--grant-type", "client_credentials", "--scope", "admin:support"
    )
    token = http_client.post(
        f"{visit.gateway.issuer}/token",
        auth=(support.client_id, support.client_secret or ""),
        data={"grant_type": "client_credentials", "scope": "admin:support"},
    ).json()["access_token"]
    answer = http_client.post(
        f"{visit.gateway.issuer}/admin/api/v1/accounts/{citizen.username}/{what}",
        json={"reason": "The citizen asked for it"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


def _sign_in_locked(visit: Visit) -> None:
    """The right password of an account support locked (through the admin API)."""
    citizen = visit.new_citizen()
    _support_acts(visit, citizen, "lock")
    visit.open_sign_in()
    visit.submit_sign_in(citizen.username, citizen.password)
    assert visit.page.locator(".error-summary").is_visible()


def _activate(visit: Visit) -> None:
    assert visit.open("/account/activate") == 200


def _submit_activation(visit: Visit, username: str, code: str, password: str) -> None:
    visit.page.fill("#username", username)
    visit.page.fill("#code", code)
    visit.page.fill("#password", password)
    visit.page.fill("#password_again", password)
    with visit.page.expect_navigation():
        visit.page.click("form[action='/account/activate'] button[type=submit]")


def _activate_empty(visit: Visit) -> None:
    _activate(visit)
    _submit_activation(visit, "", "", "")
    for field in ("username", "code", "password", "password_again"):
        assert visit.page.locator(f"#{field}-error").is_visible()


def _activate_wrong_code(visit: Visit) -> None:
    citizen = visit.new_citizen()
    _activate(visit)
    _submit_activation(visit, citizen.username, "ABCD-EFGH-JKMN", "a new password, long enough")
    assert visit.page.locator("#code-error").is_visible()


def _activated(visit: Visit) -> None:
    """The code support gave, and a new password: the account's password is set."""
    citizen = visit.new_citizen()
    code = _support_acts(visit, citizen, "activation-code")["code"]
    _activate(visit)
    _submit_activation(visit, citizen.username, code, "a new password, long enough")
    assert visit.page.locator("#activated-notice").is_visible()


def _reach_change_password(visit: Visit) -> CitizenAccount:
    """Signed in through the account page's own sign-in, then its "Change your password"."""
    citizen = visit.new_citizen()
    assert visit.open("/account") == 200
    with visit.page.expect_navigation():
        visit.page.click("a[href='/account/sign-in']")
    visit.submit_sign_in(citizen.username, citizen.password)
    visit.page.wait_for_url(f"{visit.gateway.issuer}/account")
    with visit.page.expect_navigation():
        visit.page.click("a#change-password")
    assert visit.page.locator("#current_password").is_visible()
    return citizen


def _change_password(visit: Visit) -> None:
    _reach_change_password(visit)


def _submit_password_change(visit: Visit, current: str, new: str) -> None:
    visit.page.fill("#current_password", current)
    visit.page.fill("#password", new)
    visit.page.fill("#password_again", new)
    with visit.page.expect_navigation():
        visit.page.click("form[action='/account/password'] button[type=submit]")


def _change_password_empty(visit: Visit) -> None:
    _reach_change_password(visit)
    _submit_password_change(visit, "", "")
    for field in ("current_password", "password", "password_again"):
        assert visit.page.locator(f"#{field}-error").is_visible()


def _password_changed(visit: Visit) -> None:
    citizen = _reach_change_password(visit)
    _submit_password_change(visit, citizen.password, "tuul puhub üle lahe")
    assert visit.page.locator("#password-changed-notice").is_visible()


def _expired(visit: Visit) -> None:
    assert visit.open("/sign-in?interaction=nonsense") == 400


def _invalid_link(visit: Visit) -> None:
    """A link the gateway cannot trust (an unknown client_id): an error page, no redirect."""
    request = split_verifier(authorization_params(visit.agency, client_id="no-such-agency"))[0]
    assert visit.open(f"/authorize?{urlencode(request)}") == 400


def _authenticator_setup(visit: Visit) -> None:
    """Signed in a moment ago (the change needs a fresh sign-in): the QR code and the key."""
    visit.signed_in_at_the_agency()
    assert visit.open("/account/authenticator-app/set-up") == 200
    assert visit.page.locator("svg.qr-code").is_visible()


def _secret(visit: Visit) -> str:
    return visit.page.locator("#secret").inner_text().replace(" ", "")


def _submit_code(visit: Visit, field: str, code: str, action: str) -> None:
    visit.page.fill(f"#{field}", code)
    with visit.page.expect_navigation():
        visit.page.click(f"form[action='{action}'] button[type=submit]")


def _wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def _authenticator_setup_wrong_code(visit: Visit) -> None:
    _authenticator_setup(visit)
    code = pyotp.TOTP(_secret(visit)).now()
    _submit_code(visit, "code", _wrong(code), "/account/authenticator-app/set-up")
    assert visit.page.locator("#code-error").is_visible()


def _confirm_app(visit: Visit) -> str:
    """The app confirmed by its first code; the recovery codes shown once. Returns the secret."""
    _authenticator_setup(visit)
    secret = _secret(visit)
    _submit_code(visit, "code", pyotp.TOTP(secret).now(), "/account/authenticator-app/set-up")
    assert visit.page.locator("#recovery-codes li").count() == 10
    return secret


def _reach_step_up(visit: Visit) -> str:
    """The agency asks for substantial of a citizen signed in with a password who has an app:
    the step-up page with the app's form and, folded, the recovery code's."""
    secret = _confirm_app(visit)
    visit.request, visit.verifier = split_verifier(
        authorization_params(visit.agency, ui_locales=visit.language, acr_values=SUBSTANTIAL)
    )
    visit.page.goto(f"{visit.gateway.issuer}/authorize?{urlencode(visit.request)}")
    assert visit.page.url.startswith(f"{visit.gateway.issuer}/step-up?interaction="), visit.page.url
    return secret


def _step_up_wrong_code(visit: Visit) -> None:
    secret = _reach_step_up(visit)
    _submit_code(visit, "code", _wrong(pyotp.TOTP(secret).now()), "/step-up/authenticator-app")
    assert visit.page.locator("#code-error").is_visible()


def _step_up_wrong_recovery_code(visit: Visit) -> None:
    _reach_step_up(visit)
    visit.page.click("details.recovery-code summary")
    _submit_code(visit, "recovery_code", "ABCD-EFGH-JKMN", "/step-up/recovery-code")
    assert visit.page.locator("#recovery_code-error").is_visible()


def _recovery_codes(visit: Visit) -> None:
    _confirm_app(visit)


def _step_up(visit: Visit) -> None:
    _reach_step_up(visit)


def _authenticator_app_remove(visit: Visit) -> None:
    """ "Remove the authenticator app" on the account page: the page that asks first."""
    _confirm_app(visit)
    assert visit.open("/account/authenticator-app/remove") == 200
    assert visit.page.locator("form[action='/account/authenticator-app/remove']").is_visible()


def _new_recovery_codes(visit: Visit) -> None:
    """ "Get new recovery codes" on the account page: the page that asks first."""
    _confirm_app(visit)
    assert visit.open("/account/recovery-codes/new") == 200
    assert visit.page.locator("form[action='/account/recovery-codes/new']").is_visible()


def _sign_out_confirm(visit: Visit) -> None:
    """An end-session request that does not name the citizen signed in (no `id_token_hint`):
    the gateway asks before it signs them out."""
    visit.signed_in_at_the_agency()
    assert visit.open("/logout") == 200
    assert visit.page.locator("main form[action='/sign-out'] button[type=submit]").is_visible()


def _account_with_authenticator_app(visit: Visit) -> None:
    _confirm_app(visit)
    assert visit.open("/account") == 200
    assert visit.page.locator("#authenticator-app-summary").is_visible()


def _account_with_passkey(visit: Visit) -> None:
    _add_passkey(visit)


def _add_passkey(visit: Visit) -> VirtualAuthenticator:
    """ "Add a passkey" on the account page, with the browser's virtual authenticator: the
    page lists it, with the notice that it was added. Returns the authenticator."""
    authenticator = add_virtual_authenticator(visit.page)
    visit.signed_in_at_the_agency()
    assert visit.open("/account") == 200
    with visit.page.expect_navigation():
        visit.page.click("#add-passkey")
    visit.page.wait_for_url("**/account?passkey=added*")
    assert visit.page.locator("#passkey-added-notice").is_visible()
    assert visit.page.locator("#passkey-list h3").count() == 1
    return authenticator


def _passkey_remove(visit: Visit) -> None:
    """A passkey's "Remove" on the account page: the page that asks first."""
    _add_passkey(visit)
    with visit.page.expect_navigation():
        visit.page.click("#passkey-list a[href^='/account/passkeys/remove']")
    assert visit.page.locator("form[action='/account/passkeys/remove']").is_visible()


def _step_up_passkey_refused(visit: Visit) -> None:
    """The agency asks for high of a citizen signed in with a password who has a passkey; the
    device does not verify the citizen, and the step-up page says the passkey could not be
    used."""
    authenticator = _add_passkey(visit)
    authenticator.set_user_verified(False)
    visit.request, visit.verifier = split_verifier(
        authorization_params(visit.agency, ui_locales=visit.language, acr_values=HIGH)
    )
    visit.page.goto(f"{visit.gateway.issuer}/authorize?{urlencode(visit.request)}")
    assert visit.page.url.startswith(f"{visit.gateway.issuer}/step-up?interaction="), visit.page.url
    with visit.page.expect_navigation():
        visit.page.click("form[action='/step-up/passkey'] button[type=submit]")
    assert visit.page.locator("#passkey-error").is_visible()


def _sign_in_passkey_refused(visit: Visit) -> None:
    """ "Sign in with a passkey" in a browser whose authenticator has none for the gateway."""
    add_virtual_authenticator(visit.page)
    visit.open_sign_in()
    with visit.page.expect_navigation():
        visit.page.click("form[action='/sign-in/passkey'] button[type=submit]")
    assert visit.page.locator(".error-summary").is_visible()


# Every page a citizen can see, and each of its error states.
STATES: dict[str, Callable[[Visit], None]] = {
    "home": _information("/"),
    "help": _information("/help"),
    "privacy": _information("/privacy"),
    "accessibility": _information("/accessibility"),
    "open-data": _information("/open-data/"),
    "not-found": _not_found,
    "sign-in": _sign_in,
    "sign-in-empty": _sign_in_empty,
    "sign-in-wrong-password": _sign_in_wrong_password,
    "sign-in-timeout-warning": _sign_in_timeout_warning,
    "sign-in-locked": _sign_in_locked,
    "consent": _consent,
    "form-post": _form_post,
    "account-signed-out": _account_signed_out,
    "account-signed-in": _account_signed_in,
    "signed-out": _signed_out,
    "sign-out-confirm": _sign_out_confirm,
    "account-other-browser-signed-out": _account_other_browser_signed_out,
    "activate": _activate,
    "activate-empty": _activate_empty,
    "activate-wrong-code": _activate_wrong_code,
    "activated": _activated,
    "change-password": _change_password,
    "change-password-empty": _change_password_empty,
    "password-changed": _password_changed,
    "authenticator-app-setup": _authenticator_setup,
    "authenticator-app-setup-wrong-code": _authenticator_setup_wrong_code,
    "recovery-codes": _recovery_codes,
    "account-with-authenticator-app": _account_with_authenticator_app,
    "authenticator-app-remove": _authenticator_app_remove,
    "new-recovery-codes": _new_recovery_codes,
    "step-up": _step_up,
    "step-up-wrong-code": _step_up_wrong_code,
    "step-up-wrong-recovery-code": _step_up_wrong_recovery_code,
    "account-with-passkey": _account_with_passkey,
    "passkey-remove": _passkey_remove,
    "step-up-passkey-refused": _step_up_passkey_refused,
    "sign-in-passkey-refused": _sign_in_passkey_refused,
    "expired": _expired,
    "invalid-link": _invalid_link,
}
