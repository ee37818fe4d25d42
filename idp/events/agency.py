"""The agencies' events (the client is the actor): tokens, userinfo, replays."""

from __future__ import annotations

from idp.events.kinds import Event, EventType

# The agency (client): it is the actor of every call it makes.


def token_issued(
    *,
    client_id: str,
    subject: str | None,
    grant_type: str,
    scope: str,
    refresh_token: bool,
    claims_released: tuple[str, ...],
    purpose: str | None,
) -> Event:
    return Event(
        EventType.TOKEN_ISSUED,
        "client",
        client_id,
        "success",
        client_id=client_id,
        subject=subject,
        claims_released=claims_released,
        purpose=purpose,
        detail={"grant_type": grant_type, "scope": scope, "refresh_token": refresh_token},
    )


def token_refreshed(
    *,
    client_id: str,
    subject: str | None,
    scope: str,
    refresh_token: bool,
    claims_released: tuple[str, ...],
    purpose: str | None,
) -> Event:
    return Event(
        EventType.TOKEN_REFRESHED,
        "client",
        client_id,
        "success",
        client_id=client_id,
        subject=subject,
        claims_released=claims_released,
        purpose=purpose,
        detail={"grant_type": "refresh_token", "scope": scope, "refresh_token": refresh_token},
    )


def token_introspected(
    *, client_id: str, subject: str | None, claims_released: tuple[str, ...], purpose: str | None
) -> Event:
    return Event(
        EventType.TOKEN_INTROSPECTED,
        "client",
        client_id,
        "success",
        client_id=client_id,
        subject=subject,
        claims_released=claims_released,
        purpose=purpose,
    )


def token_revoked(*, client_id: str, token_type: str, tokens_revoked: int) -> Event:
    return Event(
        EventType.TOKEN_REVOKED,
        "client",
        client_id,
        "success",
        client_id=client_id,
        detail={"token_type": token_type, "tokens_revoked": tokens_revoked},
    )


def userinfo_answered(
    *, client_id: str, subject: str, claims_released: tuple[str, ...], purpose: str | None
) -> Event:
    return Event(
        EventType.USERINFO_ANSWERED,
        "client",
        client_id,
        "success",
        client_id=client_id,
        subject=subject,
        claims_released=claims_released,
        purpose=purpose,
    )


def authorization_code_replayed(*, client_id: str, tokens_revoked: int) -> Event:
    return _replayed(EventType.AUTHORIZATION_CODE_REPLAYED, client_id, tokens_revoked)


def refresh_token_replayed(*, client_id: str, tokens_revoked: int) -> Event:
    return _replayed(EventType.REFRESH_TOKEN_REPLAYED, client_id, tokens_revoked)


def _replayed(event_type: EventType, client_id: str, tokens_revoked: int) -> Event:
    return Event(
        event_type,
        "client",
        client_id,
        "failure",
        client_id=client_id,
        detail={"tokens_revoked": tokens_revoked},
    )
