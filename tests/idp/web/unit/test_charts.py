"""The server-side SVG charts: well-formed markup with an accessible name and description, every
label escaped, no inline style, readable colours, and sane drawings for an empty series, one
value, missing values and many days."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from idp.web.charts import PALETTE, Series, bar_chart, data_table, line_chart
from tests.contrast import contrast_ratio, parse_colour

SVG = "{http://www.w3.org/2000/svg}"
CHARTS = (bar_chart, line_chart)


def _chart(draw: object, **overrides: object) -> ET.Element:
    arguments: dict[str, object] = {
        "chart_id": "sign-ins",
        "title": "Sign-ins per day",
        "description": "A bar per day.",
        "labels": ["1 Dec", "2 Dec", "3 Dec"],
        "series": [Series("Sign-ins", [12, 30, 7])],
        "missing_label": "fewer than 10",
        **overrides,
    }
    markup = draw(**arguments)  # type: ignore[operator]
    return _parse(str(markup))


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314  (the charts' own output, parsed to check it)


def _texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


@pytest.mark.parametrize("draw", CHARTS)
def test_a_chart_is_one_image_named_by_its_title_and_described(draw: object) -> None:
    svg = _chart(draw)
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert svg.get("aria-labelledby") == title.get("id") == "sign-ins-title"
    assert svg.get("aria-describedby") == desc.get("id") == "sign-ins-desc"
    assert (title.text, desc.text) == ("Sign-ins per day", "A bar per day.")
    assert svg.get("viewBox") == "0 0 640 320"


@pytest.mark.parametrize("draw", CHARTS)
def test_every_label_is_escaped(draw: object) -> None:
    hostile = '<script>alert(1)</script>"&'
    markup = str(
        draw(  # type: ignore[operator]
            chart_id="x",
            title=hostile,
            description=hostile,
            labels=[hostile],
            series=[Series(hostile, [5]), Series("b", [None])],
            missing_label=hostile,
        )
    )
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    svg = _parse(markup)  # still well-formed
    assert hostile in _texts(svg) and svg.find(f"{SVG}title").text == hostile  # type: ignore[union-attr]


def test_chart_ids_cannot_break_out_of_their_attribute() -> None:
    with pytest.raises(ValueError, match="chart id"):
        bar_chart(chart_id='x" onload="evil', title="t", description="d", labels=[], series=[])


@pytest.mark.parametrize("draw", CHARTS)
def test_no_inline_style_only_presentation_attributes(draw: object) -> None:
    markup = str(
        draw(  # type: ignore[operator]
            chart_id="c",
            title="t",
            description="d",
            labels=["1", "2", "3"],
            series=[Series("a", [1, 2, 3]), Series("b", [3, None, 1])],
            missing_label="m",
        )
    )
    assert "style=" not in markup and "<style" not in markup and "<script" not in markup


@pytest.mark.parametrize("draw", CHARTS)
def test_an_empty_chart_still_draws_its_axis_and_says_what_it_is(draw: object) -> None:
    svg = _chart(draw, labels=[], series=[])
    assert svg.find(f"{SVG}title") is not None
    assert "0" in _texts(svg)
    svg = _chart(draw, labels=["1 Dec", "2 Dec"], series=[Series("Sign-ins", [0, 0])])
    assert _texts(svg)[:2] == ["0", "1"]  # the scale of an all-zero chart: 0 to 1
    assert not [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]


def test_one_value_draws_one_bar_and_a_round_scale() -> None:
    svg = _chart(bar_chart, labels=["1 Dec"], series=[Series("Sign-ins", [37])])
    bars = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 1
    assert bars[0].find(f"{SVG}title").text == "1 Dec, Sign-ins: 37"  # type: ignore[union-attr]
    ticks = [int(t) for t in _texts(svg) if t.isdigit()]
    assert ticks[0] == 0 and ticks[-1] >= 37 and ticks[-1] % 10 == 0


def test_one_value_draws_one_marker_and_no_line() -> None:
    svg = _chart(line_chart, labels=["1 Dec"], series=[Series("Sign-ins", [37])])
    assert not list(svg.iter(f"{SVG}polyline"))
    assert [
        c.find(f"{SVG}title").text
        for c in svg.iter(f"{SVG}circle")
        if c.find(f"{SVG}title") is not None
    ] == [  # type: ignore[union-attr]
        "1 Dec, Sign-ins: 37"
    ]


def test_many_days_label_at_most_ten_and_stay_inside_the_picture() -> None:
    labels = [f"{n} Nov" for n in range(1, 91)]
    values: list[int | None] = [n * 1000 for n in range(90)]
    svg = _chart(line_chart, labels=labels, series=[Series("Sign-ins", values)])
    shown = [t for t in _texts(svg) if t.endswith("Nov")]
    assert 2 <= len(shown) <= 10 and shown[0] == "1 Nov"
    for element in svg.iter():
        for name in ("x", "cx", "x1", "x2"):
            if element.get(name) is not None:
                assert 0 <= float(element.get(name, "0")) <= 640
        for name in ("y", "cy", "y1", "y2"):
            if element.get(name) is not None:
                assert 0 <= float(element.get(name, "0")) <= 320


def test_missing_values_break_the_line_and_are_marked_and_named() -> None:
    svg = _chart(
        line_chart,
        labels=["1", "2", "3", "4", "5"],
        series=[Series("Consent given", [20, 30, None, 40, 50])],
        missing_label="fewer than 10",
    )
    assert len(list(svg.iter(f"{SVG}polyline"))) == 2  # 1-2 and 4-5
    assert "fewer than 10" in _texts(svg)
    # Without a missing value the legend does not name one.
    full = _chart(line_chart, series=[Series("Consent given", [20, 30, 40])])
    assert "fewer than 10" not in _texts(full)


def test_stacked_bars_tell_series_apart_by_hatching_as_well_as_colour() -> None:
    svg = _chart(
        bar_chart,
        series=[Series("Given", [12, 30, 7]), Series("Withdrawn", [1, 2, 3])],
    )
    fills = {r.get("fill") for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None}
    assert fills == {PALETTE[0], "url(#sign-ins-hatch-1)"}
    assert svg.find(f".//{SVG}pattern[@id='sign-ins-hatch-1']") is not None
    assert {"Given", "Withdrawn"} <= set(_texts(svg))


def test_line_series_differ_in_dash_and_marker() -> None:
    svg = _chart(line_chart, series=[Series("Given", [12, 30, 7]), Series("Withdrawn", [1, 2, 3])])
    dashes = [p.get("stroke-dasharray") for p in svg.iter(f"{SVG}polyline")]
    assert len(set(dashes)) == 2
    assert list(svg.iter(f"{SVG}circle")) and list(svg.iter(f"{SVG}rect"))  # circles, squares


def test_colours_have_3_to_1_against_white_and_the_first_two_against_each_other() -> None:
    white = parse_colour("rgb(255, 255, 255)")
    colours = [parse_colour("rgb({}, {}, {})".format(*_rgb(c))) for c in PALETTE]
    assert all(contrast_ratio(c, white) >= 3 for c in colours)
    assert contrast_ratio(colours[0], colours[1]) >= 3


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def test_the_data_table_is_the_text_alternative() -> None:
    table = str(
        data_table(
            caption="Sign-ins <per> day",
            label_heading="Day",
            labels=["1 December 2026", "2 December 2026"],
            series=[Series("Tax & customs", [12, None]), Series("Health", [0, 5])],
            missing_label="fewer than 10",
        )
    )
    root = _parse(table)
    assert root.find("caption").text == "Sign-ins <per> day"  # type: ignore[union-attr]
    assert [th.text for th in root.iter("th") if th.get("scope") == "col"] == [
        "Day",
        "Tax & customs",
        "Health",
    ]
    rows = [[cell.text for cell in row] for row in root.find("tbody")]  # type: ignore[union-attr]
    assert rows == [
        ["1 December 2026", "12", "0"],
        ["2 December 2026", "fewer than 10", "5"],
    ]
    assert re.search(r"&lt;per&gt;", table) and "&amp;" in table


def test_a_long_legend_wraps_and_pushes_the_plot_down() -> None:
    names = [f"Agency app with a long name {n}" for n in range(6)]
    chart = str(
        bar_chart(
            chart_id="wide",
            title="t",
            description="d",
            labels=["a", "b"],
            series=[Series(name, [1, 2]) for name in names],
        )
    )
    xs = [float(x) for x in re.findall(r'<text x="([0-9.]+)" y="\d+">Agency app', chart)]
    assert xs and max(xs) < 640  # nothing starts beyond the right edge
    assert 'viewBox="0 0 640 320"' not in chart  # taller than a one-row legend
    assert '<g transform="translate(0 ' in chart
