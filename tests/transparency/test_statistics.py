"""Daily counts of the access log and the open data pages, on SQLite and PostgreSQL: counts by
agency and method from real entries (the events' own constructors, real sign-ins, the seeder),
each ended day counted once and kept, today live, no day final while its entries wait in the
queue; and over real HTTP the page, JSON and CSV with small counts suppressed, only ended days,
cache headers and spreadsheet-safe cells."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from idp.events import (
    Event,
    consent_given,
    consent_withdrawn,
    sign_in_failed,
    sign_in_succeeded,
    token_issued,
)
from idp.keys.jose import generate_signing_key
from idp.storage.database import Database
from tests.conftest import add_citizen, register_app, signed_in_tokens
from tests.in_process import InProcessGateway
from transparency.access_log import DatabaseAccessLog
from transparency.checkpoints import CHECKPOINT_ALG
from transparency.models import CountedDay, DailyStatistic
from transparency.open_data import publish, suppress
from transparency.seeding import Population, synthetic_events, write_synthetic_entries
from transparency.sequencer import sequence_everything
from transparency.statistics import (
    SETTLE_LIFETIME,
    DailyCount,
    Measure,
    daily_counts,
    daily_series_by_agency,
    daily_series_by_method,
    daily_totals,
    days_between,
    last_final_day,
)

KEY = generate_signing_key(alg="ES256", kid="statistics-test")
ISSUER = "https://id.example.gov"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
YESTERDAY = TODAY - timedelta(days=1)
BEFORE = TODAY - timedelta(days=2)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _signed_in(client_id: str | None, method: str = "pwd") -> Event:
    return sign_in_succeeded(subject="s-1", client_id=client_id, method=method, acr="low")


def _token(client_id: str) -> Event:
    return token_issued(
        client_id=client_id,
        subject="s-1",
        grant_type="authorization_code",
        scope="openid",
        refresh_token=False,
        claims_released=("sub",),
        purpose=None,
    )


def _record(database: Database, happened: Iterable[tuple[Event, datetime]]) -> None:
    with database.unit_of_work() as session:
        for event, at in happened:
            DatabaseAccessLog().record(session, event.occurred(at))


def _sequence(database: Database) -> None:
    sequence_everything(
        database, key=lambda: KEY, verification_keys=lambda: [KEY], issuer=ISSUER, clock=lambda: NOW
    )


def _counts(database: Database, first_day: date, last_day: date, now: datetime = NOW) -> Any:
    with database.unit_of_work() as session:
        found = daily_counts(session, first_day=first_day, last_day=last_day, now=now)
    return {(c.day, c.measure, c.client_id, c.method): c.count for c in found}


def _counted_days(database: Database) -> list[date]:
    with database.unit_of_work() as session:
        return list(session.scalars(select(CountedDay.day).order_by(CountedDay.day)))


def test_ended_days_are_counted_by_agency_and_method_once_and_today_live(
    migrated_database: Database,
) -> None:
    database = migrated_database
    _record(
        database,
        [
            *((_signed_in("tax"), _at(BEFORE, 8)) for _ in range(3)),
            (_signed_in("tax", method="otp"), _at(BEFORE, 9)),
            (_signed_in(None), _at(BEFORE, 10)),
            (sign_in_failed(client_id="tax", method="pwd", reason="bad_credentials"), _at(BEFORE)),
            (
                consent_given(subject="s-1", client_id="tax", purpose=None, scopes=["openid"]),
                _at(BEFORE),
            ),
            (_token("tax"), _at(BEFORE)),
            (_signed_in("health"), _at(YESTERDAY, 0)),  # the day's first moment
            (_signed_in("health"), _at(YESTERDAY, 23)),
            (
                consent_withdrawn(
                    subject="s-1", client_id="health", scopes=["openid"], tokens_revoked=1
                ),
                _at(YESTERDAY),
            ),
            (_signed_in("tax"), _at(TODAY, 1)),
        ],
    )
    _sequence(database)

    counts = _counts(database, BEFORE, TODAY)
    assert counts == {
        (BEFORE, Measure.SIGN_INS, "tax", "pwd"): 3,
        (BEFORE, Measure.SIGN_INS, "tax", "otp"): 1,
        (BEFORE, Measure.SIGN_INS, None, "pwd"): 1,
        (BEFORE, Measure.FAILED_SIGN_INS, "tax", "pwd"): 1,
        (BEFORE, Measure.CONSENTS_GIVEN, "tax", None): 1,
        (BEFORE, Measure.TOKENS_ISSUED, "tax", None): 1,
        (YESTERDAY, Measure.SIGN_INS, "health", "pwd"): 2,
        (YESTERDAY, Measure.CONSENTS_WITHDRAWN, "health", None): 1,
        (TODAY, Measure.SIGN_INS, "tax", "pwd"): 1,
    }
    # The ended days were kept; today was counted live and not kept.
    assert _counted_days(database) == [BEFORE, YESTERDAY]

    # A kept day is read back, not counted again (an entry appearing there now is not seen);
    # today's count follows the log.
    _record(database, [(_signed_in("health"), _at(YESTERDAY)), (_signed_in("tax"), _at(TODAY, 2))])
    _sequence(database)
    again = _counts(database, BEFORE, TODAY)
    assert again[(YESTERDAY, Measure.SIGN_INS, "health", "pwd")] == 2
    assert again[(TODAY, Measure.SIGN_INS, "tax", "pwd")] == 2
    assert {k: v for k, v in again.items() if k[0] < TODAY} == {
        k: v for k, v in counts.items() if k[0] < TODAY
    }
    # A range of days with no events is counted (and kept) as nothing; a future day is nothing.
    week_before = BEFORE - timedelta(days=7)
    assert _counts(database, week_before, week_before + timedelta(days=2)) == {}
    assert _counts(database, TODAY + timedelta(days=1), TODAY + timedelta(days=3)) == {}
    assert _counts(database, TODAY, BEFORE) == {}
    assert len(_counted_days(database)) == 5


def test_a_day_is_final_only_after_it_settled_and_left_the_queue(
    migrated_database: Database,
) -> None:
    database = migrated_database
    midnight = _at(TODAY, 0)
    with database.unit_of_work() as session:
        assert last_final_day(session, now=midnight + SETTLE_LIFETIME / 2) == BEFORE
        assert last_final_day(session, now=midnight + SETTLE_LIFETIME) == YESTERDAY
    # An entry of yesterday that the sequencer has not placed yet: yesterday is not final, and
    # is counted live, not kept, until it is placed.
    _record(database, [(_signed_in("tax"), _at(YESTERDAY, 23))])
    with database.unit_of_work() as session:
        assert last_final_day(session, now=NOW) == BEFORE
    assert _counts(database, YESTERDAY, YESTERDAY) == {}
    assert _counted_days(database) == []
    _sequence(database)
    assert _counts(database, YESTERDAY, YESTERDAY) == {
        (YESTERDAY, Measure.SIGN_INS, "tax", "pwd"): 1
    }
    assert _counted_days(database) == [YESTERDAY]


def test_requests_counting_the_same_day_at_once_all_succeed(migrated_database: Database) -> None:
    database = migrated_database
    _record(database, [(_signed_in(f"agency-{n % 3}"), _at(YESTERDAY, n % 24)) for n in range(30)])
    _sequence(database)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: _counts(database, BEFORE, YESTERDAY), range(4)))
    assert all(answer == answers[0] for answer in answers)
    assert sum(answers[0].values()) == 30
    with database.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(DailyStatistic)) == 3
        assert session.scalar(select(func.count()).select_from(CountedDay)) == 2


def test_a_seeded_log_is_counted_like_any_other(migrated_database: Database) -> None:
    database = migrated_database
    first_day = (NOW - timedelta(days=31)).date()
    # Read before seeding: the month is kept as empty days, which seeding then forgets.
    assert _counts(database, first_day, TODAY) == {}
    write_synthetic_entries(database, 3000, now=NOW)
    _sequence(database)
    counts = _counts(database, first_day, TODAY)
    # The same events as the seeder wrote, by day and agency.
    expected: Counter[tuple[date, str, str | None]] = Counter()
    measures = {"sign_in.succeeded": "sign_ins", "consent.given": "consents_given"}
    for event in synthetic_events(3000, Population.for_entries(3000), now=NOW):
        if event.event_type in measures:
            expected[(event.occurred_at.date(), measures[event.event_type], event.client_id)] += 1
    found: Counter[tuple[date, str, str | None]] = Counter()
    for (day, measure, client_id, method), count in counts.items():
        if measure in (Measure.SIGN_INS, Measure.CONSENTS_GIVEN):
            found[(day, measure.value, client_id)] += count
            assert method == ("pwd" if measure is Measure.SIGN_INS else None)
    assert found == expected and sum(found.values()) > 500


def test_series_pivot_counts_by_day_agency_and_method() -> None:
    days = days_between(BEFORE, TODAY)
    counts = [
        DailyCount(BEFORE, Measure.SIGN_INS, "tax", "pwd", 3),
        DailyCount(BEFORE, Measure.SIGN_INS, "tax", "otp", 1),
        DailyCount(TODAY, Measure.SIGN_INS, "health", "pwd", 2),
        DailyCount(TODAY, Measure.CONSENTS_GIVEN, "health", None, 5),
        DailyCount(TODAY + timedelta(days=1), Measure.SIGN_INS, "tax", "pwd", 9),
    ]
    assert days == [BEFORE, YESTERDAY, TODAY]
    assert daily_totals(counts, days=days, measure=Measure.SIGN_INS) == [4, 0, 2]
    assert daily_series_by_agency(counts, days=days, measure=Measure.SIGN_INS) == {
        "health": [0, 0, 2],
        "tax": [4, 0, 0],
    }
    assert daily_series_by_method(counts, days=days, measure=Measure.SIGN_INS) == {
        "otp": [1, 0, 0],
        "pwd": [3, 0, 2],
    }
    assert daily_totals(counts, days=[], measure=Measure.SIGN_INS) == []


@pytest.mark.parametrize(
    ("values", "shown", "total_hidden"),
    [
        ([12, 30], [12, 30], False),
        ([3, 12, 30], [None, None, 30], False),  # one hidden: the next smallest goes too
        ([3, 4, 30], [None, None, 30], False),  # two hidden already: no more
        ([3, 15], [None, None], False),
        ([9], [None], True),
        ([2, 3], [None, None], True),
        ([10], [10], False),
    ],
)
def test_small_counts_are_suppressed_and_cannot_be_subtracted_out(
    values: list[int], shown: list[int | None], total_hidden: bool
) -> None:
    assert suppress(values, min_count=10) == (shown, total_hidden)


def test_open_data_publishes_only_final_days_with_the_threshold_given(
    migrated_database: Database,
) -> None:
    database = migrated_database
    _record(
        database,
        [
            *((_signed_in("tax"), _at(YESTERDAY)) for _ in range(4)),
            *((_signed_in("health"), _at(YESTERDAY)) for _ in range(2)),
            *((_signed_in("tax"), _at(TODAY, 1)) for _ in range(50)),
        ],
    )
    _sequence(database)
    with database.unit_of_work() as session:
        data = publish(session, now=NOW, min_count=3, days=30)
    assert data.days[-1] == YESTERDAY and len(data.days) == 30
    assert [(c.client_id, c.count) for c in data.counts] == [("health", None), ("tax", None)]
    assert data.totals[Measure.SIGN_INS][-1] == 6
    assert data.changes_at == _at(TODAY, 0) + timedelta(days=1) + SETTLE_LIFETIME


# Over HTTP: the in-process gateway, its clock moved on a day so today's real sign-ins have ended.


def _sequence_gateway(gateway: InProcessGateway) -> None:
    web = gateway.app.state.web
    sequence_everything(
        web.database,
        key=lambda: web.provider.keyring.signing_key(CHECKPOINT_ALG),
        verification_keys=web.provider.keyring.historical_keys,
        issuer=gateway.settings.issuer,
        clock=gateway.clock,
    )


@pytest.fixture(scope="module")
def published(in_process_gateway: InProcessGateway) -> dict[str, Any]:
    """Real sign-ins with consent to one agency today, many more sign-ins written to the log
    for three agencies, then the clock moved past the end of the day."""
    gateway = in_process_gateway
    tax = register_app(gateway, "--scope", "openid", name="=Tax office <b>&")
    health = register_app(gateway, name="Health board")
    small = register_app(gateway, name="Small agency")
    person = add_citizen(gateway)
    for _ in range(2):
        signed_in_tokens(gateway, gateway.browser(), tax, person)
    day = gateway.clock().date()
    noon = _at(day, 12)
    _record(
        gateway.app.state.web.database,
        [
            *((_signed_in(tax.client_id), noon) for _ in range(30)),
            *((_signed_in(health.client_id), noon) for _ in range(15)),
            *((_signed_in(small.client_id), noon) for _ in range(3)),
        ],
    )
    _sequence_gateway(gateway)
    moved_by = _at(day, 0) + timedelta(days=1) + SETTLE_LIFETIME - gateway.clock()
    gateway.clock.advance(moved_by.total_seconds() + 60)
    # A sign-in of the new day: it must not be published.
    _record(gateway.app.state.web.database, [(_signed_in(health.client_id), gateway.clock())])
    _sequence_gateway(gateway)
    return {"day": day, "tax": tax, "health": health, "small": small}


def test_json_publishes_the_ended_days_with_small_counts_suppressed(
    in_process_gateway: InProcessGateway, published: dict[str, Any]
) -> None:
    response = in_process_gateway.http.get("/open-data/statistics.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"].startswith("public, max-age=")
    body = response.json()
    day = published["day"].isoformat()
    assert body["last_day"] == day and body["min_count"] == 10 and body["days_are"] == "UTC"
    assert body["first_day"] == (published["day"] - timedelta(days=29)).isoformat()
    sign_ins = {
        c["client_id"]: c for c in body["counts"] if c["measure"] == "sign_ins" and c["day"] == day
    }
    tax, health, small = (published[name].client_id for name in ("tax", "health", "small"))
    # 32 (two real sign-ins and 30 written), 15 and 3: the 3 is suppressed, and so is the 15,
    # or the day's total (50) would give the 3 away.
    assert sign_ins[tax] == {
        "day": day,
        "measure": "sign_ins",
        "client_id": tax,
        "agency": "=Tax office <b>&",
        "method": "pwd",
        "count": 32,
        "suppressed": False,
    }
    assert (sign_ins[health]["count"], sign_ins[health]["suppressed"]) == (None, True)
    assert (sign_ins[small]["count"], sign_ins[small]["suppressed"]) == (None, True)
    consents = [c for c in body["counts"] if c["measure"] == "consents_given"]
    assert consents == [
        {
            "day": day,
            "measure": "consents_given",
            "client_id": tax,
            "agency": "=Tax office <b>&",
            "method": None,
            "count": None,
            "suppressed": True,
        }
    ]
    totals = {(t["day"], t["measure"]): t for t in body["totals"]}
    assert len(totals) == 90
    assert totals[(day, "sign_ins")]["count"] == 50
    assert totals[(day, "consents_given")] == {
        "day": day,
        "measure": "consents_given",
        "count": None,
        "suppressed": True,
    }
    assert totals[(body["first_day"], "sign_ins")]["count"] == 0
    # The new day's sign-in is nowhere.
    assert all(c["day"] <= day for c in body["counts"])


def test_csv_has_the_same_counts_marked_and_spreadsheet_safe(
    in_process_gateway: InProcessGateway, published: dict[str, Any]
) -> None:
    response = in_process_gateway.http.get("/open-data/statistics.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    day = published["day"].isoformat()
    by_agency = {r["client_id"]: r for r in rows if r["measure"] == "sign_ins" and r["day"] == day}
    tax = by_agency[published["tax"].client_id]
    assert tax["agency"] == "'=Tax office <b>&" and tax["count"] == "32"
    assert tax["suppressed"] == "false" and tax["method"] == "pwd"
    small = by_agency[published["small"].client_id]
    assert (small["agency"], small["count"], small["suppressed"]) == ("Small agency", "", "true")
    json_counts = in_process_gateway.http.get("/open-data/statistics.json").json()["counts"]
    assert len(rows) == len(json_counts)


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", ["fewer than 10", "Sign-ins per day"]), ("et", ["alla 10", "Sisselogimised päevas"])],
)
def test_the_page_shows_charts_tables_and_what_suppression_means(
    in_process_gateway: InProcessGateway,
    published: dict[str, Any],
    language: str,
    words: list[str],
) -> None:
    response = in_process_gateway.http.get("/open-data/", headers={"Accept-Language": language})
    assert response.status_code == 200 and response.headers["content-language"] == language
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert "Accept-Language" in response.headers["vary"]
    page = response.text
    assert all(word in page for word in words)
    assert page.count('role="img"') == 2 and page.count('<table class="data">') == 2
    assert (
        'href="/open-data/statistics.csv"' in page and 'href="/open-data/statistics.json"' in page
    )
    # The day's total of sign-ins is in the table; no inline style anywhere (CSP style-src).
    assert ">50</td>" in page and "style=" not in page
    assert "style-src 'self'" in response.headers["content-security-policy"]


def test_open_data_needs_no_sign_in_and_takes_no_parameters(
    in_process_gateway: InProcessGateway, published: dict[str, Any]
) -> None:
    fresh = in_process_gateway.client()
    assert fresh.get("/open-data").status_code == 307
    assert fresh.get("/open-data/?days=999999").status_code == 200
    assert fresh.post("/open-data/statistics.json").status_code == 405
