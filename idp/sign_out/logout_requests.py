"""An app's logout request at the end-session endpoint (OpenID Connect RP-Initiated Logout 1.0,
section 2), checked before anything ends: who the app is, which citizen it means, and where the
browser may go afterwards.

The browser may be sent back only to a `post_logout_redirect_uri` registered for the app the
request identifies (by `client_id`, or by the audience of its `id_token_hint`), compared as exact
strings: anything else is refused with a page and no redirect, so the endpoint is never an open
redirector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from idp.accounts import normalize_username
from idp.models import Client
from idp.oauth.context import OperationContext
from idp.oauth.id_tokens import IdTokenHint, verify_id_token_hint
from idp.protocol.errors import (
    LOGOUT_CLIENT_NOT_IN_HINT,
    LOGOUT_CLIENT_NOT_REGISTERED,
    LOGOUT_HINT_NOT_VALID,
    LOGOUT_REDIRECT_NOT_REGISTERED,
    LOGOUT_REDIRECT_WITHOUT_CLIENT,
    LOGOUT_REQUEST_NOT_VALID,
    ProtocolError,
)

LOGOUT_PARAMETERS = (
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "ui_locales",
    "logout_hint",
)
_LONGEST_VALUE = 8192


@dataclass(frozen=True)
class LogoutRequest:
    id_token_hint: str | None = None
    client_id: str | None = None
    post_logout_redirect_uri: str | None = None
    state: str | None = None
    ui_locales: str | None = None
    logout_hint: str | None = None

    @classmethod
    def parse(cls, parameters: Sequence[tuple[str, str]]) -> LogoutRequest | ProtocolError:
        """Unknown parameters are ignored (section 2); ours may appear once each."""
        values: dict[str, str] = {}
        for name, value in parameters:
            if name not in LOGOUT_PARAMETERS:
                continue
            if name in values or len(value) > _LONGEST_VALUE:
                return LOGOUT_REQUEST_NOT_VALID.because(f"{name} repeated or too long")
            if value:
                values[name] = value
        return cls(**values)

    def carried(self) -> list[tuple[str, str]]:
        """The parameters a confirmation form carries to its post; the hint is not among them
        (the citizen's own confirmation replaces it)."""
        return [
            (name, value)
            for name in ("client_id", "post_logout_redirect_uri", "state", "ui_locales")
            if (value := getattr(self, name))
        ]


@dataclass(frozen=True)
class CheckedLogout:
    client: Client | None
    hint: IdTokenHint | None
    return_to: str | None  # the registered post_logout_redirect_uri, with `state` added
    logout_hint: str | None = None

    def names_citizen(self, subject: str, username: str) -> bool:
        """Whether the request means this citizen and no one else: a valid hint for them, and a
        `logout_hint`, if any, that names them too (by subject or username)."""
        if self.hint is None or self.hint.subject != subject:
            return False
        if self.logout_hint is None:
            return True
        return self.logout_hint == subject or normalize_username(self.logout_hint) == username

    @property
    def client_id(self) -> str | None:
        return self.client.client_id if self.client else None


def check_logout_request(
    ctx: OperationContext, request: LogoutRequest
) -> CheckedLogout | ProtocolError:
    hint: IdTokenHint | None = None
    if request.id_token_hint:
        hint = verify_id_token_hint(ctx, request.id_token_hint)
        if hint is None:
            return LOGOUT_HINT_NOT_VALID
    client_id = request.client_id
    if hint is not None:
        if client_id is not None and client_id not in hint.audiences:
            return LOGOUT_CLIENT_NOT_IN_HINT
        client_id = client_id or (hint.audiences[0] if len(hint.audiences) == 1 else None)
    client: Client | None = None
    if client_id is not None:
        client = ctx.registered_client(client_id[:64])
        if client is None or client.disabled_at is not None:
            return LOGOUT_CLIENT_NOT_REGISTERED
    return_to: str | None = None
    if request.post_logout_redirect_uri is not None:
        if client is None:
            return LOGOUT_REDIRECT_WITHOUT_CLIENT
        if request.post_logout_redirect_uri not in client.post_logout_redirect_uris:
            return LOGOUT_REDIRECT_NOT_REGISTERED
        return_to = _with_state(request.post_logout_redirect_uri, request.state)
    return CheckedLogout(
        client=client, hint=hint, return_to=return_to, logout_hint=request.logout_hint
    )


def _with_state(uri: str, state: str | None) -> str:
    if state is None:
        return uri
    separator = "&" if "?" in uri else "?"
    return f"{uri}{separator}{urlencode({'state': state})}"
