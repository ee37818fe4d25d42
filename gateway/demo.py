"""The demo agency app and demo citizen a newcomer signs in with (`idp serve --demo`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from agency.demo_app import backchannel_logout_uri, post_logout_redirect_uri
from idp.accounts import create_account, find_account_by_username
from idp.clients import register_client
from idp.models import Client
from idp.settings import IdpSettings
from idp.storage.database import Database, create_database_engine

DEMO_CLIENT_NAME = "Demo agency service"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-citizen-password"  # noqa: S105  (a published demo credential, by design)


def seed_demo(settings: IdpSettings) -> str:
    """Register the demo client and citizen once; return the demo client's id."""
    database = Database(create_database_engine(settings.database_url))
    now = datetime.now(UTC)
    redirect_uri = f"{settings.issuer}/demo-agency/callback"
    signed_out = post_logout_redirect_uri(settings.issuer)
    with database.unit_of_work() as session:
        client = session.scalar(select(Client).where(Client.name == DEMO_CLIENT_NAME))
        if (
            client is None
            or redirect_uri not in client.redirect_uris
            or signed_out not in client.post_logout_redirect_uris
        ):
            client = register_client(
                session,
                name=DEMO_CLIENT_NAME,
                redirect_uris=[redirect_uri],
                post_logout_redirect_uris=[signed_out],
                backchannel_logout_uri=backchannel_logout_uri(settings.issuer),
                public=True,
                purpose="To show who you are on the demo service's page",
                issuer=settings.issuer,
                now=now,
            ).client
        if find_account_by_username(session, DEMO_USERNAME) is None:
            create_account(
                session,
                username=DEMO_USERNAME,
                password=DEMO_PASSWORD,
                given_name="Mari",
                family_name="Maasikas",
                email="mari.maasikas@example.org",
                birthdate=date(1985, 3, 14),
                national_id="48503140001",
                now=now,
            )
        client_id = client.client_id
    database.engine.dispose()
    return client_id
