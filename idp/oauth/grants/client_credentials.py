"""The client credentials grant (RFC 6749 4.4): a confidential client acting for itself."""

from __future__ import annotations

from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import grants

from idp.oauth.grants.issuing import issue_tokens
from idp.oauth.tokens import GrantFacts
from idp.opaque_values import new_opaque_value


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def generate_token(
        self,
        user: Any = None,
        scope: Any = None,
        grant_type: Any = None,
        expires_in: Any = None,
        include_refresh_token: bool = True,
    ) -> Any:
        facts = GrantFacts(grant_id=new_opaque_value(16), account=None)
        return issue_tokens(
            self, "client_credentials", facts, scope or "", include_refresh_token=False
        )
