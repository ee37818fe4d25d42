"""The citizen's own view of their consents, and withdrawing one.

Withdrawing ends the agency's access at once: the consent is marked withdrawn (the next request
asks again) and every token the agency holds for the citizen is revoked, as Keycloak's "revoke
grant" does. Both happen in one transaction with the log entry that records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consent.records import find_consent, hold_consent_for_withdrawal, live_consents_with_clients
from idp import events
from idp.models import Account
from idp.oauth.context import OperationContext
from idp.oauth.tokens import revoke_client_access
from idp.protocol.claims import SCOPE_DESCRIPTIONS
from idp.protocol.languages import translatable


@dataclass(frozen=True)
class SharedWith:
    """One agency the citizen currently shares data with."""

    client_id: str
    agency: str
    purpose: str | None
    data_items: list[str]
    since: datetime
    updated: datetime


def shared_with(ctx: OperationContext, account: Account) -> list[SharedWith]:
    """The agencies this citizen's live consents name, oldest first, in one query (a disabled
    agency is still listed: its consent can still be withdrawn)."""
    rows = live_consents_with_clients(ctx.session, account_id=account.id)
    return [
        SharedWith(
            client_id=record.client_id,
            agency=client.name if client else "An application no longer registered",
            purpose=client.purpose if client else None,
            data_items=_described(record.scopes),
            since=record.granted_at,
            updated=record.updated_at,
        )
        for record, client in rows
    ]


@dataclass(frozen=True)
class Look:
    """Someone who looked at the citizen's data, as the account page tells it."""

    when: datetime
    who: str  # an administrator's name at the command line, or an administrators' client's
    by_client: bool
    what: str  # a catalogue message
    reason: str | None  # as the administrator gave it


LOOKS_SHOWN = 20
# What each kind of look saw, in the citizen's words.
LOOKED_AT = {
    events.EventType.ACCOUNT_READ: translatable("Your account details"),
    events.EventType.ACCESS_LOG_SEARCHED: translatable(
        "The record of your sign-ins and of who received your information"
    ),
    events.EventType.ACCOUNT_HISTORY_READ: translatable(
        "The record of your sign-ins and of who received your information"
    ),
    events.EventType.ACCESS_LOG_ENTRY_READ: translatable("One entry of that record"),
    events.EventType.ACCESS_LOG_REVIEW_EXPORTED: translatable("A copy of that record"),
}


def who_looked(ctx: OperationContext, account: Account) -> list[Look]:
    """The latest looks at this citizen's data by administrators and their clients, newest
    first, from the access log (so none can be left out without the log showing it)."""
    looks = ctx.provider.access_log.looks_at(ctx.session, account.subject, limit=LOOKS_SHOWN)
    shown = []
    for look in looks:
        if look.actor_type == "client":
            client = ctx.registered_client(look.client_id) if look.client_id else None
            who = client.name if client else (look.client_id or "")
        else:
            who = look.actor_id or ""
        shown.append(
            Look(
                when=look.occurred_at,
                who=who,
                by_client=look.actor_type == "client",
                what=LOOKED_AT.get(events.EventType(look.event_type), ""),
                reason=look.reason,
            )
        )
    return shown


def _described(scopes: list[str]) -> list[str]:
    return [SCOPE_DESCRIPTIONS[scope] for scope in scopes if scope in SCOPE_DESCRIPTIONS]


def withdraw_consent(ctx: OperationContext, account: Account, client_id: str) -> bool:
    """Withdraw the citizen's consent for one agency; False when there is none to withdraw."""
    # FOR UPDATE first, before any code or token row: a token request under way holds the
    # consent (FOR SHARE) until it commits, so the revocation below sees every token it issued;
    # one that comes later reads the consent withdrawn. Consent first, then codes and tokens, on
    # both paths: no deadlock.
    record = hold_consent_for_withdrawal(ctx.session, account_id=account.id, client_id=client_id)
    if record is None or record.withdrawn_at is not None:
        return False
    record.withdrawn_at = ctx.now
    record.updated_at = ctx.now
    revoked = revoke_client_access(ctx, account_id=account.id, client_id=client_id)
    ctx.record(
        events.consent_withdrawn(
            subject=account.subject,
            client_id=client_id,
            scopes=list(record.scopes),
            tokens_revoked=revoked,
        )
    )
    return True


def was_withdrawn(ctx: OperationContext, account: Account, client_id: str) -> str | None:
    """The agency's name when this citizen's consent for it stands withdrawn."""
    record = find_consent(ctx.session, account_id=account.id, client_id=client_id)
    if record is None or record.withdrawn_at is None:
        return None
    client = ctx.registered_client(client_id)
    return client.name if client else None
