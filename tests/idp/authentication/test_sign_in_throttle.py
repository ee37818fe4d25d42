"""The sign-in throttle over real HTTP on SQLite and PostgreSQL (ASVS 5.0 6.1.1 and 6.3.1, NIST SP
800-63B 5.2.2, RFC 9700 4.13): a parallel burst gets no more than the free attempts checked, the
citizen's usual browser keeps its own allowance while an attacker elsewhere keeps failing, one
source address is limited, and X-Forwarded-For counts only from a trusted proxy. This gateway waits
ten minutes after the free attempts, so a refusal shows at once and no test waits for one to end. It
trusts 127.0.0.2 as its proxy: a test speaks from any address by connecting from 127.0.0.2 with
X-Forwarded-For, and as an untrusted peer from 127.0.0.1."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from tests.citizen import (
    TRUSTED_PROXY,
    AppClient,
    Browser,
    authorization_params,
    hidden_fields,
    split_verifier,
)
from tests.conftest import BACKENDS, TEST_ENV, add_citizen, register_app
from tests.databases import drop_postgres_database, migrated_database_for
from tests.gateway_process import Gateway, start_gateway

FREE_ATTEMPTS = 3
SOURCE_ATTEMPTS = 4
THROTTLE_ENV = {
    **TEST_ENV,
    "IDP_SIGN_IN_FREE_ATTEMPTS": str(FREE_ATTEMPTS),
    "IDP_SIGN_IN_FIRST_DELAY": "600",
    "IDP_SIGN_IN_SOURCE_ATTEMPTS": str(SOURCE_ATTEMPTS),
    "IDP_SIGN_IN_SOURCE_WINDOW": "3600",  # no attempt comes back while the module runs
    "IDP_TRUSTED_PROXIES": TRUSTED_PROXY,
}
WRONG = "a wrong password, long enough"
SIGNED_IN = "signed in"
NOT_RIGHT = "The username or password is not right"  # checked by argon2, and wrong
BY_NAME = "too many attempts to sign in with this username"  # refused before any check
BY_SOURCE = "too many attempts to sign in from your network"


@pytest.fixture(scope="module", params=BACKENDS)
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp(f"throttle-{request.param}")
    url, pg_name = migrated_database_for(request.param, workdir)
    running = start_gateway(
        workdir, backend=request.param, database_url=url, extra_env=THROTTLE_ENV
    )
    try:
        yield running
    finally:
        running.stop()
        if pg_name:
            drop_postgres_database(pg_name)
    # Never a server error, whatever the headers said.
    log = running.log_path.read_text() if running.log_path else ""
    assert "Traceback" not in log and "unexpected error" not in log, log[-4000:]


def _browser(gateway: Gateway, source: str | bytes | None) -> Browser:
    """A browser at `source` behind the trusted proxy, or (None) straight from 127.0.0.1."""
    return Browser(gateway.issuer, source=source)


def _new_network() -> str:
    """A /64 of the IPv6 documentation prefix no other test uses, written as the gateway writes
    it (no leading zeros): `2001:db8:x:y:`."""
    x, y = (secrets.randbelow(0xF000) + 0x1000 for _ in range(2))
    return f"2001:db8:{x:x}:{y:x}:"


def _new_source() -> str:
    return _new_network() + ":1"


def _sign_in_fields(browser: Browser, app: AppClient | None = None) -> dict[str, str]:
    """The hidden fields of a fresh sign-in form: an agency's, or the account area's."""
    if app is None:
        start = browser.http.get(f"{browser.issuer}/account/sign-in")
    else:
        start = browser.authorize(split_verifier(authorization_params(app))[0])
    assert start.status_code == 303, start.text[:300]
    page = browser.http.get(browser.issuer + start.headers["location"])
    assert page.status_code == 200, page.text[:300]
    return hidden_fields(page.text)


def _attempt(
    browser: Browser, username: str, password: str, fields: dict[str, str] | None = None
) -> str:
    """What the gateway made of one sign-in attempt."""
    response = browser.http.post(
        f"{browser.issuer}/sign-in",
        data={**(fields or _sign_in_fields(browser)), "username": username, "password": password},
    )
    if response.status_code == 303:
        return SIGNED_IN
    assert response.status_code == 200, response.text[:300]
    for verdict in (NOT_RIGHT, BY_NAME, BY_SOURCE):
        if verdict in response.text:
            return verdict
    raise AssertionError(response.text[:500])


def _burst(browser: Browser, app: AppClient, attempts: list[tuple[str, str]]) -> list[str]:
    """Every attempt at the same moment, each on a sign-in form of its own (its own interaction
    and CSRF token), so that what holds is the username's count, not a form's; the verdicts in
    the order given."""
    forms = [_sign_in_fields(browser, app) for _ in attempts]
    assert (
        len({f["interaction"] for f in forms})
        == len({f["csrf_token"] for f in forms})
        == len(attempts)
    )
    start = threading.Barrier(len(attempts))

    def send(attempt: tuple[tuple[str, str], dict[str, str]]) -> str:
        (username, password), fields = attempt
        start.wait(timeout=30)
        return _attempt(browser, username, password, fields=fields)

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(send, zip(attempts, forms, strict=True)))


def _logged(gateway: Gateway, where: str, **values: str) -> list[tuple[str, str | None, str]]:
    """(event_type, source_address, detail) of the access log entries matching `where`."""
    gateway.command_json("audit", "sequence")
    engine = create_engine(gateway.env["IDP_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT event_type, source_address, detail FROM access_events "  # noqa: S608
                    f"WHERE {where} ORDER BY log_index"
                ),
                values,
            ).all()
    finally:
        engine.dispose()
    return [(row[0], row[1], str(row[2])) for row in rows]


def _allowance_cookie(browser: Browser) -> str:
    value = browser.http.cookies.get("idp-device")
    assert value, "no allowance cookie"
    return value


def test_a_parallel_burst_gets_only_the_free_attempts_checked(gateway: Gateway) -> None:
    person = add_citizen(gateway)
    app = register_app(gateway, name="Burst target")
    attacker = _browser(gateway, _new_source())
    try:
        verdicts = _burst(attacker, app, [(person.username, WRONG)] * 30)
        # Each "not right" cost one argon2 check; every other attempt was refused before one.
        assert Counter(verdicts) == {NOT_RIGHT: FREE_ATTEMPTS, BY_NAME: 30 - FREE_ATTEMPTS}
        # The waits have begun: the right password inside the next burst does not sign in.
        mixed = [(person.username, WRONG)] * 6 + [(person.username, person.password)] * 4
        assert Counter(_burst(attacker, app, mixed)) == {BY_NAME: 10}
    finally:
        attacker.close()
    logged = Counter(
        e
        for e, _, _ in _logged(
            gateway, "client_id = :c AND event_type LIKE 'sign_in.%'", c=app.client_id
        )
    )
    assert logged == {"sign_in.failed": FREE_ATTEMPTS, "sign_in.throttled": 40 - FREE_ATTEMPTS}


def test_the_usual_browser_signs_in_while_an_attacker_keeps_failing(gateway: Gateway) -> None:
    victim = add_citizen(gateway, username=f"alice-{secrets.token_hex(3)}")
    intruder = add_citizen(gateway)
    home = _browser(gateway, _new_source())
    attacker = _browser(gateway, _new_source())
    try:
        # A successful sign-in leaves a long-lived allowance cookie in the browser.
        response = home.http.post(
            f"{gateway.issuer}/sign-in",
            data={
                **_sign_in_fields(home),
                "username": victim.username,
                "password": victim.password,
            },
        )
        assert response.status_code == 303
        cookie = next(
            v for k, v in response.headers.multi_items() if k == "set-cookie" and "idp-device" in v
        )
        for attribute in ("HttpOnly", "Path=/", "SameSite=lax", "Max-Age=31536000"):
            assert attribute in cookie, cookie
        first_cookie = _allowance_cookie(home)
        # The attacker's own allowance is for their own account only.
        assert _attempt(attacker, intruder.username, intruder.password) == SIGNED_IN
        for _ in range(FREE_ATTEMPTS):
            assert _attempt(attacker, victim.username.upper(), WRONG) == NOT_RIGHT
        # Per username, case folded: ALICE's failures make alice wait in any other browser.
        assert _attempt(attacker, victim.username, victim.password) == BY_NAME
        assert _attempt(home, victim.username, victim.password) == SIGNED_IN
        # That success did not give the attacker fresh guesses.
        assert _attempt(attacker, victim.username.upper(), WRONG) == BY_NAME
        assert _attempt(home, victim.username, victim.password) == SIGNED_IN
        # Each sign-in replaced the value: an old copy gives another browser nothing.
        assert _allowance_cookie(home) != first_cookie
        attacker.http.cookies.clear()
        attacker.http.cookies.set("idp-device", first_cookie, domain="localhost")
        assert _attempt(attacker, victim.username, victim.password) == BY_NAME
    finally:
        home.close()
        attacker.close()


def test_failures_in_the_usual_browser_use_up_its_own_allowance_only(gateway: Gateway) -> None:
    person = add_citizen(gateway)
    home = _browser(gateway, _new_source())
    elsewhere = _browser(gateway, _new_source())
    try:
        assert _attempt(home, person.username, person.password) == SIGNED_IN
        for _ in range(FREE_ATTEMPTS):
            assert _attempt(home, person.username, WRONG) == NOT_RIGHT
        assert _attempt(home, person.username, person.password) == BY_NAME
        # They were that browser's failures, not the username's.
        assert _attempt(elsewhere, person.username, person.password) == SIGNED_IN
    finally:
        home.close()
        elsewhere.close()


def test_one_source_address_is_limited(gateway: Gateway) -> None:
    person = add_citizen(gateway)
    network = _new_network()
    # Successes give their attempt back: many citizens behind one address are not limited.
    browsers = [_browser(gateway, f"{network}:{n + 1:x}") for n in range(SOURCE_ATTEMPTS + 1)]
    try:
        for browser in browsers:
            assert _attempt(browser, person.username, person.password) == SIGNED_IN
        # Spraying a password over many names: each name fails once, the /64 as a whole waits.
        sprayer = _browser(gateway, f"{network}:beef")
        browsers.append(sprayer)
        for _ in range(SOURCE_ATTEMPTS):
            assert _attempt(sprayer, f"nobody-{secrets.token_hex(4)}", WRONG) == NOT_RIGHT
        assert _attempt(sprayer, f"nobody-{secrets.token_hex(4)}", WRONG) == BY_SOURCE
        assert _attempt(sprayer, person.username, person.password) == BY_SOURCE
        # A browser with its own allowance is not counted there; another /64 is not limited.
        assert _attempt(browsers[0], person.username, person.password) == SIGNED_IN
        other = _browser(gateway, _new_source())
        browsers.append(other)
        assert _attempt(other, f"nobody-{secrets.token_hex(4)}", WRONG) == NOT_RIGHT
    finally:
        for browser in browsers:
            browser.close()
    decisions = _logged(gateway, "event_type = 'sign_in.throttled'")
    assert any(a and a.startswith(network) and "source_address" in d for _, a, d in decisions)


def test_forwarded_for_counts_only_from_a_trusted_proxy(gateway: Gateway) -> None:
    # Straight from 127.0.0.1, X-Forwarded-For is the client's own word: the peer is the source.
    direct = _browser(gateway, None)
    try:
        for n in range(SOURCE_ATTEMPTS):
            direct.http.headers["X-Forwarded-For"] = f"192.0.2.{n + 1}"
            assert _attempt(direct, f"nobody-{secrets.token_hex(4)}", WRONG) == NOT_RIGHT
        direct.http.headers["X-Forwarded-For"] = "192.0.2.99"
        assert _attempt(direct, f"nobody-{secrets.token_hex(4)}", WRONG) == BY_SOURCE
    finally:
        direct.close()
    # Through the proxy, the source is the right-most address it did not add itself; what the
    # client wrote before that is not believed.
    real = f"203.0.113.{secrets.randbelow(200) + 20}"
    spoofed = [f"198.51.100.{n + 1}" for n in range(SOURCE_ATTEMPTS + 1)]
    proxied = _browser(gateway, real)
    try:
        for n, fake in enumerate(spoofed):
            proxied.http.headers["X-Forwarded-For"] = f"{fake}, {real}"
            verdict = _attempt(proxied, f"nobody-{secrets.token_hex(4)}", WRONG)
            assert verdict == (NOT_RIGHT if n < SOURCE_ATTEMPTS else BY_SOURCE)
    finally:
        proxied.close()
    addresses = {a for _, a, _ in _logged(gateway, "event_type LIKE 'sign_in.%'")}
    assert real in addresses and "127.0.0.1" in addresses
    assert not addresses & {*spoofed, "192.0.2.1", "192.0.2.99"}


@pytest.mark.parametrize(
    "forwarded_for",
    [
        "garbage",
        "",
        ",, ,",
        "\u00e9t\u00e9".encode(),
        "[2001:db8::1",
        "1.2.3.4:80:90",
        "999.1.1.1",
        "2001:db8::1%eth0",
        "1" * 6000,
        "192.0.2.1, " * 300 + "bad",
    ],
)
def test_malformed_forwarded_for_is_never_a_server_error(
    gateway: Gateway, forwarded_for: str | bytes
) -> None:
    with _browser(gateway, forwarded_for).http as client:
        start = client.get(f"{gateway.issuer}/account/sign-in")
        assert start.status_code == 303
        page = client.get(gateway.issuer + start.headers["location"])
        assert page.status_code == 200
        response = client.post(
            f"{gateway.issuer}/sign-in",
            data={**hidden_fields(page.text), "username": "", "password": ""},
        )
        assert response.status_code == 200
