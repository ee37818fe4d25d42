"""What the console's dashboard shows: the last two weeks of the access log's daily counts
(transparency.statistics), as series a chart can draw. Aggregates only: no citizen is named, so
every console role may see them. Busy agencies are shown one by one, the rest together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from idp.clients import list_clients
from idp.protocol.languages import translatable
from idp.web.charts import Series
from transparency.statistics import (
    DailyCount,
    Measure,
    daily_counts,
    daily_series_by_agency,
    daily_series_by_method,
    daily_totals,
    days_between,
)

DASHBOARD_DAYS = 14
AGENCIES_SHOWN = 5  # the busiest by name; the others as one series
OTHER_AGENCIES = translatable("Other apps")
METHOD_NAMES = {
    "pwd": translatable("Password"),
    "hwk": translatable("Passkey"),
    "otp": translatable("Authenticator app"),
    None: translatable("Unknown"),
}
# Names the page translates; an agency app's own name is shown as the operator wrote it.
FIXED_NAMES = frozenset(
    {
        OTHER_AGENCIES,
        *METHOD_NAMES.values(),
        translatable("Failed sign-ins"),
        translatable("Throttled sign-ins"),
        translatable("Consent given"),
        translatable("Consent withdrawn"),
    }
)


@dataclass(frozen=True)
class Dashboard:
    days: list[date]
    sign_ins_by_agency: list[Series]
    failures: list[Series]  # failed and throttled sign-ins
    consents: list[Series]  # given and withdrawn
    tokens_by_agency: list[Series]
    sign_ins_by_method: list[Series]
    totals: dict[Measure, int]


def dashboard_of(session: Session, *, now: datetime) -> Dashboard:
    last_day = now.date()
    days = days_between(last_day - timedelta(days=DASHBOARD_DAYS - 1), last_day)
    counts = daily_counts(session, first_day=days[0], last_day=last_day, now=now)
    names = {client.client_id: client.name for client in list_clients(session)}

    def totals(measure: Measure) -> list[int]:
        return daily_totals(counts, days=days, measure=measure)

    return Dashboard(
        days=days,
        sign_ins_by_agency=_by_agency(counts, days, Measure.SIGN_INS, names),
        failures=[
            Series("Failed sign-ins", totals(Measure.FAILED_SIGN_INS)),
            Series("Throttled sign-ins", totals(Measure.THROTTLED_SIGN_INS)),
        ],
        consents=[
            Series("Consent given", totals(Measure.CONSENTS_GIVEN)),
            Series("Consent withdrawn", totals(Measure.CONSENTS_WITHDRAWN)),
        ],
        tokens_by_agency=_by_agency(counts, days, Measure.TOKENS_ISSUED, names),
        sign_ins_by_method=[
            Series(METHOD_NAMES.get(method, method or METHOD_NAMES[None]), values)
            for method, values in sorted(
                daily_series_by_method(counts, days=days, measure=Measure.SIGN_INS).items(),
                key=lambda item: -sum(item[1]),
            )
        ],
        totals={measure: sum(totals(measure)) for measure in Measure},
    )


def _by_agency(
    counts: Sequence[DailyCount],
    days: list[date],
    measure: Measure,
    names: Mapping[str, str],
) -> list[Series]:
    by_agency = daily_series_by_agency(counts, days=days, measure=measure)
    busiest = sorted(by_agency.items(), key=lambda item: (-sum(item[1]), item[0] or ""))
    shown = [
        Series(names.get(client_id or "", client_id or "Without an app"), values)
        for client_id, values in busiest[:AGENCIES_SHOWN]
    ]
    rest = [values for _, values in busiest[AGENCIES_SHOWN:]]
    if rest:
        shown.append(Series(OTHER_AGENCIES, [sum(day) for day in zip(*rest, strict=True)]))
    return shown
