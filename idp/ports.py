"""What the core provider needs from other packages, stated as Protocols.

`consent/` (`ConsentRecords`) and `transparency/` (`AccessLog`) implement them; the composition
root passes the implementations in. The core never imports them, so the dependency points one
way (enforced by import-linter).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class AccessEvent:
    """One entry for the access log. Never carries a password, code, token or secret."""

    event_type: str
    occurred_at: datetime
    actor_type: str  # "account", "client", "admin" or "system"
    actor_id: str | None
    outcome: str  # "success" or "failure"
    client_id: str | None = None
    request_id: str | None = None
    source_address: str | None = None
    subject: str | None = None
    claims_released: tuple[str, ...] = ()
    purpose: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AdministratorLook:
    """An administrator, or an administrators' client, looking at one citizen's data."""

    occurred_at: datetime
    event_type: str
    actor_type: str  # "admin" at the command line, "client" through the admin API
    actor_id: str | None
    client_id: str | None
    reason: str | None = None  # why, in the administrator's words, where one was asked


class AccessLog(Protocol):
    """Records events in the same transaction as the act they describe."""

    def record(self, session: Session, event: AccessEvent) -> None:
        """Add `event` to the unit of work `session`; it commits or rolls back with the act."""

    def looks_at(self, session: Session, subject: str, *, limit: int) -> list[AdministratorLook]:
        """The latest looks at the data of the citizen `subject`, newest first (sealed entries
        of the kinds in idp.events.ADMINISTRATOR_LOOKS)."""


class ConsentRecords(Protocol):
    """The citizen's decisions about which agency may receive which data."""

    def granted_scopes(
        self, session: Session, *, account_id: int, client_id: str
    ) -> frozenset[str]:
        """Scopes the account currently allows the client (empty if none or withdrawn)."""

    def hold_granted_scopes(
        self, session: Session, *, account_id: int, client_id: str
    ) -> frozenset[str]:
        """The scopes granted now, with the consent held (a shared row lock) until `session`'s
        transaction ends: a withdrawal waits for the tokens this transaction issues and then
        revokes them, or commits first and this reads it withdrawn. Called before issuing
        tokens and before any other row is locked, so the lock order is always consent first."""

    def record_consent(
        self,
        session: Session,
        *,
        account_id: int,
        client_id: str,
        scopes: Iterable[str],
        now: datetime,
    ) -> None:
        """Remember that the account allowed `scopes` to the client, adding to earlier grants."""
