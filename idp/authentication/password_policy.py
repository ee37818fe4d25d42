"""What a new password must be, wherever one is set (the command line, the activation page, the
account page): NIST SP 800-63B-4 3.1.1.2 and OWASP ASVS 5 6.2.

- At least 15 characters (single-factor use) and at most 128, which is more than the 64 that
  800-63B asks verifiers to allow and keeps argon2's input small. Sign-in takes longer input
  (idp.authentication.passwords.MAX_PASSWORD_LENGTH): a password is checked as it was set.
- No composition rules ("a digit, a symbol"): they make passwords harder to remember, not to
  guess (800-63B SHALL NOT).
- Not one that attackers try first (800-63B's blocklist): one of 30,000 common and leaked
  passwords (data/README.md), compared without case, spaces or punctuation; one made only of
  repeats and sequences ("aaaa", "12345", "qwerty", "passwordpassword"), or of one common
  password and such runs ("iloveyou12345678"); the username, or the service's own name.

Pure, apart from reading the list once per process. The refusals carry the words the citizen
reads (translated where the page is shown) and the words the operator reads at the command line.
"""

from __future__ import annotations

import gzip
import unicodedata
from collections.abc import Callable, Iterable
from enum import Enum
from functools import cache
from importlib.resources import files

from idp.protocol.languages import translatable

MIN_PASSWORD_LENGTH = 15  # single-factor use (NIST 800-63B-4 3.1.1.2, ASVS 6.2.1)
MAX_NEW_PASSWORD_LENGTH = 128  # characters

COMMON_PASSWORDS_FILE = "common-passwords.txt.gz"
# The service's name as its pages give it, in each language (templates/idp/base.html), and what
# operators call it: a password made of these is among the first tried against this service.
SERVICE_WORDS = ("citizen", "signin", "gateway", "kodaniku", "kodanik", "sisselogimine")
# A username this long is refused inside a password too; a shorter one may occur by chance
# ("demo" in a phrase), and is refused when it is the password or all but runs of it.
USERNAME_INSIDE_FROM = 6
# Fewer distinct characters than this is a repeat, however arranged ("1212121122112211").
MIN_DISTINCT_CHARACTERS = 5
# Runs shorter than this are part of any text ("ab", "12"); from three on they are a pattern.
SHORTEST_RUN = 3
# What attackers walk along: the alphabet and digits (either way, and round again, as in
# "789012"), and the rows of QWERTY, QWERTZ and AZERTY keyboards, shifted too.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "`1234567890-=",
    "~!@#$%^&*()_+",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertyuiop[]",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
)


class PasswordProblem(Enum):
    """Why a new password is refused: `message` for the citizen, `description` for operators."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    USERNAME = "username"
    SERVICE_NAME = "service_name"
    PREDICTABLE = "predictable"

    @property
    def message(self) -> str:
        return _MESSAGES[self]

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_MESSAGES = {
    # The two numbers are MIN_PASSWORD_LENGTH and MAX_NEW_PASSWORD_LENGTH (the unit tests hold
    # them together): a catalogue message is a fixed text.
    PasswordProblem.TOO_SHORT: translatable("Your new password must be at least 15 characters"),
    PasswordProblem.TOO_LONG: translatable("Your new password must be 128 characters or fewer"),
    PasswordProblem.COMMON: translatable(
        "Choose a password that is harder to guess: this one is on a list of passwords that "
        "are often used or have been leaked"
    ),
    PasswordProblem.USERNAME: translatable("Choose a password that does not contain your username"),
    PasswordProblem.SERVICE_NAME: translatable(
        "Choose a password that does not use the name of this service"
    ),
    PasswordProblem.PREDICTABLE: translatable(
        "Choose a password that is harder to guess: this one is made of repeated characters, "
        "sequences such as 12345 or qwerty, or a common password with such characters added"
    ),
}
_DESCRIPTIONS = {
    PasswordProblem.TOO_SHORT: f"password must be at least {MIN_PASSWORD_LENGTH} characters",
    PasswordProblem.TOO_LONG: f"password must be at most {MAX_NEW_PASSWORD_LENGTH} characters",
    PasswordProblem.COMMON: "password is on the list of commonly used or leaked passwords",
    PasswordProblem.USERNAME: "password contains the username",
    PasswordProblem.SERVICE_NAME: "password is made of the service's name",
    PasswordProblem.PREDICTABLE: "password is made of repeats or sequences (with at most one "
    "common password)",
}


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once per process, when it is first needed (some 10 ms)."""
    packed = files("idp.authentication").joinpath("data", COMMON_PASSWORDS_FILE).read_bytes()
    return frozenset(line for line in gzip.decompress(packed).decode().splitlines() if line)


@cache
def _longest_common_password() -> int:
    return max(map(len, common_passwords()))


def password_problem(password: str, *, username: str = "") -> PasswordProblem | None:
    """Why `password` may not be set as the password of the account `username`, or None. The
    first problem found, in the order the citizen can best act on."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return PasswordProblem.TOO_SHORT
    if len(password) > MAX_NEW_PASSWORD_LENGTH:
        return PasswordProblem.TOO_LONG
    forms = _forms(password)
    names = _forms(username) if len(username) <= 256 else set()
    checks: tuple[tuple[PasswordProblem, Callable[[str], bool]], ...] = (
        (PasswordProblem.COMMON, lambda form: form in common_passwords()),
        (PasswordProblem.USERNAME, lambda form: _uses_username(form, names)),
        (PasswordProblem.SERVICE_NAME, lambda form: _made_of(form, SERVICE_WORDS, required=True)),
        (PasswordProblem.PREDICTABLE, lambda form: _is_repetitive(form) or _made_of(form, ())),
    )
    return next((problem for problem, found in checks if any(map(found, forms))), None)


def _forms(text: str) -> set[str]:
    """The text as an attacker's list would spell it: folded (NFKC, then case, as usernames
    are), without its spaces, and without anything but its letters and digits."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    compact = "".join(ch for ch in folded if not ch.isspace())
    bare = "".join(ch for ch in folded if ch.isalnum())
    return {form for form in (folded, compact, bare) if form}


def _uses_username(form: str, names: set[str]) -> bool:
    return any(
        form == name
        or (len(name) >= USERNAME_INSIDE_FROM and name in form)
        or _made_of(form, (name,), required=True)
        for name in names
    )


def _is_repetitive(form: str) -> bool:
    """Few distinct characters, or one part said again: "abcabcabc", "passwordpassword"."""
    if len(set(form)) < MIN_DISTINCT_CHARACTERS:
        return True
    return _smallest_period(form) <= len(form) // 2


def _smallest_period(form: str) -> int:
    """The smallest p with form[i] == form[i + p] throughout (the KMP failure function)."""
    failure = [0] * len(form)
    matched = 0
    for i in range(1, len(form)):
        while matched and form[i] != form[matched]:
            matched = failure[matched - 1]
        if form[i] == form[matched]:
            matched += 1
        failure[i] = matched
    return len(form) - failure[-1]


def _made_of(form: str, words: Iterable[str], *, required: bool = False) -> bool:
    """Whether `form` is nothing but runs (repeats, steps, sequences), `words` (any number of
    times) and at most one common password. With `required`, one of `words` must be in it."""
    words = tuple(word for word in words if len(word) >= SHORTEST_RUN)
    if required and not any(word in form for word in words):
        return False
    common, longest = common_passwords(), _longest_common_password()
    # reached[k]: the ends of the prefixes covered so far with k common passwords (0 or 1).
    reached: list[set[int]] = [{0}, set()]
    for start in range(len(form)):
        for used in (0, 1):
            if start not in reached[used]:
                continue
            reached[used].update(_run_ends(form, start))
            reached[used].update(start + len(w) for w in words if form.startswith(w, start))
            if used == 0:
                reached[1].update(
                    end
                    for end in range(start + 1, min(len(form), start + longest) + 1)
                    if form[start:end] in common
                )
    return len(form) in reached[0] or len(form) in reached[1]


def _run_ends(form: str, start: int) -> Iterable[int]:
    """Where runs starting at `start` can end: the same step between neighbouring characters
    ("aaaa", "1234", "2468", "zyx"), or a stretch of a sequence, either way."""
    ends = set()
    step = ord(form[start + 1]) - ord(form[start]) if start + 1 < len(form) else None
    end = start + 2
    while step is not None and abs(step) <= 2 and end <= len(form):
        if end - start >= SHORTEST_RUN:
            ends.add(end)
        if end == len(form) or ord(form[end]) - ord(form[end - 1]) != step:
            break
        end += 1
    for sequence in _cycled_sequences():
        end = start + SHORTEST_RUN
        while end <= len(form) and form[start:end] in sequence:
            ends.add(end)
            end += 1
    return ends


@cache
def _cycled_sequences() -> tuple[str, ...]:
    """Each sequence, and it backwards, repeated to outrun the longest password ("901234")."""
    times = MAX_NEW_PASSWORD_LENGTH // min(map(len, _SEQUENCES)) + 2
    return tuple(
        cycled for sequence in _SEQUENCES for cycled in (sequence * times, sequence[::-1] * times)
    )
