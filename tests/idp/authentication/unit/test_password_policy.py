"""The password policy on its own: lengths, the shipped list of common passwords, the username and
the service's name, repeats and sequences; what is accepted stays accepted."""

from __future__ import annotations

import gzip
from importlib.resources import files

import pytest

from gateway.demo import DEMO_PASSWORD, DEMO_USERNAME
from idp.authentication.password_policy import (
    COMMON_PASSWORDS_FILE,
    MAX_NEW_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PasswordProblem,
    common_passwords,
    password_problem,
)
from idp.authentication.passwords import MAX_PASSWORD_LENGTH


def test_lengths_are_15_to_128_characters() -> None:
    long_enough = "tuba kell seitse"  # 16
    assert password_problem(long_enough[:14]) is PasswordProblem.TOO_SHORT
    assert password_problem(long_enough[:15]) is None
    phrase = (
        "Kuusk ja mänd kasvavad liival, kask ja lepp niiskel maal, tamm ja saar viljakal mullal; "
        "pärn õitseb juulis, vaher värvub oktoobris punaseks."
    )
    assert len(phrase) > MAX_NEW_PASSWORD_LENGTH
    assert password_problem(phrase[:MAX_NEW_PASSWORD_LENGTH]) is None
    assert password_problem(phrase[: MAX_NEW_PASSWORD_LENGTH + 1]) is PasswordProblem.TOO_LONG
    # Characters, not bytes: 15 letters of any script are 15.
    assert password_problem("ÕÄÖÜõäöü šžŠŽ ф") is None
    # Sign-in still takes what was set before, and more: the limits differ on purpose.
    assert MAX_NEW_PASSWORD_LENGTH < MAX_PASSWORD_LENGTH


def test_messages_name_the_limits_they_enforce() -> None:
    assert str(MIN_PASSWORD_LENGTH) in PasswordProblem.TOO_SHORT.message
    assert str(MAX_NEW_PASSWORD_LENGTH) in PasswordProblem.TOO_LONG.message
    assert str(MIN_PASSWORD_LENGTH) in PasswordProblem.TOO_SHORT.description
    assert str(MAX_NEW_PASSWORD_LENGTH) in PasswordProblem.TOO_LONG.description
    assert PasswordProblem.COMMON.message == (
        "Choose a password that is harder to guess: this one is on a list of passwords that "
        "are often used or have been leaked"
    )


def test_no_composition_rules() -> None:
    for password in (
        "lumi sajab vaikselt",  # lower-case words only
        "seventeen letters",
        "8 9 4 1 7 7 3 0 5 2 6 3",  # digits only, in no order
        "ふるいけやかわずとびこむみずのおと",  # 17 kana
    ):
        assert password_problem(password) is None, password


def test_the_list_ships_with_the_package_lower_case_one_a_line() -> None:
    packed = files("idp.authentication").joinpath("data", COMMON_PASSWORDS_FILE).read_bytes()
    lines = gzip.decompress(packed).decode().splitlines()
    assert len(lines) == 30_000 and len(set(lines)) == len(lines)
    assert lines[:2] == ["123456", "password"]
    assert all(line == line.lower() and line.strip() == line and line for line in lines)
    assert common_passwords() is common_passwords()  # read once per process


@pytest.mark.parametrize(
    "password",
    [
        "1qaz2wsx3edc4rfv",
        "1QAZ2WSX3EDC4RFV",  # any case
        "1qaz 2wsx 3edc 4rfv",  # with spaces
        "qwerty123456789",
        "passwordstandard",
    ],
)
def test_listed_passwords_are_refused_in_any_case_and_spacing(password: str) -> None:
    assert password_problem(password) is PasswordProblem.COMMON


@pytest.mark.parametrize(
    "password",
    [
        "passwordpassword",
        "123456789012345",
        "qwertyuiopasdfgh",
        "aaaaaaaaaaaaaaa",
        "111111111111111111111",
        "abcabcabcabcabc",
        "abcdefghijklmnop",
        "zyxwvutsrqponmlk",
        "098765432109876",
        "1212121122112211",  # few distinct characters
        "qwertzuiopasdfgh",
        "azertyuiopqsdfgh",
        "!@#$%^&*()_+!@#$",
        "2468024680246802",
        "sunshine sunshine",
        # One common password and runs around it.
        "iloveyou12345678",
        "Password1234567!",
        "P@ssw0rd1234567",
        "123dragon1234567",
        "monkeyaaaaaaaaaa",
    ],
)
def test_repeats_sequences_and_padded_common_passwords_are_refused(password: str) -> None:
    assert password_problem(password) is PasswordProblem.PREDICTABLE


def test_the_username_is_refused_alone_inside_or_padded() -> None:
    assert password_problem("mari.maasikas.1985", username="Mari.Maasikas") is (
        PasswordProblem.USERNAME
    )
    assert password_problem("MARIMAASIKAS123456", username="mari.maasikas") is (
        PasswordProblem.USERNAME
    )
    assert password_problem("jaan.tamm.jaan.tamm", username="jaan.tamm") is (
        PasswordProblem.USERNAME
    )
    long_name = "kristjan.kukk.2001"
    assert password_problem(long_name, username=long_name) is PasswordProblem.USERNAME
    # A short username is refused only when all the rest is runs.
    assert password_problem("mari123456789012", username="mari") is PasswordProblem.USERNAME
    assert password_problem("marjad ja mari maitsevad", username="mari") is None
    # Without a username, the same passwords pass.
    assert password_problem("mari.maasikas.1985") is None


def test_the_services_own_name_is_refused() -> None:
    for password in (
        "citizensignincitizen",
        "Citizen Sign In Citizen",
        "gatewaygatewaygateway",
        "Kodaniku sisselogimine",
        "sisselogimine123456",
    ):
        assert password_problem(password) is PasswordProblem.SERVICE_NAME, password
    assert password_problem("the citizen reads a long book") is None


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "correcthorsebatterystaple",
        "a long enough passphrase",
        "a new password, long enough",
        "demo-citizen-password",
        "Tallinn-Tartu 187 km!",
        "Kolm karu metsas, üks kodus",
    ],
)
def test_passphrases_pass(password: str) -> None:
    assert password_problem(password, username="demo") is None


def test_random_passwords_like_the_test_builders_pass() -> None:
    # tests/builders.py makes "pw-" and 24 random base64url characters.
    assert password_problem("pw-Qm5rX0c2bVlzTjg4a3pLd0pR", username="citizen-1a2b3c4d") is None


def test_the_demo_citizens_published_password_is_allowed() -> None:
    # `idp serve --demo` creates the demo citizen through the same policy.
    assert password_problem(DEMO_PASSWORD, username=DEMO_USERNAME) is None
