"""The administrators' roles, least privilege: each role opens one part of the console and the
admin API, and no role includes another.

- `auditor`: read, filter, export and verify the access log;
- `operator`: agency applications and signing keys;
- `support`: find a citizen, lock and unlock, activation codes, end sessions;
- `security`: grant and revoke roles.

An API client acts in a role through the scope of its client-credentials token (`ROLE_SCOPES`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum, unique

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from admin.models import AdminRole
from idp.models import Account


@unique
class Role(StrEnum):
    AUDITOR = "auditor"
    OPERATOR = "operator"
    SUPPORT = "support"
    SECURITY = "security"


ROLE_SCOPES = {
    Role.AUDITOR: "admin:audit",
    Role.OPERATOR: "admin:operate",
    Role.SUPPORT: "admin:support",
    Role.SECURITY: "admin:security",
}


@dataclass(frozen=True)
class Administrator:
    username: str
    subject: str
    roles: tuple[Role, ...]


def roles_of(session: Session, account: Account) -> set[Role]:
    held = session.scalars(select(AdminRole.role).where(AdminRole.account_id == account.id))
    return {Role(role) for role in held}


def grant_roles(
    session: Session, account: Account, roles: Iterable[Role], *, by: str, now: datetime
) -> list[Role]:
    """Grants the roles the account does not hold yet; returns those, in order."""
    held = roles_of(session, account)
    granted = [role for role in dict.fromkeys(roles) if role not in held]
    for role in granted:
        session.add(AdminRole(account_id=account.id, role=role, granted_at=now, granted_by=by))
    session.flush()
    return granted


def revoke_roles(session: Session, account: Account, roles: Iterable[Role]) -> list[Role]:
    """Revokes the roles the account holds; returns those, in order."""
    held = roles_of(session, account)
    revoked = [role for role in dict.fromkeys(roles) if role in held]
    if revoked:
        session.execute(
            delete(AdminRole).where(
                AdminRole.account_id == account.id, AdminRole.role.in_([str(r) for r in revoked])
            )
        )
    return revoked


def administrators(session: Session) -> list[Administrator]:
    """Every account holding a role, by username."""
    rows = session.execute(
        select(Account.username, Account.subject, AdminRole.role)
        .join(AdminRole, AdminRole.account_id == Account.id)
        .order_by(Account.username, AdminRole.role)
    )
    found: dict[str, Administrator] = {}
    for username, subject, role in rows:
        known = found.get(username)
        roles = (*known.roles, Role(role)) if known else (Role(role),)
        found[username] = Administrator(username, subject, roles)
    return list(found.values())
