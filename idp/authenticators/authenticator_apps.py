"""A citizen's authenticator app: setting one up (a new secret, confirmed by its first code),
using its codes once each, and removing it. Functions never commit.

Setting up keeps the new secret in a row of its own ("pending") until the citizen types a
code from the app, so a half-finished setup never replaces a working app; the confirmed row
is replaced only then. Reloading the setup page shows the same secret for PENDING_LIFETIME, so a
citizen who scanned it and then reloaded can still confirm.

A code is accepted once: its RFC 6238 time step must be later than the last one accepted, and
the UPDATE that records it says so in its WHERE clause, so two posts of one code at once (two
tabs, a relayed phishing page) cannot both pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum, auto

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from idp.authenticators.models import AuthenticatorApp
from idp.authenticators.totp import grouped_secret, matching_step, new_secret, provisioning_uri
from idp.models import Account
from idp.oauth.context import OperationContext

PENDING = "pending"
CONFIRMED = "confirmed"
PENDING_LIFETIME = timedelta(minutes=30)
# How the app names the account: the gateway, then the citizen's username.
ISSUER_NAME = "Citizen sign-in"


@dataclass(frozen=True)
class Setup:
    """What the setup page shows: the secret to type in and the URI its QR code carries."""

    secret: str
    grouped_secret: str
    uri: str


class CodeVerdict(Enum):
    ACCEPTED = auto()
    WRONG = auto()  # not the app's code now (or no app)
    ALREADY_USED = auto()  # the app's code, but for a step already used


def _context(account: Account) -> str:
    # Binds the sealed secret to its account: copied into another row, it does not open.
    return f"authenticator-app:{account.subject}"


def has_authenticator_app(session: Session, account: Account) -> bool:
    """Only a confirmed app counts (idp.authentication.assurance.enrolled_methods)."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    AuthenticatorApp.account_id == account.id,
                    AuthenticatorApp.state == CONFIRMED,
                )
            )
        )
    )


def confirmed_app(session: Session, account: Account) -> AuthenticatorApp | None:
    return session.scalar(
        select(AuthenticatorApp).where(
            AuthenticatorApp.account_id == account.id, AuthenticatorApp.state == CONFIRMED
        )
    )


def pending_setup(ctx: OperationContext, account: Account) -> Setup:
    """The setup the citizen is in the middle of, or a new one with a new secret."""
    pending = _pending(ctx.session, account)
    if pending is not None and ctx.now - pending.created_at < PENDING_LIFETIME:
        secret = ctx.provider.sealer.open(pending.sealed_secret, context=_context(account)).decode()
    else:
        if pending is not None:
            ctx.session.delete(pending)
            ctx.session.flush()
        secret = new_secret()
        ctx.session.add(
            AuthenticatorApp(
                account_id=account.id,
                state=PENDING,
                sealed_secret=ctx.provider.sealer.seal(secret.encode(), context=_context(account)),
                created_at=ctx.now,
            )
        )
        ctx.session.flush()
    return Setup(
        secret=secret,
        grouped_secret=grouped_secret(secret),
        uri=provisioning_uri(secret, account_name=account.username, issuer_name=ISSUER_NAME),
    )


@dataclass(frozen=True)
class Confirmed:
    replaced: bool  # the account had an app before, which stops working now


def confirm_setup(ctx: OperationContext, account: Account, code: str) -> Confirmed | None:
    """The citizen typed the app's first code: the app is the account's from now on (the one
    before it, if any, stops working). None when the code is not right or there is no live
    setup. The first code counts as used."""
    pending = _pending(ctx.session, account, lock=True)
    if pending is None or ctx.now - pending.created_at >= PENDING_LIFETIME:
        return None
    secret = ctx.provider.sealer.open(pending.sealed_secret, context=_context(account)).decode()
    step = matching_step(secret, code, at=ctx.now)
    if step is None:
        return None
    replaced = ctx.session.execute(
        delete(AuthenticatorApp).where(
            AuthenticatorApp.account_id == account.id, AuthenticatorApp.state == CONFIRMED
        )
    ).rowcount  # type: ignore[attr-defined]
    pending.state = CONFIRMED
    pending.confirmed_at = ctx.now
    pending.last_used_step = step
    pending.last_used_at = ctx.now
    ctx.session.flush()
    return Confirmed(replaced=bool(replaced))


def use_code(ctx: OperationContext, account: Account, code: str) -> CodeVerdict:
    """A code of the account's app, used up if it is right and not used before."""
    app = confirmed_app(ctx.session, account)
    if app is None:
        return CodeVerdict.WRONG
    secret = ctx.provider.sealer.open(app.sealed_secret, context=_context(account)).decode()
    step = matching_step(secret, code, at=ctx.now)
    if step is None:
        return CodeVerdict.WRONG
    recorded = ctx.session.execute(
        update(AuthenticatorApp)
        .where(
            AuthenticatorApp.id == app.id,
            AuthenticatorApp.state == CONFIRMED,
            or_(AuthenticatorApp.last_used_step.is_(None), AuthenticatorApp.last_used_step < step),
        )
        .values(last_used_step=step, last_used_at=ctx.now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return CodeVerdict.ACCEPTED if recorded == 1 else CodeVerdict.ALREADY_USED


def remove_authenticator_app(session: Session, account: Account) -> bool:
    """The account's app, and any setup under way, stop working; True when it had one."""
    removed = session.execute(
        delete(AuthenticatorApp).where(
            AuthenticatorApp.account_id == account.id, AuthenticatorApp.state == CONFIRMED
        )
    ).rowcount  # type: ignore[attr-defined]
    session.execute(delete(AuthenticatorApp).where(AuthenticatorApp.account_id == account.id))
    return bool(removed)


def _pending(session: Session, account: Account, *, lock: bool = False) -> AuthenticatorApp | None:
    query = select(AuthenticatorApp).where(
        AuthenticatorApp.account_id == account.id, AuthenticatorApp.state == PENDING
    )
    if lock:
        # Two confirmations at once: the second waits, then finds none pending.
        query = query.with_for_update()
    return session.scalar(query.execution_options(populate_existing=True))
