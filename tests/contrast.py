"""WCAG 2.1 contrast of the colours Chromium's getComputedStyle reports (`rgb(r, g, b)`,
`rgba(r, g, b, a)`): relative luminance and contrast ratio as the WCAG 2.1 definitions give them,
and which colours of a focused element are its focus indicator (success criterion 1.4.11 asks
3:1 against what is next to it)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

_COLOUR = re.compile(r"rgba?\(([^)]*)\)")
# One shadow of a computed box-shadow list: its colour first, then lengths and maybe `inset`.
_SHADOW = re.compile(r"(rgba?\([^)]*\))([^,]*)")
_NO_OUTLINE = ("none", "hidden")


@dataclass(frozen=True)
class Colour:
    red: float  # 0-255
    green: float
    blue: float
    alpha: float = 1.0  # 0-1

    def over(self, below: Colour) -> Colour:
        """This colour painted on an opaque `below` (source-over compositing)."""
        a = self.alpha

        def mix(top: float, bottom: float) -> float:
            return top * a + bottom * (1 - a)

        return Colour(
            mix(self.red, below.red), mix(self.green, below.green), mix(self.blue, below.blue)
        )

    def __str__(self) -> str:
        return f"rgba({self.red:g}, {self.green:g}, {self.blue:g}, {self.alpha:g})"


WHITE = Colour(255, 255, 255)


def parse_colour(text: str) -> Colour:
    found = _COLOUR.fullmatch(text.strip())
    if not found:
        raise ValueError(f"not a computed colour: {text!r}")
    parts = [float(part) for part in found.group(1).replace("/", ",").split(",")]
    return Colour(*parts[:4])


def relative_luminance(colour: Colour) -> float:
    """WCAG 2.1 "relative luminance" of an opaque sRGB colour."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * linear(colour.red) + 0.7152 * linear(colour.green) + 0.0722 * linear(colour.blue)
    )


def contrast_ratio(first: Colour, second: Colour) -> float:
    """(L1 + 0.05) / (L2 + 0.05), the lighter over the darker: 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def backdrop(backgrounds: Sequence[str]) -> Colour:
    """What shows behind an element: its ancestors' computed background colours, nearest first,
    painted over each other on the white canvas."""
    colour = WHITE
    for text in reversed(backgrounds):
        colour = parse_colour(text).over(colour)
    return colour


class Styles(TypedDict):
    """What tests/idp/web/test_page_accessibility.py reads with getComputedStyle."""

    outlineStyle: str
    outlineWidth: str
    outlineColor: str
    boxShadow: str
    backgroundColor: str


def _shadows(box_shadow: str) -> set[tuple[str, str]]:
    """The visible shadows of a computed box-shadow: (colour, lengths), all-zero ones left out."""
    visible = set()
    for colour, rest in _SHADOW.findall(box_shadow):
        lengths = [part for part in rest.split() if part != "inset"]
        if any(float(length.removesuffix("px")) != 0 for length in lengths):
            visible.add((colour, rest.strip()))
    return visible


def _outline(styles: Styles) -> str | None:
    if styles["outlineStyle"] in _NO_OUTLINE or float(styles["outlineWidth"][:-2]) <= 0:
        return None
    return styles["outlineColor"]


def focus_indicator_colours(focused: Styles, unfocused: Styles) -> list[Colour]:
    """The colours focus adds: an outline, shadows and a background the element does not have
    when it is not focused. A colour that is there anyway (a button's own background or edge)
    shows nothing about focus, so it does not count."""
    added: list[str] = []
    outline = _outline(focused)
    if outline is not None and outline != _outline(unfocused):
        added.append(outline)
    added += [
        colour for colour, _ in _shadows(focused["boxShadow"]) - _shadows(unfocused["boxShadow"])
    ]
    if focused["backgroundColor"] != unfocused["backgroundColor"]:
        added.append(focused["backgroundColor"])
    return [colour for colour in map(parse_colour, added) if colour.alpha > 0]


def best_contrast(colours: Iterable[Colour], behind: Colour) -> float:
    """The highest contrast of any of `colours` (painted on `behind`) against `behind`; 1 for
    none."""
    return max((contrast_ratio(colour.over(behind), behind) for colour in colours), default=1.0)
