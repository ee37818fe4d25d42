"""The pure parts of authenticator apps and recovery codes: TOTP codes and their drift window
(RFC 6238), recovery codes' form and digests, sealing secrets at rest, and how a second factor
and its lapse change a session's level."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest

from idp.authenticators.recovery_codes import (
    new_recovery_code,
    normalize_recovery_code,
    recovery_code_digest,
)
from idp.authenticators.totp import (
    grouped_secret,
    matching_step,
    new_secret,
    normalize_totp_code,
    provisioning_uri,
)
from idp.keys.sealing import SEALING_KEY_FILE, SealedValueNotOpened, Sealer
from idp.protocol.assurance import AuthenticationMethod, Level, MethodUse, assess

T0 = datetime(2026, 12, 2, 10, 0, 15, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
STEP = timedelta(seconds=30)


def _code(at: datetime) -> str:
    return pyotp.TOTP(SECRET).at(at)


def test_a_new_secret_is_160_random_bits_in_base32() -> None:
    secret = new_secret()
    assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert new_secret() != secret
    assert grouped_secret(secret).replace(" ", "") == secret
    assert all(len(group) == 4 for group in grouped_secret(secret).split())


def test_the_provisioning_uri_names_the_gateway_and_the_username() -> None:
    uri = provisioning_uri(SECRET, account_name="mari", issuer_name="Citizen sign-in")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == "/Citizen sign-in:mari"
    query = parse_qs(parts.query)
    assert query["secret"] == [SECRET] and query["issuer"] == ["Citizen sign-in"]


def test_a_code_matches_its_step_and_one_either_side() -> None:
    now = pyotp.TOTP(SECRET).timecode(T0)
    assert matching_step(SECRET, _code(T0), at=T0) == now
    assert matching_step(SECRET, _code(T0 - STEP), at=T0) == now - 1
    assert matching_step(SECRET, _code(T0 + STEP), at=T0) == now + 1
    assert matching_step(SECRET, _code(T0 - 2 * STEP), at=T0) is None
    assert matching_step(SECRET, _code(T0 + 2 * STEP), at=T0) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("123-456", "123456"),
        ("12345", None),
        ("1234567", None),
        ("12345a", None),
        ("\uff11\uff12\uff13\uff14\uff15\uff16", None),  # fullwidth digits: not ASCII
        ("1" * 100, None),
        ("", None),
    ],
)
def test_codes_are_six_ascii_digits_whatever_the_spacing(typed: str, expected: str | None) -> None:
    assert normalize_totp_code(typed) == expected


def test_a_malformed_code_matches_nothing() -> None:
    assert matching_step(SECRET, "", at=T0) is None
    assert matching_step(SECRET, _code(T0) + "0", at=T0) is None


def test_recovery_codes_are_read_aloud_without_look_alikes() -> None:
    code = new_recovery_code()
    groups = code.split("-")
    assert [len(group) for group in groups] == [4, 4, 4]
    assert not set("".join(groups)) & set("01ILOU")
    assert normalize_recovery_code(code.lower().replace("-", " ")) == code.replace("-", "")
    assert normalize_recovery_code("ABCD-EFGH-JKM0") is None  # a zero is no code's
    assert normalize_recovery_code("A" * 65) is None


def test_a_recovery_codes_digest_is_salted_with_the_subject() -> None:
    code = new_recovery_code()
    assert recovery_code_digest("s1", code) == recovery_code_digest("s1", code.lower())
    assert recovery_code_digest("s1", code) != recovery_code_digest("s2", code)
    assert code.replace("-", "") not in recovery_code_digest("s1", code)


def test_a_sealed_secret_opens_only_with_its_key_and_for_its_account(tmp_path: Path) -> None:
    sealer = Sealer(tmp_path / "keys")
    assert sealer.ensure_key() is True and sealer.ensure_key() is False
    key_file = tmp_path / "keys" / SEALING_KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    sealed = sealer.seal(SECRET.encode(), context="authenticator-app:s1")
    assert SECRET not in sealed
    assert sealer.seal(SECRET.encode(), context="authenticator-app:s1") != sealed  # new nonce
    assert sealer.open(sealed, context="authenticator-app:s1") == SECRET.encode()
    # Copied into another account's row, it does not open.
    with pytest.raises(SealedValueNotOpened):
        sealer.open(sealed, context="authenticator-app:s2")
    # Nor with another gateway's key.
    with pytest.raises(SealedValueNotOpened):
        Sealer(tmp_path / "other").open(sealed, context="authenticator-app:s1")
    # The key is read from the file: another process with the same folder opens it.
    assert Sealer(tmp_path / "keys").open(sealed, context="authenticator-app:s1") == SECRET.encode()
    with pytest.raises(SealedValueNotOpened):
        sealer.open("v2." + sealed.partition(".")[2], context="authenticator-app:s1")
    with pytest.raises(SealedValueNotOpened):
        sealer.open(sealed[:-4], context="authenticator-app:s1")


def test_two_nodes_starting_at_once_end_with_one_key(tmp_path: Path) -> None:
    first, second = Sealer(tmp_path), Sealer(tmp_path)
    sealed = first.seal(b"x", context="c")  # creates the key on first use
    assert second.ensure_key() is False
    assert second.open(sealed, context="c") == b"x"
    assert [p.name for p in tmp_path.iterdir()] == [SEALING_KEY_FILE]  # no stray files


LIFETIME = timedelta(minutes=15)
PASSWORD = MethodUse.of(AuthenticationMethod.PASSWORD, T0)


def test_a_password_and_a_fresh_code_are_substantial_until_the_code_lapses() -> None:
    code = MethodUse.of(AuthenticationMethod.AUTHENTICATOR_APP, T0 + timedelta(minutes=2))
    during = assess([PASSWORD, code], now=T0 + timedelta(minutes=10), elevated_lifetime=LIFETIME)
    assert during.level is Level.SUBSTANTIAL
    assert during.amr == ("pwd", "otp", "mfa") and during.auth_time == code.authenticated_at
    after = assess([PASSWORD, code], now=T0 + timedelta(minutes=18), elevated_lifetime=LIFETIME)
    assert after.level is Level.LOW
    assert after.amr == ("pwd",) and after.auth_time == T0  # the lapsed code proves nothing


def test_after_a_lapse_a_new_code_alone_steps_up_again() -> None:
    """The password holds as long as the session: a citizen who signed in an hour ago steps up
    with a code and nothing more."""
    late = MethodUse.of(AuthenticationMethod.RECOVERY_CODE, T0 + timedelta(hours=1))
    assessed = assess([PASSWORD, late], now=late.authenticated_at, elevated_lifetime=LIFETIME)
    assert assessed.level is Level.SUBSTANTIAL and assessed.amr == ("pwd", "otp", "mfa")


def test_a_code_without_a_password_is_no_second_factor() -> None:
    code = MethodUse.of(AuthenticationMethod.AUTHENTICATOR_APP, T0)
    assert assess([code], now=T0, elevated_lifetime=LIFETIME).level is Level.LOW
