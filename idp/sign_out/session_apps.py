"""Which apps a browser session served: recorded when an app is given a code in the session, read
when the session ends (idp.sign_out.ending) and on the citizen's list of sessions."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from idp.models import BrowserSession, Client
from idp.oauth.context import OperationContext
from idp.sign_out.models import SessionApp
from idp.storage.insert_once import insert_once

_SESSION_APPS = cast(Table, SessionApp.__table__)


def remember_app(ctx: OperationContext, browser_session: BrowserSession, client_id: str) -> None:
    insert_once(
        ctx.session,
        _SESSION_APPS,
        {
            "browser_session_id": browser_session.id,
            "client_id": client_id,
            "first_used_at": ctx.now,
        },
        unique=("browser_session_id", "client_id"),
    )


def app_names_by_session(session: Session, session_ids: list[int]) -> dict[int, list[str]]:
    """The names of the apps each of `session_ids` served, first used first."""
    if not session_ids:
        return {}
    rows = session.execute(
        select(SessionApp.browser_session_id, Client.name)
        .join(Client, Client.client_id == SessionApp.client_id)
        .where(SessionApp.browser_session_id.in_(session_ids))
        .order_by(SessionApp.first_used_at, SessionApp.id)
    ).all()
    names: dict[int, list[str]] = {session_id: [] for session_id in session_ids}
    for session_id, name in rows:
        names[session_id].append(name)
    return names
