"""Which claims are released for which scopes and `claims` requests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from idp.protocol.claims import (
    PERSON_FIELDS,
    InvalidClaimsRequest,
    Person,
    parse_claims_request,
    release_claims,
    scopes_needed_for_claims,
    userinfo_claims,
)

PERSON = Person(
    subject="s1",
    given_name="Mari",
    family_name="Maasikas",
    email="m@example.org",
    email_verified=False,
    birthdate=date(1985, 3, 14),
    national_id="4850314",
    updated_at=datetime(2026, 1, 1, tzinfo=UTC),
)


def test_scopes_release_their_claims_only() -> None:
    assert set(release_claims(PERSON, granted_scopes=["openid"])) == {"sub"}
    email = release_claims(PERSON, granted_scopes=["openid", "email"])
    assert email == {"sub": "s1", "email": "m@example.org", "email_verified": False}
    assert "national_id" not in release_claims(PERSON, granted_scopes=["openid", "profile"])


def test_claims_request_never_widens_consent() -> None:
    request = parse_claims_request(
        '{"userinfo": {"name": {"essential": true}, "national_id": null}}'
    )
    assert scopes_needed_for_claims(request) == {"profile", "national_id"}
    released = userinfo_claims(PERSON, granted_scopes=["openid", "profile"], claims_request=request)
    assert released["name"] == "Mari Maasikas" and "national_id" not in released


@pytest.mark.parametrize(
    "raw", ["[]", "{", '{"id_token": 3}', '{"userinfo": {"name": 1}}', "x" * 9000]
)
def test_malformed_claims_requests(raw: str) -> None:
    with pytest.raises(InvalidClaimsRequest):
        parse_claims_request(raw)


def test_a_person_is_read_from_an_object_or_a_row_with_prefixed_columns() -> None:
    values = {name: getattr(PERSON, name) for name in PERSON_FIELDS}
    assert Person.read_from(SimpleNamespace(**values)) == PERSON
    prefixed = SimpleNamespace(**{f"holder_{k}": v for k, v in values.items()}, holder_other=1)
    assert Person.read_from(prefixed, prefix="holder_") == PERSON
    with pytest.raises(AttributeError):
        Person.read_from(SimpleNamespace(**values), prefix="holder_")
