"""The prompt / max_age / consent decision and parameter parsing, without any server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idp.protocol.authorization import (
    InteractionFacts,
    InvalidAuthorizationParameter,
    NextStep,
    RequestFacts,
    SessionFacts,
    decide_next_step,
    find_repeated_parameter,
    parse_max_age,
    parse_prompt,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _request(**overrides: object) -> RequestFacts:
    values: dict[str, object] = {
        "prompt": frozenset(),
        "max_age": None,
        "hinted_subject": None,
        "requested_scopes": frozenset({"openid"}),
    }
    values.update(overrides)
    return RequestFacts(**values)  # type: ignore[arg-type]


NOTHING_DONE_HERE = InteractionFacts()
SESSION = SessionFacts(subject="alice", auth_time=NOW - timedelta(minutes=5))


def decide(
    request: RequestFacts,
    session: SessionFacts | None = SESSION,
    granted: frozenset[str] = frozenset({"openid"}),
    interaction: InteractionFacts = NOTHING_DONE_HERE,
) -> NextStep:
    return decide_next_step(
        request=request, session=session, granted_scopes=granted, interaction=interaction, now=NOW
    )


def test_no_session() -> None:
    assert decide(_request(), session=None) is NextStep.SIGN_IN
    assert decide(_request(prompt=frozenset({"none"})), session=None) is NextStep.LOGIN_REQUIRED


def test_session_with_consent_goes_straight_through() -> None:
    assert decide(_request()) is NextStep.ISSUE_CODE


def test_prompt_login_and_max_age() -> None:
    assert decide(_request(prompt=frozenset({"login"}))) is NextStep.SIGN_IN
    assert (
        decide(
            _request(prompt=frozenset({"login"})), interaction=InteractionFacts(signed_in_here=True)
        )
        is NextStep.ISSUE_CODE
    )
    assert decide(_request(max_age=timedelta(minutes=1))) is NextStep.SIGN_IN
    assert decide(_request(max_age=timedelta(hours=1))) is NextStep.ISSUE_CODE
    assert decide(_request(max_age=timedelta(0), prompt=frozenset({"none"}))) is (
        NextStep.LOGIN_REQUIRED
    )


def test_hint_for_another_subject_needs_sign_in() -> None:
    assert decide(_request(hinted_subject="bob")) is NextStep.SIGN_IN
    assert decide(_request(hinted_subject="alice")) is NextStep.ISSUE_CODE


def test_consent() -> None:
    more = _request(requested_scopes=frozenset({"openid", "email"}))
    assert decide(more) is NextStep.CONSENT
    assert (
        decide(_request(requested_scopes=more.requested_scopes, prompt=frozenset({"none"})))
        is NextStep.CONSENT_REQUIRED
    )
    assert decide(more, interaction=InteractionFacts(consented_here=True)) is NextStep.ISSUE_CODE
    assert decide(_request(prompt=frozenset({"consent"}))) is NextStep.CONSENT
    assert decide(_request(), granted=frozenset()) is NextStep.CONSENT


@pytest.mark.parametrize("raw", ["none login", "bogus", "none consent", "select_account"])
def test_bad_prompts(raw: str) -> None:
    with pytest.raises(InvalidAuthorizationParameter):
        parse_prompt(raw)


@pytest.mark.parametrize("raw", ["-1", "abc", "1.5", "99999999999", "١٢"])
def test_bad_max_age(raw: str) -> None:
    with pytest.raises(InvalidAuthorizationParameter):
        parse_max_age(raw)


def test_repeated_parameters() -> None:
    assert find_repeated_parameter([("scope", "a"), ("scope", "b")]) == "scope"
    assert find_repeated_parameter([("extra", "a"), ("extra", "b")]) is None
