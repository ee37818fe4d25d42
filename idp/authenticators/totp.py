"""Time-based one-time passwords (RFC 6238) as authenticator apps make them: the only module
that imports pyotp. Pure: no storage, and no clock but the one the caller passes (the gateway's,
so tests move it).

A secret is 160 random bits (RFC 4226 4, R6), shown base32 for typing in; codes are six digits
for 30-second time steps, SHA-1, as every authenticator app understands (Google Authenticator
ignores anything else). A code is accepted for the current step and one step either side (RFC
6238 5.2, for clocks that drift and citizens who type slowly), and the step it matched is
returned so the caller can refuse it a second time.
"""

from __future__ import annotations

from datetime import datetime

import pyotp

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1  # steps accepted either side of the current one
SECRET_LENGTH = 32  # base32 characters: 160 bits
_LONGEST_INPUT = 32


def new_secret() -> str:
    return pyotp.random_base32(length=SECRET_LENGTH)


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, as the setup page shows it for typing in."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, *, account_name: str, issuer_name: str) -> str:
    """The `otpauth://totp/...` URI the QR code carries (Google Authenticator's Key Uri
    Format): the app lists the account as "issuer (account)"."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account_name, issuer_name=issuer_name
    )


def normalize_totp_code(typed: str) -> str | None:
    """The code as typed, without spaces or dashes; None when it cannot be a code."""
    if len(typed) > _LONGEST_INPUT:
        return None
    compact = "".join(ch for ch in typed if ch not in " -\t")
    if len(compact) != DIGITS or not compact.isascii() or not compact.isdigit():
        return None
    return compact


def matching_step(secret: str, code: str, *, at: datetime) -> int | None:
    """The time step within the drift window whose code is `code`, or None. The newest first,
    so a code that matches two steps (one in a million) counts for the later one. As
    `pyotp.TOTP.verify(code, for_time=at, valid_window=1)`, in constant time per step, but
    saying which step matched."""
    compact = normalize_totp_code(code)
    if compact is None:
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = totp.timecode(at)
    for step in range(now + DRIFT_STEPS, now - DRIFT_STEPS - 1, -1):
        if pyotp.utils.strings_equal(compact, totp.generate_otp(step)):
            return step
    return None
