"""Property-based fuzzing over HTTP: every route, fed malformed encodings, repeated and oversized
parameters, wrong content types and odd header values, answers below 500, and the gateway's log
shows no traceback. The README promises no 500 for any malformed input.

Each example starts from a request that works (real client, tokens, interactions and cookies)
and breaks it in one to four ways, so malformed input also reaches the code behind the first
checks. Every route has such a request (tests/fuzz_drafts.py builds them), and
`test_every_route_is_fuzzed` names any route that has none. CI runs a fixed, derandomized budget
per engine; `FUZZ_EXAMPLES=5000` runs a longer, random one. The gateway is this module's own, so
its log holds only what the fuzzer caused and is checked after every example.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp.opaque_values import digest
from tests.citizen import Browser, authorization_params, hidden_fields, split_verifier
from tests.conftest import BACKENDS, TEST_ENV, signed_in_tokens
from tests.databases import drop_postgres_database, migrated_database_for
from tests.direct_records import add_app, add_person
from tests.fuzz_drafts import (
    ADMIN_API,
    FORM,
    Draft,
    FuzzTarget,
    Pair,
    admin_api_drafts,
    citizen_page_drafts,
    console_drafts,
    cookie_header,
    pairs,
    unfuzzed_routes,
)
from tests.gateway_process import Gateway, start_gateway
from tests.raw_http import send_raw

# About nine examples a route (some 110 drafts), a few seconds per engine.
CI_EXAMPLES = 1000
LONG_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0"))


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    workdir = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    url, pg_name = migrated_database_for(request.param, workdir)
    gateway = start_gateway(
        workdir,
        backend=request.param,
        database_url=url,
        extra_env=TEST_ENV,
    )
    try:
        yield _working_requests(gateway)
    finally:
        gateway.stop()
        if pg_name:
            drop_postgres_database(pg_name)
    assert gateway.log_path is not None
    _assert_clean(gateway.log_path.read_text(errors="replace"))


def _working_requests(gateway: Gateway) -> FuzzTarget:
    url = gateway.env["IDP_DATABASE_URL"]
    app = add_app(
        url,
        name="Fuzzed agency",
        redirect_uris=["https://agency.example/cb"],
        grant_types=["authorization_code", "refresh_token", "client_credentials"],
        post_logout_redirect_uris=["https://agency.example/signed-out"],
    )
    public = add_app(url, name="Fuzzed app", redirect_uris=["http://127.0.0.1:9/cb"], public=True)
    person = add_person(url, given_name="Fuzz")
    signed_in = Browser(gateway.issuer)
    tokens = signed_in_tokens(gateway, signed_in, app, person)
    to_revoke = signed_in_tokens(gateway, signed_in, app, person)
    # An open sign-in interaction and an open consent interaction, each with its browser.
    signing_in = Browser(gateway.issuer)
    authorize, _ = split_verifier(authorization_params(app))
    start = signing_in.authorize(authorize)
    sign_in = hidden_fields(signing_in.http.get(gateway.issuer + start.headers["location"]).text)
    consenting = Browser(gateway.issuer)
    public_request, _ = split_verifier(authorization_params(public))
    consent_page = consenting.follow_to_client(
        consenting.authorize(public_request),
        username=person.username,
        password=person.password,
        consent="",
    )
    consent = hidden_fields(consent_page.text)
    assert consent.get("csrf_token") and sign_in.get("csrf_token")
    session_cookie = signed_in.http.cookies.get("idp-session") or ""
    cookies = [cookie_header(b) for b in (signed_in, signing_in, consenting)]
    for browser in (signed_in, signing_in, consenting):
        browser.close()
    basic = b"Basic " + base64.b64encode(f"{app.client_id}:{app.client_secret}".encode())
    bearer = b"Bearer " + tokens["access_token"].encode()
    form = ((b"content-type", FORM),)
    signed_in_cookie, signing_in_cookie, consenting_cookie = cookies
    drafts = [
        Draft("GET", "/.well-known/openid-configuration"),
        Draft("GET", "/.well-known/oauth-authorization-server"),
        Draft("GET", "/jwks.json"),
        Draft("GET", "/authorize", pairs(authorize), headers=((b"cookie", signed_in_cookie),)),
        Draft("POST", "/authorize", form=pairs(authorize), headers=form),
        Draft("GET", "/sign-in", pairs({"interaction": sign_in["interaction"]}),
              headers=((b"cookie", signing_in_cookie),)),
        Draft("POST", "/sign-in", form=pairs({**sign_in, "username": person.username,
                                                "password": "not-the-password-at-all"}),
              headers=(*form, (b"cookie", signing_in_cookie))),
        Draft("GET", "/consent", pairs({"interaction": consent["interaction"]}),
              headers=((b"cookie", consenting_cookie),)),
        Draft("POST", "/consent", form=pairs({**consent, "decision": "allow"}),
              headers=(*form, (b"cookie", consenting_cookie))),
        Draft("GET", "/account", pairs({"withdrawn": app.client_id}),
              headers=((b"cookie", signed_in_cookie),)),
        Draft("GET", "/account/sign-in"),
        Draft("POST", "/account/withdraw",
              form=pairs({"form_token": digest(f"account-form:{session_cookie}"),
                           "client_id": public.client_id}),
              headers=(*form, (b"cookie", signed_in_cookie))),
        Draft("POST", "/token", form=pairs({"grant_type": "client_credentials"}),
              headers=(*form, (b"authorization", basic))),
        Draft("POST", "/token", form=pairs({"grant_type": "refresh_token",
                                              "refresh_token": tokens["refresh_token"]}),
              headers=(*form, (b"authorization", basic))),
        Draft("POST", "/token", form=pairs({"grant_type": "authorization_code", "code": "x" * 43,
                                              "redirect_uri": app.redirect_uri,
                                              "client_id": public.client_id,
                                              "code_verifier": "v" * 43}),
              headers=form),
        Draft("POST", "/introspect", form=pairs({"token": tokens["access_token"]}),
              headers=(*form, (b"authorization", basic))),
        Draft("POST", "/revoke", form=pairs({"token": to_revoke["refresh_token"],
                                               "token_type_hint": "refresh_token"}),
              headers=(*form, (b"authorization", basic))),
        Draft("GET", "/userinfo", headers=((b"authorization", bearer),)),
        Draft("POST", "/userinfo", form=pairs({"access_token": tokens["access_token"]}),
              headers=form),
        Draft("GET", "/transparency/checkpoint"),
        Draft("GET", "/transparency/proof/inclusion",
              pairs({"leaf_index": "0", "tree_size": "1"})),
        Draft("GET", "/transparency/proof/consistency", pairs({"first": "1", "second": "2"})),
        Draft("GET", "/transparency/jwks.json"),
        Draft("GET", "/healthz"),
        Draft("GET", "/readyz"),
        Draft("GET", "/favicon.ico"),
        Draft("GET", "/static/style.css"),
        *citizen_page_drafts(gateway, app, tokens),
        *console_drafts(gateway),
        *admin_api_drafts(gateway),
    ]  # fmt: skip
    values = [
        app.client_id, app.client_secret or "", public.client_id, app.redirect_uri,
        public.redirect_uri, "openid profile email", "code", "S256", "plain", "form_post",
        "none", "login", "consent", "authorization_code", "refresh_token", "client_credentials",
        tokens["access_token"], tokens["refresh_token"], tokens["id_token"], person.username,
        person.password, "allow", "deny", "0", "1", "-1", "18446744073709551616",
        *sign_in.values(), *consent.values(), '{"userinfo":{"name":null}}', "{", "[]",
    ]  # fmt: skip
    authorizations = [
        basic,
        b"Basic " + base64.b64encode(f"{public.client_id}:".encode()),
        bearer,
        b"bearer " + tokens["access_token"].encode(),
        b"Bearer " + tokens["id_token"].encode(),
    ]
    names = sorted(
        {n for d in drafts for n, _, _ in (*d.query, *(d.form or ()))}
        | {"request", "request_uri", "claims", "prompt", "max_age", "id_token_hint", "cancel"}
        | {"response_mode", "login_hint", "acr_values", "ui_locales", "client_secret", "token"}
    )
    return FuzzTarget(gateway, drafts, values, cookies, authorizations, names)


# -- strategies: how a working request is broken ----------------------------------------------

_HEADER_BYTES = st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
_ODD_TEXT = ["", " ", "\x00", "%", "&", "=", "+", "\u202e", "é", "\x7f", "\ufeff", "\x1b[0m"]
CONTENT_TYPES = [
    FORM,
    FORM + b"; charset=utf-8",
    FORM + b"; charset=latin-1",
    FORM.upper(),
    b"application/json",
    b"multipart/form-data; boundary=xyz",
    b"multipart/form-data",
    b"text/plain",
    b"",
    b";",
    FORM + "; é".encode("latin-1"),
]
ODD_BODIES = [b"{}", b'{"token": "x"}', b"--xyz\r\n\r\n--xyz--\r\n", b"%", b"a=%ff%fe", b"\x00"]
ODD_METHODS = ["HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "BREW"]
ODD_PATHS = ["/token/", "//authorize", "/%ff", "/account/%2e%2e/token", "/static/../idp.db", "/x"]
ENCODINGS = ["utf-8", "latin-1", "raw", "bare"]


def _odd_values(target: FuzzTarget) -> st.SearchStrategy[str]:
    real = st.sampled_from(target.values)
    return st.one_of(
        st.sampled_from(_ODD_TEXT),
        st.tuples(real, st.sampled_from(["\x00", "é", "\u20ac", "\x01", " ", "\U0001f600"])).map(
            "".join
        ),
        st.tuples(st.sampled_from(_ODD_TEXT), real).map("".join),
        real,
        st.text(max_size=30),
        st.sampled_from([65, 4097, 70_000]).map(lambda n: "A" * n),
        st.integers().map(str),
    )


@st.composite
def _mutation(draw: st.DrawFn, target: FuzzTarget, draft: Draft) -> Draft:  # noqa: PLR0911, PLR0912
    kind = draw(st.integers(0, 13))
    in_form = draft.form is not None and draw(st.booleans())
    params = (draft.form or ()) if in_form else draft.query
    where = "form" if in_form else "query"
    if kind <= 2 and params:  # a malformed value
        i = draw(st.integers(0, len(params) - 1))
        name, _, how = params[i]
        new = (*params[:i], (name, draw(_odd_values(target)), how), *params[i + 1 :])
        return replace(draft, **{where: new})
    if kind == 3 and params:  # a repeated parameter
        i = draw(st.integers(0, len(params) - 1))
        value = draw(st.one_of(st.just(params[i][1]), _odd_values(target)))
        return replace(draft, **{where: (*params, (params[i][0], value, params[i][2]))})
    if kind == 4 and params:  # a parameter left out
        i = draw(st.integers(0, len(params) - 1))
        return replace(draft, **{where: params[:i] + params[i + 1 :]})
    if kind == 5:  # another parameter added
        name = draw(st.one_of(st.sampled_from(target.names), st.text(max_size=8)))
        added = (name, draw(_odd_values(target)), "utf-8")
        return replace(draft, **{where: (*params, added)})
    if kind == 6 and params:  # bytes that are not UTF-8, unescaped bytes, a name without "="
        i = draw(st.integers(0, len(params) - 1))
        name, value, _ = params[i]
        new = (*params[:i], (name, value, draw(st.sampled_from(ENCODINGS))), *params[i + 1 :])
        return replace(draft, separator=draw(st.sampled_from([b"&", b";", b"&&"])), **{where: new})
    if kind == 7:  # the content type
        kept = tuple(h for h in draft.headers if h[0] != b"content-type")
        types = draw(st.lists(st.sampled_from(CONTENT_TYPES), max_size=2))
        return replace(draft, headers=kept + tuple((b"content-type", t) for t in types))
    if kind == 8:  # a body that is not a form, or too big
        body = draw(
            st.one_of(
                st.sampled_from(ODD_BODIES),
                st.binary(max_size=100),
                st.sampled_from([65_536, 65_537, 200_000]).map(lambda n: b"a=" + b"b" * (n - 2)),
            )
        )
        return replace(draft, raw_body=body)
    if kind == 9:  # the Authorization header
        kept = tuple(h for h in draft.headers if h[0] != b"authorization" or draw(st.booleans()))
        value = draw(
            st.one_of(
                st.sampled_from(target.authorizations),
                st.sampled_from([b"Basic ", b"Basic", b"Bearer", b"Bearer ", b"Basic /w==", b"x"]),
                st.binary(max_size=40).map(lambda b: b"Basic " + base64.b64encode(b)),
                _HEADER_BYTES.map(lambda b: b"Basic " + b),
                _HEADER_BYTES.map(lambda b: b"Bearer " + b),
            )
        )
        return replace(draft, headers=(*kept, (b"authorization", value)))
    if kind == 10:  # the cookies
        kept = tuple(h for h in draft.headers if h[0] != b"cookie" or draw(st.booleans()))
        value = draw(
            st.one_of(
                st.sampled_from(target.cookies),
                st.sampled_from(target.cookies).map(lambda c: c + b"; " + c),
                _HEADER_BYTES,
                st.sampled_from([b'idp-session="\\000"', b"idp-browser=%00", b"idp-session="]),
            )
        )
        return replace(draft, headers=(*kept, (b"cookie", value)))
    if kind == 11:  # some other header
        name = draw(st.sampled_from([b"accept", b"accept-language", b"origin", b"x-forwarded-for",
                                     b"content-encoding", b"host", b"expect"]))  # fmt: skip
        return replace(draft, headers=(*draft.headers, (name, draw(_HEADER_BYTES))))
    if kind == 12:  # parameters in the other place, or another method
        method = draw(st.sampled_from(["GET", "POST", *ODD_METHODS]))
        if draft.form is not None:
            return replace(draft, method=method, query=(*draft.query, *draft.form))
        return replace(draft, method=method, form=draft.query, query=())
    if kind == 13:
        if draw(st.booleans()):
            return replace(draft, chunked=True)
        return replace(draft, path=draw(st.sampled_from(ODD_PATHS)))
    return draft


def _encode(pairs: tuple[Pair, ...], separator: bytes) -> bytes:
    encoded = []
    for name, value, how in pairs:
        if how == "utf-8":
            encoded.append(f"{quote(name, safe='')}={quote(value, safe='')}".encode())
        elif how == "latin-1":
            latin = value.encode("latin-1", "replace")
            encoded.append(quote(name).encode() + b"=" + quote_from_bytes(latin, safe="").encode())
        elif how == "raw":
            encoded.append(name.encode() + b"=" + value.encode("utf-8", "surrogatepass"))
        else:
            encoded.append(quote(name).encode())
    return separator.join(encoded)


@st.composite
def broken_requests(
    draw: st.DrawFn, target: FuzzTarget
) -> tuple[bytes, bytes, list[tuple[bytes, bytes]], bytes]:
    draft = draw(st.sampled_from(target.drafts))
    for _ in range(draw(st.integers(1, 4))):
        draft = draw(_mutation(target, draft))
    query = _encode(draft.query, draft.separator)
    path = draft.path.encode() + (b"?" + query if query else b"")
    body = draft.raw_body
    if body is None:
        body = _encode(draft.form, draft.separator) if draft.form is not None else b""
    headers = list(draft.headers)
    if draft.chunked:
        headers.append((b"transfer-encoding", b"chunked"))
        body = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    return draft.method.encode(), path, headers, body


def test_every_route_is_fuzzed(fuzz_target: FuzzTarget) -> None:
    assert unfuzzed_routes(fuzz_target.drafts) == []


def test_the_admin_api_requests_work(fuzz_target: FuzzTarget) -> None:
    """The administrators' API's drafts are requests it carries out, so that what the fuzzer
    breaks in them gets past the token and the validation of the body."""
    gateway = fuzz_target.gateway
    for draft in fuzz_target.drafts:
        if draft.path.startswith(ADMIN_API):
            query = _encode(draft.query, draft.separator)
            path = draft.path.encode() + (b"?" + query if query else b"")
            body = draft.raw_body or b""
            answer = send_raw(gateway.issuer, draft.method.encode(), path,
                              headers=list(draft.headers), body=body)  # fmt: skip
            assert answer.status in (200, 201), (draft.method, draft.path, answer.text[:500])


def _assert_clean(log: str) -> None:
    assert "Traceback" not in log and "unexpected error" not in log, log[-4000:]


@settings(
    max_examples=LONG_EXAMPLES or CI_EXAMPLES,
    derandomize=not LONG_EXAMPLES,  # the CI budget is the same examples every run
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_no_input_gives_a_server_error(fuzz_target: FuzzTarget, data: st.DataObject) -> None:
    method, target, headers, body = data.draw(broken_requests(fuzz_target))
    gateway = fuzz_target.gateway
    assert gateway.log_path is not None
    log_size = gateway.log_path.stat().st_size
    response = send_raw(
        gateway.issuer,
        method,
        target,
        headers=headers,
        body=body,
        content_length=b"transfer-encoding" not in dict(headers),
    )
    assert response.status < 500, (response.status, response.text[:500])
    with Path(gateway.log_path).open("rb") as log:
        log.seek(log_size)
        _assert_clean(log.read().decode("utf-8", "replace"))
