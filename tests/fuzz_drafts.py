"""The requests the fuzz test (tests/idp/web/test_fuzz.py) starts from: for every route of the
gateway and of its administrators' API, one that works, made with a real client, tokens,
interactions, cookies and form tokens, so that what the fuzzer breaks reaches the code behind
the first checks.

`unfuzzed_routes` names the routes no draft reaches, so a new page cannot be left out.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import pyotp
from starlette.routing import Match, Route

from admin.api import API_ROUTERS
from gateway.app import _ROUTERS
from tests import http_client
from tests.citizen import (
    AppClient,
    Browser,
    account_form_token,
    authorization_params,
    hidden_fields,
    split_verifier,
)
from tests.conftest import signed_in_tokens
from tests.direct_records import add_app, add_person
from tests.gateway_process import Gateway

FORM = b"application/x-www-form-urlencoded"
FORM_HEADERS = ((b"content-type", FORM),)
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
_SECRET = re.compile(r'<p class="secret" id="secret">([A-Z2-7 ]+)</p>')

Pair = tuple[str, str, str]  # name, value, how it is encoded


@dataclass(frozen=True)
class Draft:
    """A request before it is turned into bytes."""

    method: str
    path: str
    query: tuple[Pair, ...] = ()
    form: tuple[Pair, ...] | None = None  # None: no urlencoded body
    raw_body: bytes | None = None  # replaces the form when set
    headers: tuple[tuple[bytes, bytes], ...] = ()
    separator: bytes = b"&"
    chunked: bool = False


def pairs(params: dict[str, str]) -> tuple[Pair, ...]:
    return tuple((name, value, "utf-8") for name, value in params.items())


@dataclass(frozen=True)
class FuzzTarget:
    """A gateway, a working request for each of its routes, and real values to mix in."""

    gateway: Gateway
    drafts: list[Draft]
    values: list[str]
    cookies: list[bytes]
    authorizations: list[bytes]
    names: list[str] = field(default_factory=list)


def cookie_header(browser: Browser) -> bytes:
    return "; ".join(f"{c.name}={c.value}" for c in browser.http.cookies.jar).encode()


def _with_cookie(browser: Browser) -> tuple[tuple[bytes, bytes], ...]:
    return ((b"cookie", cookie_header(browser)),)


def _form_post(path: str, browser: Browser, **fields: str) -> Draft:
    return Draft("POST", path, form=pairs(fields), headers=(*FORM_HEADERS, *_with_cookie(browser)))


def _page(path: str, browser: Browser | None = None, **query: str) -> Draft:
    return Draft("GET", path, pairs(query), headers=_with_cookie(browser) if browser else ())


ADMIN_API = "/admin/api/v1"  # where the administrators' API is mounted


def unfuzzed_routes(drafts: list[Draft]) -> list[str]:
    """`METHOD path` of each route of the gateway's routers and of the administrators' API
    (its paths under ADMIN_API) that no draft's method and path reach; static files are a
    mount of files, not routes."""
    routers = [("", router) for router in _ROUTERS]
    routers += [(ADMIN_API, router) for router in API_ROUTERS]
    missing = []
    for prefix, router in routers:
        for route in router.routes:
            assert isinstance(route, Route)
            for method in sorted((route.methods or set()) - {"HEAD"}):
                scopes = (
                    {"type": "http", "method": d.method, "path": d.path.removeprefix(prefix)}
                    for d in drafts
                    if d.method == method and d.path.startswith(f"{prefix}/")
                )
                if not any(route.matches(scope)[0] == Match.FULL for scope in scopes):
                    missing.append(f"{method} {prefix}{route.path}")
    return missing


@dataclass(frozen=True)
class _Citizen:
    """A citizen signed in on a browser of their own, and its account pages' form token."""

    browser: Browser
    form_token: str


def _signed_in_citizen(gateway: Gateway, app: AppClient) -> _Citizen:
    person = add_person(gateway.env["IDP_DATABASE_URL"], given_name="Fuzz")
    browser = Browser(gateway.issuer)
    signed_in_tokens(gateway, browser, app, person)
    account = browser.http.get(f"{gateway.issuer}/account")
    return _Citizen(browser, account_form_token(account.text))


def citizen_page_drafts(gateway: Gateway, app: AppClient, tokens: dict[str, str]) -> list[Draft]:
    """The citizen's pages beyond sign-in and consent: information, language, the account's
    forms, activation, the authenticator app and step-up, signing out."""
    issuer = gateway.issuer
    enrolled = _signed_in_citizen(gateway, app)
    setup = enrolled.browser.http.get(f"{issuer}/account/authenticator-app/set-up")
    found = _SECRET.search(setup.text)
    assert found, setup.text[:500]
    confirmed = enrolled.browser.http.post(
        f"{issuer}/account/authenticator-app/set-up",
        data={
            "form_token": enrolled.form_token,
            "code": pyotp.TOTP(found.group(1).replace(" ", "")).now(),
        },
    )
    assert 'id="enrolled-notice"' in confirmed.text, confirmed.text[:500]
    request, _ = split_verifier(authorization_params(app, acr_values=SUBSTANTIAL))
    at_step_up = enrolled.browser.follow_to_client(enrolled.browser.authorize(request))
    step_up = hidden_fields(at_step_up.text)
    assert 'action="/step-up/authenticator-app"' in at_step_up.text, at_step_up.text[:500]
    other = _signed_in_citizen(gateway, app)  # another browser session, whose changes stay its own
    leaving = _signed_in_citizen(gateway, app)  # signs out
    signing_in = Browser(gateway.issuer)
    sign_in_request, _ = split_verifier(authorization_params(app))
    at_sign_in = signing_in.follow_to_client(signing_in.authorize(sign_in_request))
    assert 'action="/sign-in/passkey"' in at_sign_in.text, at_sign_in.text[:500]
    sign_in = {
        key: value
        for key, value in hidden_fields(at_sign_in.text).items()
        if key in ("interaction", "csrf_token")
    }
    activating = Browser(gateway.issuer)
    activation = hidden_fields(activating.http.get(f"{issuer}/account/activate").text)
    logout = {
        "id_token_hint": tokens["id_token"],
        "client_id": app.client_id,
        "post_logout_redirect_uri": "https://agency.example/signed-out",
        "state": "s",
    }
    drafts = [
        _page("/"),
        _page("/accessibility"),
        _page("/help"),
        _page("/privacy"),
        _page("/language", to="et", back=f"/step-up?interaction={step_up['interaction']}"),
        _form_post("/interaction/more-time", enrolled.browser, **{**step_up, "back": "/step-up"}),
        _form_post(
            "/account/sessions/end", other.browser, form_token=other.form_token, sid="x" * 22
        ),
        _page("/account/activate", activating),
        _form_post(
            "/account/activate",
            activating,
            form_token=activation.get("form_token", ""),
            username="nobody",
            code="ABCD-EFGH",
            password="a new password, long enough",
            password_again="a new password, long enough",
        ),
        _page("/account/password", other.browser),
        _form_post(
            "/account/password",
            other.browser,
            form_token=other.form_token,
            current_password="not-the-password-at-all",
            password="a new password, long enough",
            password_again="a new password, long enough",
        ),
        _page("/account/authenticator-app/set-up", other.browser),
        _form_post(
            "/account/authenticator-app/set-up",
            other.browser,
            form_token=other.form_token,
            code="000000",
        ),
        _page("/account/authenticator-app/remove", enrolled.browser),
        _form_post(
            "/account/authenticator-app/remove", enrolled.browser, form_token=enrolled.form_token
        ),
        _page("/account/recovery-codes/new", enrolled.browser),
        _form_post("/account/recovery-codes/new", enrolled.browser, form_token=enrolled.form_token),
        _page("/step-up", enrolled.browser, interaction=step_up["interaction"]),
        _form_post("/step-up", enrolled.browser, **{**step_up, "cannot": "yes"}),
        _form_post("/step-up/authenticator-app", enrolled.browser, **{**step_up, "code": "000000"}),
        _form_post(
            "/step-up/recovery-code",
            enrolled.browser,
            **{**step_up, "recovery_code": "ABCD-EFGH-IJKL"},
        ),
        _form_post("/account/passkeys/options", other.browser, form_token=other.form_token),
        _form_post(
            "/account/passkeys/add",
            other.browser,
            form_token=other.form_token,
            ceremony="c" * 32,
            credential='{"id": "AAAA", "rawId": "AAAA", "type": "public-key"}',
        ),
        _form_post(
            "/account/passkeys/rename",
            other.browser,
            form_token=other.form_token,
            passkey="1",
            name="Phone",
        ),
        _page("/account/passkeys/remove", other.browser, passkey="1"),
        _form_post(
            "/account/passkeys/remove", other.browser, form_token=other.form_token, passkey="1"
        ),
        _form_post("/sign-in/passkey/options", signing_in, **sign_in, username="nobody"),
        _form_post(
            "/sign-in/passkey",
            signing_in,
            **sign_in,
            ceremony="c" * 32,
            credential='{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}',
        ),
        _form_post("/step-up/passkey/options", enrolled.browser, **step_up),
        _form_post("/step-up/passkey", enrolled.browser, **{**step_up, "failure": "1"}),
        _page("/logout", leaving.browser, **logout),
        _form_post("/logout", leaving.browser, **logout),
        _form_post("/sign-out", leaving.browser, form_token=leaving.form_token),
        _page("/open-data/"),
        _page("/open-data/statistics.csv"),
        _page("/open-data/statistics.json"),
    ]
    for browser in (enrolled.browser, other.browser, leaving.browser, activating, signing_in):
        browser.close()
    return drafts


def _console_session(gateway: Gateway, username: str, password: str) -> tuple[Browser, str]:
    """A browser signed in to the console, and its session's form token."""
    browser = Browser(gateway.issuer)
    landed = browser.follow_to_client(
        browser.http.get(f"{gateway.issuer}/admin/"),
        username=username,
        password=password,
        max_hops=16,
    )
    assert landed.status_code == 200, landed.text[:500]
    return browser, account_form_token(landed.text)


def console_drafts(gateway: Gateway) -> list[Draft]:
    """The administrators' console, as an administrator with every role signed in to it."""
    url = gateway.env["IDP_DATABASE_URL"]
    admin = add_person(url, given_name="Admin")
    for role in ("auditor", "operator", "support", "security"):
        gateway.command("admins", "grant", "--username", admin.username, "--role", role)
    browser, token = _console_session(gateway, admin.username, admin.password)
    leaving, leaving_token = _console_session(gateway, admin.username, admin.password)
    # A sign-in under way, for its callback.
    starting = Browser(gateway.issuer)
    started = starting.http.get(f"{gateway.issuer}/admin/sign-in")
    state = dict(parse_qsl(urlsplit(started.headers.get("location", "")).query)).get("state", "")
    # Its own app, so that disabling it or rotating its secret leaves the fuzzed agency's alone.
    app = add_app(url, name="Console's app", redirect_uris=["https://console-app.example/cb"])
    citizen = add_person(url, given_name="Looked-up")
    apps = f"/admin/apps/{app.client_id}"
    person = f"/admin/citizens/{citizen.username}"
    reason = {"form_token": token, "reason": "Citizen's call 1234", "return_to": person}
    drafts = [
        _page("/admin", browser),
        _page("/admin/", browser),
        _page("/admin/apps", browser),
        _page("/admin/apps/new", browser),
        _page(apps, browser, done="edited"),
        _page(f"{apps}/edit", browser),
        _page("/admin/citizens", browser, q=citizen.username),
        _page(person, browser),
        _page("/admin/keys", browser, rotated="yes"),
        _page("/admin/keys/emergency", browser),
        _page("/admin/log", browser, app=app.client_id, type="token.issued", outcome="success"),
        _page("/admin/log/entries/0", browser),
        _page("/admin/log/export", browser, format="json"),
        _page("/admin/log/verify", browser),
        _page("/admin/log/verify/1", browser),
        _page("/admin/roles", browser),
        _page("/admin/sign-in", browser, next="/admin/keys"),
        _page("/admin/sign-outs", browser, state="x"),
        _page("/admin/signed-in", starting, code="x" * 43, state=state),
        _form_post(
            "/admin/apps",
            browser,
            form_token=token,
            name="Made in the console",
            redirect_uris="https://made.example/cb",
            purpose="To test",
            id_token_alg="RS256",
        ),
        _form_post(
            f"{apps}/edit",
            browser,
            form_token=token,
            name="Edited",
            redirect_uris="https://console-app.example/cb",
            id_token_alg="ES256",
            return_to=apps,
            **{"grant-authorization_code": "yes", "scope-openid": "yes"},
        ),
        _form_post(f"{apps}/disable", browser, form_token=token, return_to=apps),
        _form_post(f"{apps}/enable", browser, form_token=token, return_to=apps),
        _form_post(f"{apps}/rotate-secret", browser, form_token=token, overlap_hours="1"),
        _form_post(f"{person}/open", browser, **reason),
        *(
            _form_post(f"{person}/{action}", browser, **reason)
            for action in ("lock", "unlock", "activation-code", "end-sessions", "history")
        ),
        _form_post("/admin/keys/rotate", browser, form_token=token, return_to="/admin/keys"),
        _form_post("/admin/log/verify", browser, form_token=token),
        _form_post(
            "/admin/roles",
            browser,
            form_token=token,
            username=citizen.username,
            action="grant",
            **{"role-auditor": "yes"},
        ),
        _form_post("/admin/sign-out", leaving, form_token=leaving_token),
    ]
    for opened in (browser, leaving, starting):
        opened.close()
    return drafts


def _api_token(gateway: Gateway, url: str) -> bytes:
    """The Authorization header of an API client that holds every administrator's scope."""
    scopes = ["admin:audit", "admin:operate", "admin:support", "admin:security"]
    client = add_app(
        url,
        name="Fuzzed API client",
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=scopes,
    )
    answer = http_client.post(
        f"{gateway.issuer}/token",
        auth=(client.client_id, client.client_secret or ""),
        data={"grant_type": "client_credentials", "scope": " ".join(scopes)},
    )
    assert answer.status_code == 200, answer.text
    return b"Bearer " + answer.json()["access_token"].encode()


def admin_api_drafts(gateway: Gateway) -> list[Draft]:
    """The administrators' API, as a client with every role's scope, on an app, a citizen and
    an administrator of its own."""
    url = gateway.env["IDP_DATABASE_URL"]
    bearer = ((b"authorization", _api_token(gateway, url)),)
    app = add_app(url, name="API's app", redirect_uris=["https://api-app.example/cb"])
    citizen = add_person(url, given_name="Supported")
    admin = add_person(url, given_name="Given roles")
    apps = f"{ADMIN_API}/clients/{app.client_id}"
    person = f"{ADMIN_API}/accounts/{citizen.username}"
    reason = "Citizen's call 1234"
    gateway.command("audit", "sequence")  # entry 0 placed, for its read

    def get(path: str, **query: str) -> Draft:
        return Draft("GET", path, pairs(query), headers=bearer)

    def send(method: str, path: str, body: dict[str, object] | None = None, **query: str) -> Draft:
        if body is None:
            return Draft(method, path, pairs(query), headers=bearer)
        json_body = ((b"content-type", b"application/json"), *bearer)
        return Draft(
            method, path, pairs(query), raw_body=json.dumps(body).encode(), headers=json_body
        )

    roles = {"username": admin.username, "roles": ["auditor"]}
    return [
        get(f"{ADMIN_API}/events", type="token.issued", outcome="success", limit="5"),
        get(f"{ADMIN_API}/events/export", format="json", type="token.issued"),
        get(f"{ADMIN_API}/events/0"),
        get(f"{ADMIN_API}/accounts", q=citizen.username),
        get(person, reason=reason),
        get(f"{person}/history", reason=reason, limit="5"),
        *(
            send("POST", f"{person}/{action}", {"reason": reason})
            for action in ("lock", "unlock", "activation-code", "end-sessions")
        ),
        get(f"{ADMIN_API}/clients"),
        send(
            "POST",
            f"{ADMIN_API}/clients",
            {
                "name": "Made in the API",
                "redirect_uris": ["https://made.example/cb"],
                "purpose": "To test",
                "scopes": ["openid", "profile"],
            },
        ),
        get(apps),
        send("PATCH", apps, {"name": "Edited", "require_pkce": True}),
        send("POST", f"{apps}/rotate-secret", {"overlap_hours": 1}),
        send("POST", f"{apps}/disable"),
        send("POST", f"{apps}/enable"),
        get(f"{apps}/onboarding"),
        get(f"{ADMIN_API}/keys"),
        send("POST", f"{ADMIN_API}/keys/rotate", emergency="false"),
        get(f"{ADMIN_API}/roles"),
        send("POST", f"{ADMIN_API}/roles/grant", roles),
        send("POST", f"{ADMIN_API}/roles/revoke", roles),
    ]


def basic_authorization(client_id: str, client_secret: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode())
