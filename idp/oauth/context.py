"""What a protocol operation needs: long-lived provider parts plus the request's unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from idp.clients import ClientCache
from idp.events import Event
from idp.keys.keyring import Keyring
from idp.keys.sealing import Sealer
from idp.keys.verified_signatures import VerifiedSignatures
from idp.models import Client
from idp.ports import AccessLog, ConsentRecords
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
    # Opens what is stored sealed (authenticator apps' secrets): idp.keys.sealing.
    sealer: Sealer
    # Tokens whose signature this process has checked (ADR 0029).
    verified_signatures: VerifiedSignatures = field(default_factory=VerifiedSignatures)


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

    def registered_client(self, client_id: str) -> Client | None:
        """The enabled client registered as `client_id`, read again after the node's client
        cache lifetime (`IDP_CLIENT_CACHE_LIFETIME`): a read-only, detached row."""
        return self.provider.clients.find(self.session, client_id, now=self.now)

    def record(self, event: Event) -> None:
        """Log an access event in this request's transaction, at this request's time."""
        self.provider.access_log.record(
            self.session,
            event.occurred(
                self.now, request_id=self.request_id, source_address=self.source_address
            ),
        )
