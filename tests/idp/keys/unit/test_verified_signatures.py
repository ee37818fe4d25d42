"""The memo of checked signatures (idp.keys.verified_signatures, ADR 0029): it saves checking a
token's signature again, and never answers what checking it again would not."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from idp.keys import verified_signatures
from idp.keys.jose import (
    InvalidJwt,
    SigningKey,
    VerifiedJwt,
    generate_signing_key,
    sign_jwt,
    verify_jwt,
)
from idp.keys.verified_signatures import VerifiedSignatures

KEY = generate_signing_key(alg="ES256", kid="es-1")
OTHER_KEY = generate_signing_key(alg="ES256", kid="es-2")
CLAIMS = {"iss": "https://id.example", "jti": "j-1", "aud": "tax-office"}
TOKEN = sign_jwt(CLAIMS, key=KEY, typ="at+jwt")


def _as_access_token(memo: VerifiedSignatures, token: str, keys: list[SigningKey]) -> VerifiedJwt:
    return memo.verify(token, keys=keys, algorithms=["ES256"], typ="at+jwt")


def _checks_counted() -> Any:
    # Counts the checks the memo makes (it calls verify_jwt by its module's name).
    return mock.patch.object(verified_signatures, "verify_jwt", wraps=verify_jwt)


def test_a_token_checked_once_is_not_checked_again_while_its_key_is_accepted() -> None:
    memo = VerifiedSignatures()
    with _checks_counted() as checks:
        first = _as_access_token(memo, TOKEN, [KEY])
        again = _as_access_token(memo, TOKEN, [OTHER_KEY, KEY])
    assert checks.call_count == 1
    assert first.claims == again.claims == CLAIMS
    assert again.key is KEY


def test_the_answer_is_a_copy() -> None:
    memo = VerifiedSignatures()
    _as_access_token(memo, TOKEN, [KEY]).claims["aud"] = "someone-else"
    assert _as_access_token(memo, TOKEN, [KEY]).claims["aud"] == "tax-office"


def test_a_key_no_longer_accepted_makes_the_token_refused() -> None:
    memo = VerifiedSignatures()
    _as_access_token(memo, TOKEN, [KEY])
    with pytest.raises(InvalidJwt):
        _as_access_token(memo, TOKEN, [OTHER_KEY])


def test_a_key_loaded_again_is_another_key_and_checks_again() -> None:
    # A reload of the keyring makes new key objects: what the old ones proved is not reused.
    memo = VerifiedSignatures()
    _as_access_token(memo, TOKEN, [KEY])
    reloaded = generate_signing_key(alg="ES256", kid="es-1")  # same kid, another key
    with _checks_counted() as checks, pytest.raises(InvalidJwt):
        _as_access_token(memo, TOKEN, [reloaded])
    assert checks.call_count == 1


def test_an_answer_for_one_type_is_not_an_answer_for_another() -> None:
    memo = VerifiedSignatures()
    _as_access_token(memo, TOKEN, [KEY])
    with pytest.raises(InvalidJwt):
        memo.verify(TOKEN, keys=[KEY], algorithms=["ES256"], typ="JWT")
    with pytest.raises(InvalidJwt):
        memo.verify(TOKEN, keys=[KEY], algorithms=["RS256"], typ="at+jwt")


def test_failures_are_not_kept() -> None:
    memo = VerifiedSignatures()
    forged = TOKEN[:-4] + ("AAAA" if not TOKEN.endswith("AAAA") else "BBBB")
    with _checks_counted() as checks:
        for _ in range(3):
            with pytest.raises(InvalidJwt):
                _as_access_token(memo, forged, [KEY])
    assert checks.call_count == 3
    assert len(memo) == 0


def test_the_oldest_entry_goes_when_the_memo_is_full() -> None:
    memo = VerifiedSignatures(capacity=2)
    tokens = [sign_jwt({**CLAIMS, "jti": f"j-{n}"}, key=KEY, typ="at+jwt") for n in range(3)]
    for token in tokens:
        _as_access_token(memo, token, [KEY])
    assert len(memo) == 2
    with _checks_counted() as checks:
        _as_access_token(memo, tokens[2], [KEY])  # kept
        _as_access_token(memo, tokens[0], [KEY])  # gone, checked again
    assert checks.call_count == 1
