"""Charts drawn on the server as inline SVG (no script, no external file), and the data table
that is their text alternative.

Each chart is `<svg role="img">` named by its `<title>` and described by its `<desc>`
(aria-labelledby, aria-describedby), so a screen reader announces one image with its title and
description; the numbers themselves are in `data_table`, which the page puts next to it. Only
SVG presentation attributes are used (`fill=`, `stroke=`): the pages' Content-Security-Policy
(`style-src 'self'`) blocks `style=` attributes and `<style>` elements.

Colours are 3:1 or more against the white background (WCAG 1.4.11), and the first two series'
colours 3:1 against each other. Beyond colour, every series has its own dash and marker (lines)
or hatching (bars), and a label in the legend, so no one needs to tell colours apart.

Every text (title, description, labels, series names: agency names are operators' input) is
escaped here; callers pass plain strings already in the page's language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# (colour, line dash, marker) per series, in order; colours repeat after four with other dashes.
PALETTE = ("#1d70b8", "#0b0c0c", "#d4351c", "#00703c")
_DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4")
_MARKERS = ("circle", "square", "triangle", "diamond")
_INK = "#0b0c0c"
_GRID = "#b1b4b6"
_WIDTH, _HEIGHT = 640, 320
_LEGEND_ROW = 20  # the height of one row of the legend
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 40, 48
_MOST_X_LABELS = 10
_ID = re.compile(r"[a-z][a-z0-9-]{0,62}")


@dataclass(frozen=True)
class Series:
    """One line, or one layer of stacked bars: a value per label, in order. `None` is a value
    that is not shown (suppressed, or unknown): drawn as a hollow mark on the axis, and named
    in the legend by the chart's `missing_label`."""

    name: str
    values: Sequence[int | None]


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    missing_label: str = "",
) -> Markup:
    """Bars per label (e.g. per day), stacked when there are several series. `chart_id` (lower
    case letters, digits, hyphens) is unique in the page and begins every id inside."""
    text = _ChartText(chart_id, title, description, missing_label)
    return _chart(text, labels, series, bars=True)


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    missing_label: str = "",
) -> Markup:
    """A line per series over the labels (e.g. days), with a marker at each value; a missing
    value breaks the line."""
    text = _ChartText(chart_id, title, description, missing_label)
    return _chart(text, labels, series, bars=False)


def data_table(
    *,
    caption: str,
    label_heading: str,
    labels: Sequence[str],
    series: Sequence[Series],
    missing_label: str,
) -> Markup:
    """The chart's numbers as a table: a row per label, a column per series; a missing value
    reads `missing_label` (e.g. "fewer than 10")."""
    head = "".join(f'<th scope="col">{escape(s.name)}</th>' for s in series)
    rows = []
    for i, label in enumerate(labels):
        cells = "".join(
            f"<td>{escape(missing_label) if value is None else value}</td>"
            for value in (s.values[i] if i < len(s.values) else None for s in series)
        )
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{cells}</tr>')
    return Markup(  # noqa: S704  (every text in it went through escape())
        f'<table class="data"><caption>{escape(caption)}</caption>'
        f'<thead><tr><th scope="col">{escape(label_heading)}</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


@dataclass(frozen=True)
class _Plot:
    """Where things go: labels spread along x, values from 0 to `top` along y."""

    count: int
    top: int
    ticks: tuple[int, ...]

    @classmethod
    def of(cls, labels: Sequence[str], series: Sequence[Series], *, stacked: bool) -> _Plot:
        if stacked:
            heights = [
                sum(s.values[i] or 0 for s in series if i < len(s.values))
                for i in range(len(labels))
            ]
        else:
            heights = [v for s in series for v in s.values[: len(labels)] if v is not None]
        top, ticks = _scale(max(heights, default=0))
        return cls(len(labels), top, ticks)

    @property
    def band(self) -> float:
        return (_WIDTH - _LEFT - _RIGHT) / max(self.count, 1)

    def x(self, index: int) -> float:
        return _LEFT + self.band * (index + 0.5)

    def y(self, value: float) -> float:
        return _TOP + (_HEIGHT - _TOP - _BOTTOM) * (1 - value / self.top)


def _scale(highest: int) -> tuple[int, tuple[int, ...]]:
    """A round top at or above `highest` and four or five evenly spaced ticks up to it."""
    if highest <= 0:
        return 1, (0, 1)
    rough = highest / 4
    magnitude = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    step = max(1, int(step))
    top = step * math.ceil(highest / step)
    return top, tuple(range(0, top + 1, step))


@dataclass(frozen=True)
class _ChartText:
    """A chart's id and its words, as the caller gave them."""

    chart_id: str
    title: str
    description: str
    missing_label: str


def _chart(
    text: _ChartText, labels: Sequence[str], series: Sequence[Series], *, bars: bool
) -> Markup:
    """What both kinds of chart share: the scale, the axes, the labels, the marks of missing
    values, the legend and the SVG around them; `bars` picks the marks drawn on the plot."""
    chart_id = text.chart_id
    if not _ID.fullmatch(chart_id):
        raise ValueError(f"a chart id is lower case letters, digits and hyphens: {chart_id!r}")
    plot = _Plot.of(labels, series, stacked=bars)
    parts = (
        _bar_marks(chart_id, plot, labels, series) if bars else _line_marks(plot, labels, series)
    )
    axes = _axes(plot)
    x_labels = _x_labels(plot, labels)
    missing = _missing_marks(plot, series)
    legend, rows = _legend(chart_id, series, text.missing_label if missing else "", bars=bars)
    # A legend of more rows than one pushes the plot down instead of running off the edge.
    extra = (rows - 1) * _LEGEND_ROW
    return Markup(  # noqa: S704  (every text in it went through escape())
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT + extra}" '
        f'role="img" aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc" '
        f'font-size="13" fill="{_INK}">'
        f'<title id="{chart_id}-title">{escape(text.title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(text.description)}</desc>'
        f'<g transform="translate(0 {extra})">{axes}{"".join(parts)}{"".join(missing)}'
        f"{x_labels}</g>{legend}</svg>"
    )


def _bar_marks(
    chart_id: str, plot: _Plot, labels: Sequence[str], series: Sequence[Series]
) -> list[str]:
    parts = [_hatch_pattern(chart_id, n) for n in range(1, len(series))]
    band = plot.band
    for n, one in enumerate(series):
        fill = PALETTE[n % len(PALETTE)] if n == 0 else f"url(#{chart_id}-hatch-{n})"
        for i, value in enumerate(one.values[: len(labels)]):
            if not value:
                continue
            below = sum(v or 0 for v in (s.values[i] for s in series[:n] if i < len(s.values)))
            top, bottom = plot.y(below + value), plot.y(below)
            parts.append(
                f'<rect x="{plot.x(i) - band * 0.35:.1f}" y="{top:.1f}" '
                f'width="{band * 0.7:.1f}" height="{bottom - top:.1f}" fill="{fill}" '
                f'stroke="{PALETTE[n % len(PALETTE)]}" stroke-width="1">'
                f"<title>{escape(labels[i])}, {escape(one.name)}: {value}</title></rect>"
            )
    return parts


def _line_marks(plot: _Plot, labels: Sequence[str], series: Sequence[Series]) -> list[str]:
    parts: list[str] = []
    for n, one in enumerate(series):
        colour, dash = PALETTE[n % len(PALETTE)], _DASHES[n % len(_DASHES)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(one.values[: len(labels)]):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{plot.x(i):.1f},{plot.y(value):.1f}")
            tooltip = f"{labels[i]}, {one.name}: {value}"
            parts.append(
                _marker(_MARKERS[n % len(_MARKERS)], plot.x(i), plot.y(value), colour, tooltip)
            )
        for run in (r for r in runs if len(r) > 1):
            dashing = f' stroke-dasharray="{dash}"' if dash else ""
            parts.insert(
                0,
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                f'stroke-width="2.5"{dashing}/>',
            )
    return parts


def _axes(plot: _Plot) -> str:
    lines = []
    for tick in plot.ticks:
        y = plot.y(tick)
        lines.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{_GRID if tick else _INK}" stroke-width="1"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    return "".join(lines)


def _x_labels(plot: _Plot, labels: Sequence[str]) -> str:
    """At most _MOST_X_LABELS of them, evenly spaced, so they never overlap."""
    step = max(1, math.ceil(len(labels) / _MOST_X_LABELS))
    y = _HEIGHT - _BOTTOM + 20
    return "".join(
        f'<line x1="{plot.x(i):.1f}" x2="{plot.x(i):.1f}" y1="{y - 20}" y2="{y - 14}" '
        f'stroke="{_INK}" stroke-width="1"/>'
        f'<text x="{plot.x(i):.1f}" y="{y}" text-anchor="middle">{escape(labels[i])}</text>'
        for i in range(0, len(labels), step)
    )


def _missing_marks(plot: _Plot, series: Sequence[Series]) -> list[str]:
    marks = []
    for i in range(plot.count):
        if any(i < len(s.values) and s.values[i] is None for s in series):
            marks.append(
                f'<circle cx="{plot.x(i):.1f}" cy="{plot.y(0):.1f}" r="4" fill="#ffffff" '
                f'stroke="{_INK}" stroke-width="1.5"/>'
            )
    return marks


def _legend(
    chart_id: str, series: Sequence[Series], missing_label: str, *, bars: bool
) -> tuple[str, int]:
    """The legend's markup and how many rows it takes (a row wraps before the right edge)."""
    items = []
    x, row = float(_LEFT), 0

    def place(width: float) -> tuple[float, float]:
        nonlocal x, row
        if x > _LEFT and x + width > _WIDTH - _RIGHT:
            x, row = float(_LEFT), row + 1
        at = (x, row * _LEGEND_ROW)
        x += width
        return at

    for n, one in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        width = 24 if not bars else 14
        left, down = place(width + 18 + 7.5 * len(one.name))
        if bars:
            fill = colour if n == 0 else f"url(#{chart_id}-hatch-{n})"
            swatch = (
                f'<rect x="{left:.1f}" y="{12 + down}" width="14" height="14" fill="{fill}" '
                f'stroke="{colour}" stroke-width="1"/>'
            )
        else:
            dash = _DASHES[n % len(_DASHES)]
            dashing = f' stroke-dasharray="{dash}"' if dash else ""
            swatch = (
                f'<line x1="{left:.1f}" x2="{left + 24:.1f}" y1="{19 + down}" y2="{19 + down}" '
                f'stroke="{colour}" stroke-width="2.5"{dashing}/>'
                + _marker(_MARKERS[n % len(_MARKERS)], left + 12, 19 + down, colour)
            )
        items.append(
            f'{swatch}<text x="{left + width + 6:.1f}" y="{24 + down}">{escape(one.name)}</text>'
        )
    if missing_label:
        left, down = place(18 + 7.5 * len(missing_label))
        items.append(
            f'<circle cx="{left + 7:.1f}" cy="{19 + down}" r="4" fill="#ffffff" stroke="{_INK}" '
            f'stroke-width="1.5"/><text x="{left + 18:.1f}" y="{24 + down}">'
            f"{escape(missing_label)}</text>"
        )
    return "".join(items), row + 1


def _hatch_pattern(chart_id: str, n: int) -> str:
    colour = PALETTE[n % len(PALETTE)]
    angle = (45, -45, 0, 90)[(n - 1) % 4]
    return (
        f'<defs><pattern id="{chart_id}-hatch-{n}" width="6" height="6" '
        f'patternUnits="userSpaceOnUse" patternTransform="rotate({angle})">'
        f'<rect width="6" height="6" fill="#ffffff"/>'
        f'<rect width="3" height="6" fill="{colour}"/></pattern></defs>'
    )


def _marker(shape: str, x: float, y: float, colour: str, tooltip: str = "") -> str:
    if shape == "square":
        tag, shape_attributes = "rect", f'x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8"'
    elif shape == "triangle":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}"
        tag, shape_attributes = "polygon", f'points="{points}"'
    elif shape == "diamond":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
        tag, shape_attributes = "polygon", f'points="{points}"'
    else:
        tag, shape_attributes = "circle", f'cx="{x:.1f}" cy="{y:.1f}" r="4"'
    opening = f'<{tag} {shape_attributes} fill="{colour}"'
    if not tooltip:
        return opening + "/>"
    return f"{opening}><title>{escape(tooltip)}</title></{tag}>"
