"""Which claims each scope releases, how they read to a citizen, and how the `claims` request
parameter (OIDC Core 5.5) adds to them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from idp.protocol.languages import translatable

NATIONAL_ID_SCOPE = "national_id"

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": ("name", "given_name", "family_name", "birthdate", "updated_at"),
    "email": ("email", "email_verified"),
    NATIONAL_ID_SCOPE: ("national_id",),
}
SUPPORTED_SCOPES = tuple(SCOPE_CLAIMS)
# The administrators' API (admin/): one scope per role, by client credentials only. They release
# no claims, and discovery does not list them: no agency is offered them.
ADMIN_API_SCOPES = ("admin:audit", "admin:operate", "admin:support", "admin:security")
SUPPORTED_CLAIMS = tuple(dict.fromkeys(c for claims in SCOPE_CLAIMS.values() for c in claims))

# What the consent and account pages say, in plain words, for each scope.
SCOPE_DESCRIPTIONS = {
    "openid": translatable("That you have signed in, and the identifier the gateway gives you"),
    "profile": translatable("Your name and date of birth"),
    "email": translatable("Your email address"),
    NATIONAL_ID_SCOPE: translatable("Your national identification number"),
}


class InvalidClaimsRequest(ValueError):
    """The `claims` parameter is not the JSON object OIDC Core 5.5 describes."""


@dataclass(frozen=True)
class ClaimsRequest:
    """Claims asked for individually, per destination. `None` values mean "no particular value"."""

    id_token: Mapping[str, Any]
    userinfo: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id_token": dict(self.id_token), "userinfo": dict(self.userinfo)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ClaimsRequest:
        data = data or {}
        return cls(id_token=data.get("id_token", {}), userinfo=data.get("userinfo", {}))

    def essential(self, claim: str) -> Mapping[str, Any] | None:
        for member in (self.id_token, self.userinfo):
            spec = member.get(claim)
            if isinstance(spec, dict) and spec.get("essential"):
                return spec
        return None


def parse_claims_request(raw: str | None) -> ClaimsRequest:
    if not raw:
        return ClaimsRequest(id_token={}, userinfo={})
    if len(raw) > 8192:
        raise InvalidClaimsRequest("claims parameter too large")
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise InvalidClaimsRequest("claims is not valid JSON") from error
    if not isinstance(data, dict):
        raise InvalidClaimsRequest("claims must be a JSON object")
    result: dict[str, dict[str, Any]] = {}
    for member in ("id_token", "userinfo"):
        requested = data.get(member, {})
        if requested is None:
            requested = {}
        if not isinstance(requested, dict):
            raise InvalidClaimsRequest(f"claims.{member} must be an object")
        cleaned: dict[str, Any] = {}
        for name, spec in requested.items():
            if spec is not None and not isinstance(spec, dict):
                raise InvalidClaimsRequest(f"claims.{member}.{name} must be null or an object")
            cleaned[str(name)] = spec
        result[member] = cleaned
    return ClaimsRequest(id_token=result["id_token"], userinfo=result["userinfo"])


def claims_for_scopes(scopes: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for scope in scopes:
        names.update(SCOPE_CLAIMS.get(scope, ()))
    return names


def scope_for_claim(claim: str) -> str | None:
    for scope, names in SCOPE_CLAIMS.items():
        if claim in names:
            return scope
    return None


@dataclass(frozen=True)
class Person:
    """The claim values the provider knows about a citizen."""

    subject: str
    given_name: str | None
    family_name: str | None
    email: str | None
    email_verified: bool
    birthdate: date | None
    national_id: str | None
    updated_at: datetime

    @classmethod
    def read_from(cls, source: Any, *, prefix: str = "") -> Person:
        """The person held by `source`: an account, or a query row whose columns carry the
        field names after `prefix`. One constructor for both, so a new field is read everywhere."""
        return cls(**{name: getattr(source, prefix + name) for name in PERSON_FIELDS})

    def claim_values(self) -> dict[str, Any]:
        name = " ".join(p for p in (self.given_name, self.family_name) if p) or None
        values: dict[str, Any] = {
            "sub": self.subject,
            "name": name,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "birthdate": self.birthdate.isoformat() if self.birthdate else None,
            "updated_at": int(self.updated_at.timestamp()),
            "email": self.email,
            "email_verified": self.email_verified if self.email else None,
            "national_id": self.national_id,
        }
        return {k: v for k, v in values.items() if v is not None}


PERSON_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(Person))


def release_claims(
    person: Person, *, granted_scopes: Iterable[str], requested: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The claims one may release: those of granted scopes, plus individually requested claims
    whose scope was granted too (a `claims` request never widens what the citizen consented to)."""
    granted = set(granted_scopes)
    allowed = claims_for_scopes(granted)
    names = set(allowed) if requested is None else {"sub"}
    if requested:
        names.update(n for n in requested if n in allowed)
    values = person.claim_values()
    return {name: values[name] for name in sorted(names) if name in values}


def userinfo_claims(
    person: Person, *, granted_scopes: Iterable[str], claims_request: ClaimsRequest
) -> dict[str, Any]:
    """Userinfo returns every claim of the granted scopes and those asked for in `claims`."""
    base = release_claims(person, granted_scopes=granted_scopes)
    extra = release_claims(person, granted_scopes=granted_scopes, requested=claims_request.userinfo)
    return {**base, **extra}


def scopes_needed_for_claims(claims_request: ClaimsRequest) -> set[str]:
    """Scopes the citizen must consent to so the individually requested claims can be released."""
    needed = set()
    for member in (claims_request.id_token, claims_request.userinfo):
        for name in member:
            scope = scope_for_claim(name)
            if scope:
                needed.add(scope)
    return needed
