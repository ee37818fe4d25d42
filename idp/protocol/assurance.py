"""Levels of assurance: how strongly a browser session's citizen was authenticated, from the
methods they used and when, and what an agency's request asks for (OIDC Core 2 `acr`, 3.1.2.1
`acr_values`, 5.5.1.1 essential claims; RFC 8176 `amr`). Pure rules, no storage.

The three levels are eIDAS's (Implementing Regulation 2015/1502): low, one factor; substantial,
two factors of different kinds; high, two factors of which one resists phishing and cloning. A
passkey with user verification is two factors in one (the device and the citizen's PIN or
biometric) bound to the gateway's origin, so it alone reaches high; a password with an
authenticator app or a recovery code reaches substantial; a password alone, low.

An elevated level lapses: a method above a password counts towards substantial or high only for
`elevated_lifetime` after it was used (the password counts while the session lives), while the
session itself lives on at low (as Estonia's
GovSSO lets the level lapse inside a session). A later request for the higher level asks again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum


class Level(IntEnum):
    """Ordered: a higher level satisfies a request for a lower one."""

    LOW = 1
    SUBSTANTIAL = 2
    HIGH = 3

    @property
    def label(self) -> str:
        """How registrations store and operators name it: `low`, `substantial`, `high`."""
        return self.name.lower()

    @classmethod
    def labelled(cls, label: str | None) -> Level | None:
        return next((level for level in cls if level.label == label), None)


class AuthenticationMethod(StrEnum):
    PASSWORD = "password"  # noqa: S105  (a method's name, not a secret)
    AUTHENTICATOR_APP = "authenticator_app"
    RECOVERY_CODE = "recovery_code"
    PASSKEY = "passkey"

    @property
    def raises_level(self) -> bool:
        """Whether the method counts towards a level above low (all but the password)."""
        return self is not AuthenticationMethod.PASSWORD


# What each method proves on its own. A knowledge factor with a possession factor is two.
_KNOWLEDGE = frozenset({AuthenticationMethod.PASSWORD})
_POSSESSION = frozenset(
    {AuthenticationMethod.AUTHENTICATOR_APP, AuthenticationMethod.RECOVERY_CODE}
)
_PHISHING_RESISTANT_MULTI_FACTOR = frozenset({AuthenticationMethod.PASSKEY})

# RFC 8176 values each method reports when the method itself does not say more (a passkey says
# whether its key is hardware-bound).
DEFAULT_AMR: dict[AuthenticationMethod, tuple[str, ...]] = {
    AuthenticationMethod.PASSWORD: ("pwd",),
    AuthenticationMethod.AUTHENTICATOR_APP: ("otp",),
    AuthenticationMethod.RECOVERY_CODE: ("otp",),
    AuthenticationMethod.PASSKEY: ("hwk", "user"),
}


@dataclass(frozen=True)
class MethodUse:
    """One authentication in a browser session: which method, what it proved (`amr`), when."""

    method: AuthenticationMethod
    amr: tuple[str, ...]
    authenticated_at: datetime

    @classmethod
    def of(cls, method: AuthenticationMethod, at: datetime) -> MethodUse:
        return cls(method=method, amr=DEFAULT_AMR[method], authenticated_at=at)


@dataclass(frozen=True)
class Assessment:
    """What a session proves now: its level, the `amr` of the uses the level rests on (with
    `mfa` when they are more than one factor), and `auth_time`, the latest of those uses."""

    level: Level
    amr: tuple[str, ...]
    auth_time: datetime


def level_of_methods(methods: Iterable[AuthenticationMethod]) -> Level:
    """The level a set of methods used together reaches."""
    used = frozenset(methods)
    if used & _PHISHING_RESISTANT_MULTI_FACTOR:
        return Level.HIGH
    if used & _KNOWLEDGE and used & _POSSESSION:
        return Level.SUBSTANTIAL
    return Level.LOW


def assess(uses: Sequence[MethodUse], *, now: datetime, elevated_lifetime: timedelta) -> Assessment:
    """The session's level now. `uses` must not be empty (a session starts with a sign-in)."""
    if not uses:
        raise ValueError("a browser session has at least one authentication")
    # A password holds for the whole session; what elevates it must be recent.
    fresh = [
        use
        for use in uses
        if not use.method.raises_level or now - use.authenticated_at < elevated_lifetime
    ]
    level = level_of_methods(use.method for use in fresh)
    if level is Level.LOW:
        # What the session rests on at low: its latest use that still counts, or, when only
        # lapsed ones are left (a session begun with a passkey), the latest of those.
        counted = [max(fresh or uses, key=lambda use: use.authenticated_at)]
    else:
        counted = _uses_reaching(fresh, level)
    amr = tuple(dict.fromkeys(value for use in counted for value in use.amr))
    if len({use.method for use in counted}) > 1 or level is Level.HIGH:
        amr = (*amr, "mfa") if "mfa" not in amr else amr
    return Assessment(level=level, amr=amr, auth_time=max(use.authenticated_at for use in counted))


def _uses_reaching(fresh: Sequence[MethodUse], level: Level) -> list[MethodUse]:
    """The latest use of each method needed for `level`, among the fresh ones."""
    if level is Level.HIGH:
        wanted: Iterable[frozenset[AuthenticationMethod]] = [_PHISHING_RESISTANT_MULTI_FACTOR]
    else:
        wanted = [_KNOWLEDGE, _POSSESSION]
    counted = []
    for kind in wanted:
        candidates = [use for use in fresh if use.method in kind]
        counted.append(max(candidates, key=lambda use: use.authenticated_at))
    return sorted(counted, key=lambda use: use.authenticated_at)


def level_reachable_with(enrolled: Iterable[AuthenticationMethod]) -> Level:
    """The highest level a citizen with these methods can reach (a recovery code counts: it is
    the way on for a citizen whose authenticator app is lost)."""
    return level_of_methods(enrolled)


@dataclass(frozen=True)
class AcrVocabulary:
    """The `acr` URI for each level (eIDAS's by default, configurable: IDP_ACR_*)."""

    low: str
    substantial: str
    high: str

    def uri_of(self, level: Level) -> str:
        return {Level.LOW: self.low, Level.SUBSTANTIAL: self.substantial, Level.HIGH: self.high}[
            level
        ]

    def level_of(self, uri: str) -> Level | None:
        return next((level for level in Level if self.uri_of(level) == uri), None)

    def supported(self) -> tuple[str, ...]:
        """Lowest first, for discovery's `acr_values_supported`."""
        return tuple(self.uri_of(level) for level in sorted(Level))


EIDAS = AcrVocabulary(
    low="http://eidas.europa.eu/LoA/low",
    substantial="http://eidas.europa.eu/LoA/substantial",
    high="http://eidas.europa.eu/LoA/high",
)


@dataclass(frozen=True)
class Requirement:
    """The level a request needs. `impossible`: it insists (an essential `acr`) on values none
    of which this gateway knows, so no sign-in can meet it."""

    level: Level
    impossible: bool = False


NO_REQUIREMENT = Requirement(Level.LOW)


def required_level(
    *,
    client_minimum: Level | None,
    acr_values: str | None,
    essential_acr: object,
    voluntary_acr: object,
    vocabulary: AcrVocabulary,
) -> Requirement:
    """The strictest of: the client's registered minimum; the lowest level among those the
    request names, essentially (OIDC Core 5.5.1.1) or by `acr_values`/a voluntary `acr` claim
    (3.1.2.1). Any level named is acceptable, and a higher one satisfies a lower, so the lowest
    named is what must be reached. Values this gateway does not know are passed over; when an
    essential `acr` names only such values, the requirement is impossible."""
    level = Level.LOW
    if client_minimum is not None:
        level = max(level, client_minimum)
    essential = _levels_named(essential_acr, vocabulary)
    if essential is not None:
        if not essential:
            return Requirement(level=max(level, Level.HIGH), impossible=True)
        return Requirement(level=max(level, min(essential)))
    voluntary = [
        *(
            found
            for uri in (acr_values or "").split()
            if (found := vocabulary.level_of(uri)) is not None
        ),
        *(_levels_named(voluntary_acr, vocabulary) or []),
    ]
    if voluntary:
        level = max(level, min(voluntary))
    return Requirement(level=level)


def _levels_named(claim: object, vocabulary: AcrVocabulary) -> list[Level] | None:
    """The known levels a claims-parameter `acr` request names; None when it names none at all
    (no request, or `null`)."""
    if not isinstance(claim, Mapping):
        return None
    values = claim.get("values")
    named = values if isinstance(values, list) else [claim["value"]] if "value" in claim else []
    if not named:
        return None
    return [
        level
        for value in named
        if isinstance(value, str) and (level := vocabulary.level_of(value)) is not None
    ]
