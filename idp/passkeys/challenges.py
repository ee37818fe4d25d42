"""The challenges of passkey ceremonies, kept on the server (WebAuthn 13.4.3): random, short-
lived, single-use, and only for the browser they were given to. Functions never commit.

A challenge is claimed by a conditional DELETE whose WHERE clause names its handle, purpose,
binding and expiry: of two posts of one answer at once exactly one deletes the row, and a claim
that fails (used, expired, another browser's or another interaction's) leaves nothing to retry.
It is claimed before the answer is verified, so a refused answer uses it up too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from idp.models import Interaction
from idp.oauth.context import OperationContext
from idp.opaque_values import new_opaque_value
from idp.passkeys.ceremonies import CEREMONY_TIMEOUT_MS
from idp.passkeys.models import PasskeyChallenge

CHALLENGE_LIFETIME = timedelta(milliseconds=CEREMONY_TIMEOUT_MS)


class Purpose(StrEnum):
    REGISTRATION = "registration"
    SIGN_IN = "sign_in"
    STEP_UP = "step_up"


@dataclass(frozen=True)
class Binding:
    """Whose a challenge is: the interaction (sign-in, step-up), the browser session
    (registration, step-up), and the account it is for (None: whoever's passkey answers)."""

    interaction_id: int | None = None
    browser_session_id: int | None = None
    account_id: int | None = None

    @classmethod
    def of_interaction(cls, interaction: Interaction, **more: int | None) -> Binding:
        return cls(interaction_id=interaction.id, **more)


@dataclass(frozen=True)
class Claimed:
    challenge: bytes
    account_id: int | None


def issue_challenge(
    ctx: OperationContext, purpose: Purpose, binding: Binding, challenge: bytes
) -> str:
    """Keeps `challenge` for one answer; returns the handle the answer must name. Earlier
    challenges of the same binding and purpose stop working (the page asked again)."""
    _sweep(ctx.session, purpose, binding, ctx)
    handle = new_opaque_value(24)
    ctx.session.add(
        PasskeyChallenge(
            handle=handle,
            purpose=purpose.value,
            challenge=challenge,
            interaction_id=binding.interaction_id,
            browser_session_id=binding.browser_session_id,
            account_id=binding.account_id,
            created_at=ctx.now,
            expires_at=ctx.now + CHALLENGE_LIFETIME,
        )
    )
    ctx.session.flush()
    return handle


def claim_challenge(
    ctx: OperationContext, purpose: Purpose, binding: Binding, handle: str
) -> Claimed | None:
    """The challenge `handle`, used up; None when it is not live, not this binding's (its
    interaction and browser session must be the ones it was issued to), or already claimed."""
    if not handle or len(handle) > 64:
        return None
    where = [
        PasskeyChallenge.handle == handle,
        PasskeyChallenge.purpose == purpose.value,
        PasskeyChallenge.expires_at > ctx.now,
        _is(PasskeyChallenge.interaction_id, binding.interaction_id),
        _is(PasskeyChallenge.browser_session_id, binding.browser_session_id),
    ]
    row = ctx.session.execute(
        select(PasskeyChallenge.id, PasskeyChallenge.challenge, PasskeyChallenge.account_id).where(
            *where
        )
    ).first()
    if row is None:
        return None
    claimed = ctx.session.execute(
        delete(PasskeyChallenge)
        .where(PasskeyChallenge.id == row.id, *where)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        return None  # another request claimed it between the two statements
    return Claimed(challenge=row.challenge, account_id=row.account_id)


def _is(column: InstrumentedAttribute[int | None], value: int | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _sweep(session: Session, purpose: Purpose, binding: Binding, ctx: OperationContext) -> None:
    """Expired challenges of anyone, and this binding's earlier ones of this purpose."""
    session.execute(
        delete(PasskeyChallenge)
        .where(PasskeyChallenge.expires_at <= ctx.now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(PasskeyChallenge)
        .where(
            PasskeyChallenge.purpose == purpose.value,
            _is(PasskeyChallenge.interaction_id, binding.interaction_id),
            _is(PasskeyChallenge.browser_session_id, binding.browser_session_id),
        )
        .execution_options(synchronize_session=False)
    )
