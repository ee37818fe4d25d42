"""Configuration of the administrator console: `IDP_ADMIN_*` environment variables."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from idp.settings import Duration  # seconds or ISO 8601, as every IDP_* duration


class ConsoleSettings(BaseSettings):
    """Where the console is reached and how long an administrator's session lasts."""

    model_config = SettingsConfigDict(env_prefix="IDP_ADMIN_", extra="ignore")

    console_url: str = Field(
        default="",
        max_length=200,
        description="The console's address as administrators' browsers reach it, ending in "
        "`/admin` (its sign-in returns there). Empty: the issuer followed by `/admin`, or with "
        "`idp serve --admin-port P` that port on the issuer's host.",
    )
    port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Set by `idp serve --admin-port P`: the console and the admin API answer "
        "only on this listener, and the public listener answers 404 under `/admin`.",
    )
    session_idle_lifetime: Duration = Field(
        default=timedelta(minutes=15),
        gt=timedelta(0),
        le=timedelta(hours=2),
        description="A console session ends after this long without a request.",
    )
    session_lifetime: Duration = Field(
        default=timedelta(hours=8),
        gt=timedelta(0),
        le=timedelta(hours=24),
        description="A console session ends this long after sign-in, however active.",
    )
    fresh_sign_in_lifetime: Duration = Field(
        default=timedelta(minutes=5),
        gt=timedelta(0),
        le=timedelta(hours=1),
        description="Sensitive actions (rotating keys or secrets, granting roles, opening a "
        "citizen's record) need a sign-in at most this old; an older one is asked again, with "
        "`max_age` at the gateway's authorization endpoint.",
    )

    minimum_level: Literal["low", "substantial", "high"] = Field(
        default="substantial",
        description="The lowest level of assurance an administrator's sign-in must reach: "
        "`substantial` (a password and an authenticator app) or `high` (a passkey). The gateway "
        "asks a weaker session to step up, and the console checks the ID token's `acr`.",
    )

    @model_validator(mode="after")
    def _idle_within_absolute(self) -> ConsoleSettings:
        if self.session_idle_lifetime > self.session_lifetime:
            raise ValueError("IDP_ADMIN_SESSION_IDLE_LIFETIME exceeds IDP_ADMIN_SESSION_LIFETIME")
        if self.console_url and not self.console_url.rstrip("/").endswith("/admin"):
            raise ValueError("IDP_ADMIN_CONSOLE_URL must end in /admin")
        return self

    def console_base(self, issuer: str) -> str:
        """The console's absolute address, without a trailing slash."""
        return (self.console_url or f"{issuer.rstrip('/')}/admin").rstrip("/")
