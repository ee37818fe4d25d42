"""The activation page (/account/activate) over HTTP, on SQLite and PostgreSQL: the GOV.UK error
pattern for what is missing, the CSRF token its form must carry, Estonian, and wrong tries sent
at once all counted against the code (five, then it is void)."""

from __future__ import annotations

import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import create_engine, select

from idp.activation import MAX_FAILURES
from idp.authentication.password_policy import MIN_PASSWORD_LENGTH, PasswordProblem
from idp.models import Account, ActivationCode
from idp.web.form_errors import NEW_PASSWORD_TOO_SHORT
from tests.builders import CitizenAccount, add_citizen, register_app
from tests.citizen import Browser, hidden_fields
from tests.in_process import InProcessGateway

NOT_RIGHT = "The username or activation code is not right, or the code no longer works."


def _code_for(gateway: InProcessGateway, person: CitizenAccount) -> str:
    client = register_app(
        gateway, "--grant-type", "client_credentials", "--scope", "admin:support", name="Helpdesk"
    )
    token = gateway.http.post(
        "/token",
        auth=(client.client_id, client.client_secret or ""),
        data={"grant_type": "client_credentials", "scope": "admin:support"},
    ).json()["access_token"]
    answer = gateway.http.post(
        f"/admin/api/v1/accounts/{person.username}/activation-code",
        json={"reason": "The citizen forgot the password"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["code"])


def _post(browser: Browser, **fields: str) -> httpx.Response:
    page = browser.http.get("/account/activate")
    return browser.http.post("/account/activate", data={**hidden_fields(page.text), **fields})


def _password() -> str:
    return f"new-{secrets.token_urlsafe(18)}"


def test_missing_and_unusable_input_follows_the_error_pattern(
    in_process_gateway: InProcessGateway,
) -> None:
    browser = in_process_gateway.browser()
    empty = _post(browser, username="", code="", password="", password_again="")
    assert empty.status_code == 200
    assert "<title>Error: Set a new password" in empty.text
    summary = empty.text[empty.text.index('class="error-summary"') :]
    for field in ("username", "code", "password", "password_again"):
        assert f'href="#{field}"' in summary
        assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error"', empty.text)
    short = _post(
        browser, username="someone", code="ABCD-EFGH-JKMN", password="short", password_again="x"
    )
    assert "Your new password must be at least 15 characters" in short.text
    assert 'value="someone"' in short.text and 'value="ABCD-EFGH-JKMN"' in short.text
    assert 'value="short"' not in short.text  # passwords never come back
    differ = _post(
        browser,
        username="someone",
        code="ABCD-EFGH-JKMN",
        password=_password(),
        password_again=_password(),
    )
    assert "The two passwords are not the same." in differ.text


def test_guessable_passwords_are_refused_before_the_code_is_tried(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    code = _code_for(gateway, person)
    browser = gateway.browser()
    for password, problem in (
        ("1qaz2wsx3edc4rfv", PasswordProblem.COMMON),
        ("passwordpassword", PasswordProblem.PREDICTABLE),
        ("123456789012345", PasswordProblem.PREDICTABLE),
        (f"{person.username}-2026", PasswordProblem.USERNAME),
        ("x" * 129, PasswordProblem.TOO_LONG),
    ):
        refused = _post(
            browser, username=person.username, code=code, password=password, password_again=password
        )
        assert problem.message in refused.text, password
        assert re.search(r'id="password"[^>]*aria-describedby="[^"]*password-error"', refused.text)
        assert f'value="{code}"' in refused.text and f'value="{password}"' not in refused.text
    # None of them was a try of the code: it still sets a good password.
    done = _post(
        browser,
        username=person.username,
        code=code,
        password="kolm karu metsas",
        password_again="kolm karu metsas",
    )
    assert "Your new password is set" in done.text


def test_the_form_needs_its_token(in_process_gateway: InProcessGateway) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    code = _code_for(gateway, person)
    browser = gateway.browser()
    browser.http.get("/account/activate")  # the binding cookie, but not the page's token
    password = _password()
    fields = {"username": person.username, "code": code, "password": password}
    for token in ({}, {"form_token": "forged"}):
        forged = browser.http.post(
            "/account/activate", data={**fields, "password_again": password, **token}
        )
        assert forged.status_code == 400 and "Your new password is set" not in forged.text
    assert gateway.client().post("/account/activate", data=fields).status_code == 400
    # None of it counted as a try: the code still works.
    done = _post(browser, **fields, password_again=password)
    assert "Your new password is set" in done.text


def test_the_page_speaks_estonian(in_process_gateway: InProcessGateway) -> None:
    browser = in_process_gateway.browser()
    page = browser.http.get("/account/activate", headers={"Accept-Language": "et"})
    assert page.headers["content-language"] == "et"
    assert "Uue parooli määramine" in page.text and "Aktiveerimiskood" in page.text
    wrong = browser.http.post(
        "/account/activate",
        headers={"Accept-Language": "et"},
        data={
            **hidden_fields(page.text),
            "username": "nobody-here",
            "code": "ABCD-EFGH-JKMN",
            "password": "a new password, long enough",
            "password_again": "a new password, long enough",
        },
    )
    assert "Viga:" in wrong.text and "Kasutajanimi või aktiveerimiskood ei ole õige" in wrong.text


def test_wrong_tries_sent_at_once_are_all_counted(in_process_gateway: InProcessGateway) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    code = _code_for(gateway, person)
    browsers = [gateway.browser() for _ in range(MAX_FAILURES + 3)]
    pages = [browser.http.get("/account/activate") for browser in browsers]

    def wrong_try(index: int) -> str:
        password = _password()
        return (
            browsers[index]
            .http.post(
                "/account/activate",
                data={
                    **hidden_fields(pages[index].text),
                    "username": person.username,
                    "code": "ABCD-EFGH-JKMN",
                    "password": password,
                    "password_again": password,
                },
            )
            .text
        )

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        answers = list(pool.map(wrong_try, range(len(browsers))))
    assert all(NOT_RIGHT in answer for answer in answers)
    engine = create_engine(gateway.database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                select(ActivationCode.failures, ActivationCode.voided_at)
                .join(Account, Account.id == ActivationCode.account_id)
                .where(Account.username == person.username)
            ).one()
    finally:
        engine.dispose()
    assert row.failures == MAX_FAILURES and row.voided_at is not None
    right = _post(gateway.browser(), username=person.username, code=code, password="x" * 20)
    assert NOT_RIGHT not in right.text  # the form is checked first: passwords differ
    password = _password()
    void = _post(
        gateway.browser(),
        username=person.username,
        code=code,
        password=password,
        password_again=password,
    )
    assert NOT_RIGHT in void.text


def test_the_short_password_message_names_the_minimum() -> None:
    assert str(MIN_PASSWORD_LENGTH) in NEW_PASSWORD_TOO_SHORT
