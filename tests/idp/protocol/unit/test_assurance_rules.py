"""The rules of levels of assurance: which methods reach which level, when an elevation lapses,
what `amr` and `auth_time` a session reports, and what level a request needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idp.protocol.assurance import (
    EIDAS,
    AcrVocabulary,
    AuthenticationMethod,
    Level,
    MethodUse,
    Requirement,
    assess,
    level_reachable_with,
    required_level,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LAPSE = timedelta(minutes=15)
PASSWORD, APP, RECOVERY, PASSKEY = (
    AuthenticationMethod.PASSWORD,
    AuthenticationMethod.AUTHENTICATOR_APP,
    AuthenticationMethod.RECOVERY_CODE,
    AuthenticationMethod.PASSKEY,
)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _assess(*uses: MethodUse, now_minutes: float) -> tuple[Level, tuple[str, ...], datetime]:
    found = assess(list(uses), now=_at(now_minutes), elevated_lifetime=LAPSE)
    return found.level, found.amr, found.auth_time


def test_a_password_alone_is_low() -> None:
    assert _assess(MethodUse.of(PASSWORD, _at(0)), now_minutes=1) == (Level.LOW, ("pwd",), _at(0))


@pytest.mark.parametrize("second", [APP, RECOVERY])
def test_a_password_and_a_one_time_code_are_substantial_with_mfa(
    second: AuthenticationMethod,
) -> None:
    level, amr, auth_time = _assess(
        MethodUse.of(PASSWORD, _at(0)), MethodUse.of(second, _at(5)), now_minutes=6
    )
    assert (level, amr, auth_time) == (Level.SUBSTANTIAL, ("pwd", "otp", "mfa"), _at(5))


def test_a_passkey_is_high_on_its_own() -> None:
    use = MethodUse(PASSKEY, ("swk", "user"), _at(0))
    assert _assess(use, now_minutes=1) == (Level.HIGH, ("swk", "user", "mfa"), _at(0))


def test_a_code_alone_without_a_password_is_low() -> None:
    assert _assess(MethodUse.of(APP, _at(0)), now_minutes=1)[0] is Level.LOW


def test_an_elevation_lapses_but_the_session_stays_low() -> None:
    uses = (MethodUse.of(PASSWORD, _at(0)), MethodUse.of(APP, _at(5)))
    assert _assess(*uses, now_minutes=5 + 14.9)[0] is Level.SUBSTANTIAL
    level, amr, auth_time = _assess(*uses, now_minutes=5 + 15)
    assert level is Level.LOW
    # What the session rests on now is the password: the report names no second factor.
    assert (amr, auth_time) == (("pwd",), _at(0))


def test_a_session_begun_with_a_passkey_reports_it_after_the_lapse() -> None:
    use = MethodUse(PASSKEY, ("hwk", "user"), _at(0))
    assert _assess(use, now_minutes=20) == (Level.LOW, ("hwk", "user"), _at(0))


def test_a_step_up_after_a_lapse_counts_again() -> None:
    uses = (
        MethodUse.of(PASSWORD, _at(0)),
        MethodUse.of(APP, _at(5)),
        MethodUse.of(APP, _at(40)),
    )
    assert _assess(*uses, now_minutes=41)[0] is Level.SUBSTANTIAL


def test_the_password_of_a_long_session_still_pairs_with_a_fresh_code() -> None:
    """The session binds the citizen since the password; the elevation is the fresh factor."""
    uses = (MethodUse.of(PASSWORD, _at(0)), MethodUse.of(APP, _at(300)))
    assert _assess(*uses, now_minutes=301)[0] is Level.SUBSTANTIAL


def test_the_highest_level_a_citizen_can_reach() -> None:
    assert level_reachable_with({PASSWORD}) is Level.LOW
    assert level_reachable_with({PASSWORD, APP}) is Level.SUBSTANTIAL
    assert level_reachable_with({PASSWORD, RECOVERY}) is Level.SUBSTANTIAL
    assert level_reachable_with({PASSWORD, APP, PASSKEY}) is Level.HIGH
    assert level_reachable_with({APP}) is Level.LOW


def test_a_session_has_an_authentication() -> None:
    with pytest.raises(ValueError, match="at least one"):
        assess([], now=T0, elevated_lifetime=LAPSE)


def _needs(**request: object) -> Requirement:
    arguments: dict[str, object] = {
        "client_minimum": None,
        "acr_values": None,
        "essential_acr": None,
        "voluntary_acr": None,
        "vocabulary": EIDAS,
    }
    return required_level(**{**arguments, **request})  # type: ignore[arg-type]


def test_nothing_asked_needs_low() -> None:
    assert _needs() == Requirement(Level.LOW)


def test_acr_values_need_the_lowest_level_they_name() -> None:
    assert _needs(acr_values=f"{EIDAS.high} {EIDAS.substantial}") == Requirement(Level.SUBSTANTIAL)
    assert _needs(acr_values=EIDAS.high) == Requirement(Level.HIGH)


def test_unknown_voluntary_values_are_passed_over() -> None:
    assert _needs(acr_values="urn:other:gold") == Requirement(Level.LOW)
    assert _needs(acr_values=f"urn:other:gold {EIDAS.high}") == Requirement(Level.HIGH)
    assert _needs(voluntary_acr={"values": ["urn:other:gold"]}) == Requirement(Level.LOW)


def test_an_essential_acr_of_unknown_values_cannot_be_met() -> None:
    assert _needs(essential_acr={"essential": True, "value": "urn:other:gold"}).impossible
    assert _needs(essential_acr={"essential": True, "values": ["urn:x", EIDAS.high]}) == (
        Requirement(Level.HIGH)
    )


def test_an_essential_acr_without_values_asks_nothing() -> None:
    assert _needs(essential_acr={"essential": True}) == Requirement(Level.LOW)


def test_the_client_minimum_is_a_floor() -> None:
    assert _needs(client_minimum=Level.SUBSTANTIAL, acr_values=EIDAS.low) == Requirement(
        Level.SUBSTANTIAL
    )
    assert _needs(client_minimum=Level.SUBSTANTIAL, acr_values=EIDAS.high) == Requirement(
        Level.HIGH
    )


def test_a_vocabulary_maps_both_ways_lowest_first() -> None:
    mine = AcrVocabulary(low="urn:l", substantial="urn:s", high="urn:h")
    assert mine.supported() == ("urn:l", "urn:s", "urn:h")
    assert [mine.level_of(uri) for uri in mine.supported()] == list(Level)
    assert mine.level_of(EIDAS.low) is None
    assert Level.labelled("substantial") is Level.SUBSTANTIAL and Level.labelled("x") is None
