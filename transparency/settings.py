"""Configuration of the access log: `IDP_LOG_*` environment variables, validated at start."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AccessLogSettings(BaseSettings):
    """How often the log's tree grows and is signed."""

    model_config = SettingsConfigDict(env_prefix="IDP_LOG_", extra="ignore")

    sequence_interval: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Seconds between sequencer turns: new entries get their place in the Merkle "
        "tree and a new checkpoint is signed. Each gateway process runs one; they take turns. "
        "`idp audit verify` accepts entries after the newest checkpoint (as not yet signed) only "
        "while that checkpoint is at most 3 intervals old.",
    )
    retention: dict[str, timedelta] = Field(
        default_factory=dict,
        description="How long entries keep their content, per event type, as JSON "
        '(`{"userinfo.answered": "P400D", "default": "P3650D"}`). After that `idp audit prune` '
        "keeps only an entry's hashes, time and type, so every proof still verifies. Types "
        "without a period (and no default) are kept in full.",
    )
    batch_size: int = Field(
        # Small, because on SQLite a batch is placed under the database's one write lock, which
        # every request's commit waits for; a checkpoint per 250 entries costs little (ADR 0025).
        default=250,
        ge=1,
        le=1_000_000,
        description="Entries placed in the tree per transaction by the sequencer; each "
        "transaction signs a checkpoint.",
    )
