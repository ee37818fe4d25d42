"""QR codes drawn on the server as inline SVG: the only module that imports segno. Inline, so
the page loads no image (its CSP allows images from the gateway only) and runs no script; the
SVG has no style attribute, only presentation attributes, which the CSP's style-src allows."""

from __future__ import annotations

import segno
from markupsafe import Markup, escape

SCALE = 4  # pixels per module: a version 6 code is 196 px wide, scannable from a screen
QUIET_ZONE = 4  # modules of light border (ISO/IEC 18004)


def qr_code_svg(data: str, *, label: str) -> Markup:
    """`data` as a QR code, one image to a screen reader, named by `label` (in the page's
    language). Error correction M: readable with a reflection on the screen."""
    svg = segno.make(data, error="m").svg_inline(
        scale=SCALE,
        border=QUIET_ZONE,
        svgclass="qr-code",
        lineclass=None,
        dark="#0b0c0c",
        light="#ffffff",
    )
    named = f'<svg role="img" aria-label="{escape(label)}" focusable="false" '
    return Markup(svg.replace("<svg ", named, 1))  # noqa: S704  (segno's own markup)
