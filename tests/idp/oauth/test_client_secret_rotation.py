"""A client's secret rotated with an overlap, stored on both engines: the replaced secret works
until the overlap ends and not a moment after, also through a cached registration; a second
rotation ends the oldest at once; only digests are kept. And a registration revised by the
rules it was registered by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idp.clients import (
    ClientCache,
    InvalidClientData,
    client_secret_matches,
    find_registration,
    register_client,
    revise_client,
    rotate_secret,
    secret_overlap_ends_at,
)
from idp.oauth.adapters import OAuthClient
from idp.storage.database import Database

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
URIS = ["https://tax.example/callback"]
ISSUER = "https://gateway.example"


def _register(database: Database) -> tuple[str, str]:
    with database.unit_of_work() as session:
        registered = register_client(
            session, name="Tax office", redirect_uris=URIS, issuer=ISSUER, now=T0
        )
        assert registered.client_secret is not None
        return registered.client.client_id, registered.client_secret


def _rotate(database: Database, client_id: str, *, overlap: timedelta, at: datetime) -> str:
    with database.unit_of_work() as session:
        client = find_registration(session, client_id)
        assert client is not None
        return rotate_secret(client, overlap=overlap, now=at)


def _matches(database: Database, client_id: str, secret: str, *, at: datetime) -> bool:
    with database.unit_of_work() as session:
        client = find_registration(session, client_id)
        assert client is not None
        return client_secret_matches(client, secret, now=at)


def test_the_replaced_secret_works_until_the_overlap_ends(migrated_database: Database) -> None:
    client_id, first = _register(migrated_database)
    second = _rotate(migrated_database, client_id, overlap=timedelta(hours=1), at=T0)
    assert second != first
    during, after = T0 + timedelta(minutes=59), T0 + timedelta(hours=1)
    assert _matches(migrated_database, client_id, first, at=during)
    assert _matches(migrated_database, client_id, second, at=during)
    assert not _matches(migrated_database, client_id, first, at=after)
    assert _matches(migrated_database, client_id, second, at=after)
    with migrated_database.unit_of_work() as session:
        client = find_registration(session, client_id)
        assert client is not None
        assert secret_overlap_ends_at(client, now=during) == T0 + timedelta(hours=1)
        assert secret_overlap_ends_at(client, now=after) is None
        stored = {client.secret_digest, client.previous_secret_digest}
        assert first not in stored and second not in stored  # digests only


def test_a_second_rotation_ends_the_oldest_secret_at_once(migrated_database: Database) -> None:
    client_id, first = _register(migrated_database)
    second = _rotate(migrated_database, client_id, overlap=timedelta(hours=1), at=T0)
    later = T0 + timedelta(minutes=10)
    third = _rotate(migrated_database, client_id, overlap=timedelta(hours=1), at=later)
    assert not _matches(migrated_database, client_id, first, at=later)
    assert _matches(migrated_database, client_id, second, at=later + timedelta(minutes=59))
    assert not _matches(migrated_database, client_id, second, at=later + timedelta(hours=1))
    assert _matches(migrated_database, client_id, third, at=later + timedelta(hours=1))


def test_no_overlap_ends_the_old_secret_at_once(migrated_database: Database) -> None:
    client_id, first = _register(migrated_database)
    second = _rotate(migrated_database, client_id, overlap=timedelta(0), at=T0)
    assert not _matches(migrated_database, client_id, first, at=T0)
    assert _matches(migrated_database, client_id, second, at=T0)


def test_a_cached_registration_does_not_keep_an_ended_secret_working(
    migrated_database: Database,
) -> None:
    client_id, first = _register(migrated_database)
    _rotate(migrated_database, client_id, overlap=timedelta(seconds=2), at=T0)
    cache = ClientCache(timedelta(seconds=5))
    with migrated_database.unit_of_work() as session:
        cached = cache.find(session, client_id, now=T0)
        assert cached is not None and client_secret_matches(cached, first, now=T0)
    later = T0 + timedelta(seconds=3)  # the cache entry still fresh, the overlap over
    with migrated_database.unit_of_work() as session:
        again = cache.find(session, client_id, now=later)
        assert again is cached
        assert not client_secret_matches(again, first, now=later)


@pytest.mark.parametrize("overlap", [timedelta(seconds=-1), timedelta(days=7, seconds=1)])
def test_an_overlap_outside_zero_to_seven_days_is_refused(
    migrated_database: Database, overlap: timedelta
) -> None:
    client_id, first = _register(migrated_database)
    with pytest.raises(InvalidClientData, match="overlap"):
        _rotate(migrated_database, client_id, overlap=overlap, at=T0)
    assert _matches(migrated_database, client_id, first, at=T0)


def test_a_public_client_has_no_secret_to_rotate(migrated_database: Database) -> None:
    with migrated_database.unit_of_work() as session:
        client = register_client(
            session, name="Phone app", redirect_uris=URIS, public=True, issuer=ISSUER, now=T0
        ).client
        with pytest.raises(InvalidClientData, match="public"):
            rotate_secret(client, overlap=timedelta(hours=1), now=T0)


def test_a_revision_is_checked_as_a_registration_and_stored(migrated_database: Database) -> None:
    client_id, _ = _register(migrated_database)
    with migrated_database.unit_of_work() as session:
        client = find_registration(session, client_id)
        assert client is not None
        for changes, message in [
            ({"redirect_uris": ["http://tax.example/cb"]}, "https"),
            ({"grant_types": ["password"]}, "unsupported grant type"),
            ({"name": "  "}, "name"),
            ({"redirect_uris": []}, "redirect URI"),
            ({"public": True}, "cannot change"),
        ]:
            with pytest.raises(InvalidClientData, match=message):
                revise_client(client, changes, issuer=ISSUER)
        assert client.redirect_uris == URIS  # nothing changed by a refused revision
        changed = revise_client(
            client,
            {"name": " Tax board ", "redirect_uris": ["http://127.0.0.1:9000/cb"]},
            issuer=ISSUER,
        )
        assert changed == {"name": "Tax board", "redirect_uris": ["http://127.0.0.1:9000/cb"]}
        assert revise_client(client, {"name": "Tax board"}, issuer=ISSUER) == {}
    with migrated_database.unit_of_work() as session:
        stored = find_registration(session, client_id)
        assert stored is not None
        assert (stored.name, stored.redirect_uris) == ("Tax board", ["http://127.0.0.1:9000/cb"])


def test_a_new_secret_works_at_once_on_a_node_that_cached_the_old_registration(
    migrated_database: Database,
) -> None:
    client_id, first = _register(migrated_database)
    other_node = ClientCache(timedelta(seconds=5))
    with migrated_database.unit_of_work() as session:
        assert other_node.find(session, client_id, now=T0) is not None
    second = _rotate(migrated_database, client_id, overlap=timedelta(hours=1), at=T0)
    at = T0 + timedelta(seconds=1)  # the other node's entry still fresh
    with migrated_database.unit_of_work() as session:
        cached = other_node.find(session, client_id, now=at)
        assert cached is not None

        def authenticated(secret: str) -> bool:
            client = OAuthClient(
                cached, now=at, reread=lambda: other_node.reread(session, client_id, now=at)
            )
            return bool(client.check_client_secret(secret))

        assert authenticated(first)  # from the cached registration, no read
        assert authenticated(second)  # read again, and cached so
        assert not authenticated("not-the-secret")
        refreshed = other_node.find(session, client_id, now=at)
        assert refreshed is not None and client_secret_matches(refreshed, second, now=at)
