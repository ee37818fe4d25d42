"""Completing an interaction is single-use under a race (ASVS 5.0 15.4.2): of parallel posts of
one consent decision, exactly one reaches the client with a code."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests import http_client
from tests.citizen import (
    Browser,
    authorization_params,
    callback_params,
    hidden_fields,
    split_verifier,
)
from tests.conftest import add_citizen, register_app
from tests.gateway_process import Gateway

PARALLEL_POSTS = 10


def test_parallel_consent_posts_issue_one_code(gateway: Gateway, browser: Browser) -> None:
    app = register_app(gateway, name="Vehicle registry")
    person = add_citizen(gateway)
    params, _ = split_verifier(authorization_params(app))
    browser.follow_to_client(
        browser.authorize(params), username=person.username, password=person.password, consent=""
    )
    assert 'action="/consent"' in browser.last_page
    fields = hidden_fields(browser.last_page)

    def post_decision(_: int) -> httpx.Response:
        # One client per thread, all with this browser's cookies: the same form sent ten times.
        with http_client.Client(cookies=browser.http.cookies, timeout=60) as http:
            return http.post(f"{gateway.issuer}/consent", data={**fields, "decision": "allow"})

    with ThreadPoolExecutor(max_workers=PARALLEL_POSTS) as pool:
        responses = list(pool.map(post_decision, range(PARALLEL_POSTS)))

    to_client = [r for r in responses if r.status_code == 303]
    assert len(to_client) == 1, [r.status_code for r in responses]
    assert to_client[0].headers["location"].startswith(app.redirect_uri)
    assert "code" in callback_params(to_client[0])
    expired = [r for r in responses if r.status_code == 400 and "This page has expired" in r.text]
    assert len(expired) == PARALLEL_POSTS - 1, [r.status_code for r in responses]
