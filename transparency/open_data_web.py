"""The public open data pages, for anyone and without sign-in: `/open-data/` (charts and tables of
the last 30 final days), and the same counts as `statistics.json` and `statistics.csv`."""

from __future__ import annotations

import json
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from idp.web.charts import Series, bar_chart, data_table, line_chart
from idp.web.citizen_pages import render_page
from idp.web.state import operation, web_state
from transparency.open_data import PUBLISHED_DAYS, OpenData, as_csv, as_json, publish
from transparency.statistics import Measure

router = APIRouter(prefix="/open-data")
# Published days never change; the window moves on once a day. Caches keep a copy until then,
# but at most an hour (an agency may be renamed) and at least a minute.
LONGEST_CACHE_SECONDS = 3600
SHORTEST_CACHE_SECONDS = 60


def _published(request: Request) -> tuple[OpenData, datetime]:
    min_count = web_state(request).provider.settings.open_data_min_count
    with operation(request) as ctx:  # commits the days counted for the first time
        return publish(ctx.session, now=ctx.now, min_count=min_count), ctx.now


def _cache_control(data: OpenData, now: datetime) -> str:
    until_change = int((data.changes_at - now).total_seconds())
    seconds = max(SHORTEST_CACHE_SECONDS, min(LONGEST_CACHE_SECONDS, until_change))
    return f"public, max-age={seconds}"


@router.get("/", include_in_schema=False)
def open_data_page(request: Request) -> Response:
    data, now = _published(request)
    response = render_page(
        request,
        "transparency/open_data.html",
        data=data,
        published_days=PUBLISHED_DAYS,
        measures=Measure,
        bar_chart=bar_chart,
        line_chart=line_chart,
        data_table=data_table,
        series=Series,
    )
    response.headers["Cache-Control"] = _cache_control(data, now)
    # The page is in the language the cookie or Accept-Language chose (render_page).
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


@router.get("/statistics.json", include_in_schema=False)
def statistics_json(request: Request) -> Response:
    data, now = _published(request)
    return Response(
        json.dumps(as_json(data), separators=(",", ":")),
        media_type="application/json",
        headers={"Cache-Control": _cache_control(data, now)},
    )


@router.get("/statistics.csv", include_in_schema=False)
def statistics_csv(request: Request) -> Response:
    data, now = _published(request)
    return Response(
        as_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": _cache_control(data, now),
            "Content-Disposition": 'attachment; filename="statistics.csv"',
        },
    )
