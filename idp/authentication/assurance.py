"""How strongly a browser session's citizen is authenticated, kept as data: every
authentication in the session (the sign-in and each step-up) is a `SessionAuthentication` row,
and the level, `acr`, `amr` and `auth_time` are assessed from those rows at the moment they are
needed (idp.protocol.assurance), so an elevated level lapses on time. Functions never commit.

The session row keeps the assessment of its latest authentication as well (`acr`, `amr`,
`auth_time`): what the citizen's list of sessions shows, and what `max_age` is measured from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from idp.authenticators.authenticator_apps import has_authenticator_app
from idp.authenticators.recovery_codes import unused_recovery_codes
from idp.interactions.devices import describe_device, network_of
from idp.interactions.sessions import NewBrowserSession, start_browser_session
from idp.models import Account, BrowserSession, SessionAuthentication
from idp.oauth.context import OperationContext
from idp.passkeys.credentials import has_passkey
from idp.protocol.assurance import (
    Assessment,
    AuthenticationMethod,
    Level,
    MethodUse,
    assess,
    level_reachable_with,
)

# Built once, with bound values (ADR 0021): every authorization request on a session reads it.
_AUTHENTICATIONS_OF_SESSION = (
    select(SessionAuthentication)
    .where(SessionAuthentication.browser_session_id == bindparam("browser_session_id"))
    .order_by(SessionAuthentication.id)
)


@dataclass(frozen=True)
class SessionAssurance:
    """An assessment with its `acr` URI, ready for a code, an ID token and the log."""

    level: Level
    acr: str
    amr: tuple[str, ...]
    auth_time: datetime

    @classmethod
    def of(cls, assessment: Assessment, ctx: OperationContext) -> SessionAssurance:
        return cls(
            level=assessment.level,
            acr=ctx.settings.acr_vocabulary.uri_of(assessment.level),
            amr=assessment.amr,
            auth_time=assessment.auth_time,
        )


def begin_browser_session(
    ctx: OperationContext, account: Account, use: MethodUse, *, user_agent: str | None
) -> NewBrowserSession:
    """A new browser session that starts with `use` (a password, a passkey)."""
    assessment = assess([use], now=ctx.now, elevated_lifetime=ctx.settings.elevated_level_lifetime)
    new = start_browser_session(
        ctx.session,
        account=account,
        acr=ctx.settings.acr_vocabulary.uri_of(assessment.level),
        amr=list(assessment.amr),
        now=ctx.now,
        lifetime=ctx.settings.session_lifetime,
        device=describe_device(user_agent),
        network=network_of(ctx.source_address),
    )
    ctx.session.add(_row(new.record, use))
    return new


def record_authentication(
    ctx: OperationContext, browser_session: BrowserSession, use: MethodUse
) -> SessionAssurance:
    """A further authentication in a live session (a step-up): the session's new assessment."""
    ctx.session.add(_row(browser_session, use))
    ctx.session.flush()
    assurance = assess_session(ctx, browser_session)
    browser_session.acr = assurance.acr
    browser_session.amr = list(assurance.amr)
    browser_session.auth_time = use.authenticated_at
    return assurance


def assess_session(ctx: OperationContext, browser_session: BrowserSession) -> SessionAssurance:
    """What the session proves now (lapsed levels no longer count)."""
    uses = [
        MethodUse(
            method=AuthenticationMethod(row.method),
            amr=tuple(row.amr),
            authenticated_at=row.authenticated_at,
        )
        for row in ctx.session.scalars(
            _AUTHENTICATIONS_OF_SESSION, {"browser_session_id": browser_session.id}
        )
    ]
    assessment = assess(
        uses or [_as_recorded_on_the_session(browser_session)],
        now=ctx.now,
        elevated_lifetime=ctx.settings.elevated_level_lifetime,
    )
    return SessionAssurance.of(assessment, ctx)


def _as_recorded_on_the_session(browser_session: BrowserSession) -> MethodUse:
    # Never reached for sessions begun here (each has its first row); kept so that a session
    # without rows, however it came about, is assessed at low rather than failing the request.
    return MethodUse.of(AuthenticationMethod.PASSWORD, browser_session.auth_time)


def enrolled_methods(session: Session, account: Account) -> frozenset[AuthenticationMethod]:
    """The methods the citizen could use now. Each method adds its own query here."""
    methods: set[AuthenticationMethod] = set()
    if account.password_hash:
        methods.add(AuthenticationMethod.PASSWORD)
    if has_authenticator_app(session, account):
        methods.add(AuthenticationMethod.AUTHENTICATOR_APP)
    if unused_recovery_codes(session, account):
        methods.add(AuthenticationMethod.RECOVERY_CODE)
    if has_passkey(session, account):
        methods.add(AuthenticationMethod.PASSKEY)
    return frozenset(methods)


def level_reachable(session: Session, account: Account) -> Level:
    return level_reachable_with(enrolled_methods(session, account))


def signed_in_recently(ctx: OperationContext, browser_session: BrowserSession) -> bool:
    """Whether the session's latest authentication is fresh enough for a change to how the
    citizen signs in (IDP_FRESH_SIGN_IN_LIFETIME)."""
    return ctx.now - browser_session.auth_time <= ctx.settings.fresh_sign_in_lifetime


def _row(browser_session: BrowserSession, use: MethodUse) -> SessionAuthentication:
    return SessionAuthentication(
        browser_session_id=browser_session.id,
        method=use.method.value,
        amr=list(use.amr),
        authenticated_at=use.authenticated_at,
    )
