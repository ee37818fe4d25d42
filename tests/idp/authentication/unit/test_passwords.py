"""argon2id parameters: configurable, never below OWASP's minimum, and a hash made with other
parameters still verifies and is made again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from idp.authentication import passwords
from idp.settings import IdpSettings
from tests.conftest import TEST_ENV

ISSUER = "http://localhost:9"


@pytest.fixture
def restore_test_hashing() -> Iterator[None]:
    yield
    passwords.configure_password_hashing(
        memory_kib=int(TEST_ENV["IDP_PASSWORD_HASH_MEMORY"]),
        iterations=int(TEST_ENV["IDP_PASSWORD_HASH_ITERATIONS"]),
        parallelism=int(TEST_ENV["IDP_PASSWORD_HASH_PARALLELISM"]),
    )


def test_the_default_profile_is_owasps_first() -> None:
    settings = IdpSettings(issuer=ISSUER)
    assert (
        settings.password_hash_memory,
        settings.password_hash_iterations,
        settings.password_hash_parallelism,
    ) == (47104, 1, 1)


@pytest.mark.parametrize(("memory", "iterations"), [(47104, 1), (19456, 2), (12288, 4), (7168, 6)])
def test_owasp_rows_are_accepted(memory: int, iterations: int) -> None:
    passwords.check_hash_parameters(memory_kib=memory, iterations=iterations, parallelism=1)


@pytest.mark.parametrize(
    ("memory", "iterations", "parallelism"),
    [(19456, 1, 1), (4096, 20, 1), (65536, 3, 0), (65536, 0, 4), (65536, 3, 17)],
)
def test_weaker_or_impossible_parameters_are_refused(
    memory: int, iterations: int, parallelism: int
) -> None:
    with pytest.raises(ValidationError):
        IdpSettings(
            issuer=ISSUER,
            password_hash_memory=memory,
            password_hash_iterations=iterations,
            password_hash_parallelism=parallelism,
        )


@pytest.mark.usefixtures("restore_test_hashing")
def test_a_hash_of_other_parameters_verifies_and_is_made_again() -> None:
    passwords.configure_password_hashing(memory_kib=47104, iterations=1, parallelism=2)
    old = passwords.hash_password("a long enough passphrase")
    assert "m=47104,t=1,p=2" in old
    passwords.configure_password_hashing(memory_kib=19456, iterations=2, parallelism=1)
    verdict = passwords.judge_password("a long enough passphrase", old)
    assert verdict.matches and verdict.upgraded_hash is not None
    assert "m=19456,t=2,p=1" in verdict.upgraded_hash
    assert not passwords.judge_password("another passphrase here", old).matches
    # Unknown names spend a check with the current parameters too.
    assert not passwords.check_password("whatever it is", None)
