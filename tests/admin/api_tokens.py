"""Tokens for the administrators' API as its clients get them: an API client registered with
the scopes that name its roles, and its client-credentials token."""

from __future__ import annotations

from tests.builders import register_app
from tests.in_process import InProcessGateway


def api_token(gateway: InProcessGateway, *scopes: str, name: str = "API client") -> str:
    """A client-credentials token of a new API client allowed `scopes` (`openid` alone when
    none), asking for all of them. `name` is what the access log and the citizen's list of who
    looked call the client."""
    extra = ["--grant-type", "client_credentials"]
    for scope in scopes or ("openid",):
        extra += ["--scope", scope]
    client = register_app(gateway, *extra, name=name)
    answer = gateway.http.post(
        "/token",
        auth=(client.client_id, client.client_secret or ""),
        data={"grant_type": "client_credentials", "scope": " ".join(scopes)},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])
