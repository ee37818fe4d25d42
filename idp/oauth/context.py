"""What a protocol operation needs: long-lived provider parts plus the request's unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from idp.clients import ClientCache
from idp.keys.keyring import Keyring
from idp.ports import AccessEvent, AccessLog, ConsentRecords
from idp.settings import IdpSettings


@dataclass(frozen=True)
class Provider:
    """Everything that lives as long as the process."""

    settings: IdpSettings
    keyring: Keyring
    access_log: AccessLog
    consent: ConsentRecords
    clock: Callable[[], datetime]
    clients: ClientCache


@dataclass
class OperationContext:
    """One request: its unit of work and who sent it."""

    provider: Provider
    session: Session
    request_id: str
    source_address: str | None
    now: datetime

    @property
    def settings(self) -> IdpSettings:
        return self.provider.settings

    def record(self, event_type: str, **fields: object) -> None:
        """Log an access event in this request's transaction."""
        event = AccessEvent(
            event_type=event_type,
            occurred_at=self.now,
            request_id=self.request_id,
            source_address=self.source_address,
            **fields,  # type: ignore[arg-type]
        )
        self.provider.access_log.record(self.session, event)
