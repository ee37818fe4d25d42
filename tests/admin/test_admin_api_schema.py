"""Schemathesis against the administrators' API's own OpenAPI document: generated requests for
every operation, with a token of each role and of a client without one, find no server error
and no answer that breaks the document (status, content type, body schema). A fixed budget:
derandomized, a bounded number of examples per operation."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig

from tests.builders import register_app
from tests.in_process import InProcessGateway

EXAMPLES = 15  # per operation, each sent with every token (about 25 operations)
# Schema-valid requests may still be refused with 422: a registration that breaks a rule across
# fields the document cannot state (authorization_code needs a redirect URI; a public client
# has no client_credentials). Everything else of the check is the default.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)


def _token(gateway: InProcessGateway, scope: str | None) -> str:
    extra = ["--grant-type", "client_credentials", "--scope", scope or "openid"]
    client = register_app(gateway, *extra, name=f"Schema check {scope}")
    answer = gateway.http.post(
        "/token",
        auth=(client.client_id, client.client_secret or ""),
        data={"grant_type": "client_credentials", **({"scope": scope} if scope else {})},
    )
    return str(answer.json()["access_token"])


@pytest.fixture(scope="module")
def tokens(in_process_gateway: InProcessGateway) -> dict[str, str]:
    scopes = ("admin:audit", "admin:operate", "admin:support", "admin:security", None)
    return {str(scope): _token(in_process_gateway, scope) for scope in scopes}


def test_the_api_keeps_to_its_document(
    in_process_gateway: InProcessGateway, tokens: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_asgi(
        "/admin/api/v1/openapi.json", in_process_gateway.app, config=CONFIG
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_to_the_document(case: Any) -> None:
            for token in tokens.values():  # each role's, and that of a client with none
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

        keeps_to_the_document()
