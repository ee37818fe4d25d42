"""Configuration of the core provider: `IDP_*` environment variables, validated at start."""

from __future__ import annotations

import ipaddress
import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from idp.authentication.passwords import check_hash_parameters, configure_password_hashing
from idp.protocol.assurance import EIDAS, AcrVocabulary

LOOPBACK_HOSTS = frozenset({"localhost"})
# Two secrets working side by side is a window for a leaked one: a week is time enough to deploy.
LONGEST_SECRET_OVERLAP = timedelta(days=7)


def _seconds_or_iso(value: Any) -> Any:
    """Environment variables arrive as strings: a bare number means seconds."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


Duration = Annotated[timedelta, BeforeValidator(_seconds_or_iso)]
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address_list(value: Any) -> Any:
    """A JSON list, or addresses and networks separated by commas or spaces."""
    if isinstance(value, str):
        if value.strip().startswith("["):
            return json.loads(value)
        return [item for item in value.replace(",", " ").split() if item]
    return value


# NoDecode: pydantic-settings would read a list variable as JSON only; _address_list reads both.
# A bare address is a network of one; host bits set beside a prefix (a typo) are refused.
NetworkList = Annotated[list[IpNetwork], NoDecode, BeforeValidator(_address_list)]


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and any loopback IP literal (127.0.0.0/8, ::1)."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class IdpSettings(BaseSettings):
    """Every setting of the provider. Durations accept seconds or ISO 8601 (`PT10M`)."""

    model_config = SettingsConfigDict(env_prefix="IDP_", extra="ignore")

    issuer: str = Field(
        default="http://localhost:8000",
        description="The issuer identifier, exactly as agencies configure it. https is required "
        "except on loopback (localhost, 127.0.0.1) for development.",
    )
    database_url: str = Field(
        default="sqlite:///data/idp.db",
        description="SQLAlchemy URL. The embedded default is a SQLite file under ./data, best "
        "served by one gateway process: several on one file work, but each one's requests wait "
        "while another writes. Production uses postgresql+psycopg://...",
    )
    keys_dir: Path = Field(
        default=Path("keys"), description="Folder holding the signing keys and keyring.json."
    )
    authorization_code_lifetime: Duration = Field(
        default=timedelta(seconds=60),
        description="How long an authorization code can be redeemed (RFC 9700: short-lived).",
    )
    access_token_lifetime: Duration = Field(
        default=timedelta(minutes=10), description="Lifetime of JWT access tokens."
    )
    id_token_lifetime: Duration = Field(
        default=timedelta(minutes=5), description="Lifetime of ID tokens."
    )
    refresh_token_lifetime: Duration = Field(
        default=timedelta(hours=12),
        description="Absolute lifetime of a refresh token family, counted from the code "
        "exchange that started it; rotation never extends it.",
    )
    refresh_token_idle_lifetime: Duration = Field(
        default=timedelta(hours=2),
        description="A refresh token not used for this long stops working.",
    )
    session_lifetime: Duration = Field(
        default=timedelta(hours=8), description="Absolute lifetime of a citizen's browser session."
    )
    session_idle_lifetime: Duration = Field(
        default=timedelta(minutes=30),
        description="A browser session unused for this long needs a new sign-in.",
    )
    elevated_level_lifetime: Duration = Field(
        default=timedelta(minutes=15),
        description="A level of assurance above low (a second factor, a passkey) lapses this "
        "long after the method was used, while the session lives on at low: a later request "
        "for the higher level asks for the method again.",
    )
    fresh_sign_in_lifetime: Duration = Field(
        default=timedelta(minutes=5),
        description="Changes to how a citizen signs in (removing a passkey, an authenticator "
        "app) need a sign-in at most this old; an older one is asked for again.",
    )
    acr_low: str = Field(
        default=EIDAS.low,
        min_length=1,
        max_length=128,
        description="The `acr` value for the low level of assurance (a password alone).",
    )
    acr_substantial: str = Field(
        default=EIDAS.substantial,
        min_length=1,
        max_length=128,
        description="The `acr` value for the substantial level (a password and an "
        "authenticator app or a recovery code).",
    )
    acr_high: str = Field(
        default=EIDAS.high,
        min_length=1,
        max_length=128,
        description="The `acr` value for the high level (a passkey with user verification).",
    )
    interaction_lifetime: Duration = Field(
        default=timedelta(minutes=15),
        description="How long a citizen has to finish the sign-in and consent pages. A warning "
        "comes before it ends, and the citizen may ask for this long again.",
    )
    interaction_longest_lifetime: Duration = Field(
        default=timedelta(hours=1),
        description="However often the citizen asks for more time, the sign-in and consent "
        "pages of one request end this long after it started.",
    )
    key_publish_lead: Duration = Field(
        default=timedelta(minutes=10),
        description="A new signing key is published in the JWKS this long before it signs "
        "anything, so relying parties that cache the JWKS already know it.",
    )
    jwks_max_age: Duration = Field(
        default=timedelta(minutes=5),
        description="Cache-Control max-age on the JWKS and discovery documents. "
        "Keep it below key_publish_lead.",
    )
    client_cache_lifetime: Duration = Field(
        default=timedelta(seconds=5),
        description="How long a node reuses a client's registration (every endpoint and page) "
        "before reading it again; a changed or disabled client takes effect within it.",
    )
    client_secret_overlap: Duration = Field(
        default=timedelta(hours=24),
        description="After an operator rotates a client's secret, the replaced secret keeps "
        "working this long (unless the operator gives another overlap), so the agency can "
        "deploy the new one without an outage. At most 7 days; 0 ends it at once.",
    )
    request_threads: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Threads per process that run request work against the database; the "
        "connection pool holds as many connections, so connections are reused, never churned.",
    )
    sign_in_free_attempts: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Consecutive failed sign-ins for one username before each further attempt "
        "has to wait (sign_in_first_delay, then doubling). A browser in which the citizen "
        "signed in before has as many of its own for that account.",
    )
    sign_in_first_delay: Duration = Field(
        default=timedelta(seconds=1),
        description="The wait after the last free attempt; each further failure doubles it.",
    )
    sign_in_max_delay: Duration = Field(
        default=timedelta(minutes=15),
        description="The longest wait the sign-in throttle imposes; nothing is locked for good.",
    )
    sign_in_device_lifetime: Duration = Field(
        default=timedelta(days=365),
        description="How long the cookie that gives a browser its own sign-in allowance for an "
        "account lasts; every successful sign-in in that browser renews it.",
    )
    sign_in_source_attempts: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="Sign-in attempts that may fail from one source address (IPv6: its /64) "
        "within sign_in_source_window, refilled steadily; attempts from a browser with its own "
        "allowance for the account are not counted.",
    )
    sign_in_source_window: Duration = Field(
        default=timedelta(minutes=15),
        description="The window of sign_in_source_attempts.",
    )
    activation_code_lifetime: Duration = Field(
        default=timedelta(hours=72),
        description="How long an activation code that support gives a citizen (to set a new "
        "password at /account/activate) can be used. Issuing a new code replaces the old one.",
    )
    trusted_proxies: NetworkList = Field(
        default_factory=list,
        description="Addresses or networks of the reverse proxies in front of the gateway "
        "(JSON list or comma-separated). Only a request from one of them has its source "
        "address taken from X-Forwarded-For: the right-most address that is not a trusted "
        "proxy. Empty: the direct peer is the source.",
    )
    password_hash_memory: int = Field(
        default=47104,
        description="argon2id memory per password hash, in KiB (46 MiB by default, OWASP's "
        "first profile: ADR 0017). With the passes, never below OWASP's minimum (19 MiB x 2).",
    )
    password_hash_iterations: int = Field(default=1, description="argon2id passes over memory.")
    password_hash_parallelism: int = Field(default=1, description="argon2id lanes.")
    password_hash_workers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Threads per process that may run argon2id at once; bounds the CPU spent "
        "on sign-in (each of `idp serve --workers N` has its own).",
    )
    enable_api_docs: bool = Field(
        default=False, description="Serve /docs and /openapi.json (development only)."
    )
    open_data_min_count: int = Field(
        default=10,
        ge=2,
        le=1000,
        description="The smallest count the public open data pages (/open-data/) show. A "
        'smaller daily count of sign-ins or consents is published as suppressed ("fewer than '
        'N"), and so is the next smallest count of the same day where one suppressed count '
        "could otherwise be worked out from the day's total, so no one can be singled out.",
    )

    logout_delivery_interval: Duration = Field(
        default=timedelta(seconds=2),
        description="How often each gateway process looks for back-channel logout tokens that "
        "are due and sessions that have expired. A sign-out on a process wakes it at once.",
    )
    logout_retry_first: Duration = Field(
        default=timedelta(seconds=5),
        description="The wait before the second attempt at a logout token an app did not "
        "accept; each later wait doubles, up to logout_retry_longest.",
    )
    logout_retry_longest: Duration = Field(
        default=timedelta(minutes=30), description="The longest wait between two attempts."
    )
    logout_give_up_after: Duration = Field(
        default=timedelta(hours=24),
        description="How long after the sign-out the gateway keeps trying to deliver a logout "
        "token; then it is given up, which the access log and `idp logout deliveries` show.",
    )
    logout_delivery_timeout: Duration = Field(
        default=timedelta(seconds=5),
        description="How long one delivery may take (connect and answer) before it counts as "
        "failed.",
    )

    def configure_password_hashing(self) -> None:
        """Make this process hash passwords with IDP_PASSWORD_HASH_*."""
        configure_password_hashing(
            memory_kib=self.password_hash_memory,
            iterations=self.password_hash_iterations,
            parallelism=self.password_hash_parallelism,
        )

    @property
    def acr_vocabulary(self) -> AcrVocabulary:
        return AcrVocabulary(low=self.acr_low, substantial=self.acr_substantial, high=self.acr_high)

    @field_validator("issuer")
    @classmethod
    def _issuer_is_https_or_loopback(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("IDP_ISSUER must be an absolute https URL")
        if parts.query or parts.fragment:
            raise ValueError("IDP_ISSUER must not have a query or fragment (OIDC Discovery 4.1)")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise ValueError(
                "IDP_ISSUER must use https; http is accepted only on localhost/127.0.0.1"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _lifetimes_are_sane(self) -> IdpSettings:
        if not timedelta(seconds=1) <= self.authorization_code_lifetime <= timedelta(minutes=10):
            raise ValueError("IDP_AUTHORIZATION_CODE_LIFETIME must be between 1 s and 10 min")
        if self.refresh_token_idle_lifetime > self.refresh_token_lifetime:
            raise ValueError("refresh_token_idle_lifetime cannot exceed refresh_token_lifetime")
        if self.session_idle_lifetime > self.session_lifetime:
            raise ValueError("session_idle_lifetime cannot exceed session_lifetime")
        if self.jwks_max_age >= self.key_publish_lead:
            raise ValueError(
                "jwks_max_age must be shorter than key_publish_lead, or relying "
                "parties may not know a new key when it starts signing"
            )
        check_hash_parameters(
            memory_kib=self.password_hash_memory,
            iterations=self.password_hash_iterations,
            parallelism=self.password_hash_parallelism,
        )
        if len({self.acr_low, self.acr_substantial, self.acr_high}) != 3:
            raise ValueError("IDP_ACR_LOW, IDP_ACR_SUBSTANTIAL and IDP_ACR_HIGH must differ")
        if self.interaction_longest_lifetime < self.interaction_lifetime:
            raise ValueError("interaction_longest_lifetime must be at least interaction_lifetime")
        if not timedelta(0) <= self.client_secret_overlap <= LONGEST_SECRET_OVERLAP:
            raise ValueError("client_secret_overlap must be between 0 and 7 days")
        if not timedelta(0) < self.sign_in_first_delay <= self.sign_in_max_delay:
            raise ValueError("sign_in_first_delay must be positive and at most sign_in_max_delay")
        if not timedelta(0) < self.logout_retry_first <= self.logout_retry_longest:
            raise ValueError("logout_retry_first must be positive and at most logout_retry_longest")
        if not timedelta(0) < self.logout_delivery_timeout <= timedelta(seconds=60):
            raise ValueError("logout_delivery_timeout must be between 0 and 60 seconds")
        for name in (
            "access_token_lifetime",
            "id_token_lifetime",
            "interaction_lifetime",
            "sign_in_device_lifetime",
            "sign_in_source_window",
            "activation_code_lifetime",
            "logout_delivery_interval",
            "logout_give_up_after",
            "elevated_level_lifetime",
            "fresh_sign_in_lifetime",
        ):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be positive")
        return self

    @property
    def is_https(self) -> bool:
        return self.issuer.startswith("https://")

    @property
    def longest_token_lifetime(self) -> timedelta:
        """How long a retired key must stay published: every token it signed has expired by then."""
        return max(self.access_token_lifetime, self.id_token_lifetime)

    def endpoint(self, path: str) -> str:
        return f"{self.issuer}{path}"
