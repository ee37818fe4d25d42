"""Who is calling the administrators' API: a client-credentials access token of ours, live, of
an enabled client, whose scopes name its roles (admin.roles.ROLE_SCOPES)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from admin.roles import ROLE_SCOPES, Role
from idp.oauth.context import OperationContext
from idp.oauth.tokens import access_token_is_live, find_access_token


@dataclass(frozen=True)
class ApiCaller:
    client_id: str
    roles: frozenset[Role]


class ApiRefusal(Enum):
    NO_TOKEN = auto()  # 401, no error code (RFC 6750 3.1)
    INVALID_TOKEN = auto()  # 401
    NOT_ALLOWED = auto()  # 403: a valid caller without the role (insufficient_scope)


_SCOPE_ROLES = {scope: role for role, scope in ROLE_SCOPES.items()}


def api_caller(ctx: OperationContext, token: str | None) -> ApiCaller | ApiRefusal:
    """The caller a bearer token stands for. A token issued for a citizen (authorization code)
    never stands for an administrator, whatever its scopes."""
    if not token:
        return ApiRefusal.NO_TOKEN
    row = find_access_token(ctx, token)
    if row is None or not access_token_is_live(row, now=ctx.now) or row.account_id is not None:
        return ApiRefusal.INVALID_TOKEN
    if ctx.provider.clients.find(ctx.session, row.client_id, now=ctx.now) is None:
        return ApiRefusal.INVALID_TOKEN  # the client is disabled
    roles = frozenset(_SCOPE_ROLES[s] for s in row.scope.split() if s in _SCOPE_ROLES)
    return ApiCaller(row.client_id, roles)


def allowed(caller: ApiCaller | ApiRefusal, role: Role) -> ApiCaller | ApiRefusal:
    """`caller` if it holds `role`; least privilege: no role includes another."""
    if isinstance(caller, ApiRefusal) or role in caller.roles:
        return caller
    return ApiRefusal.NOT_ALLOWED
