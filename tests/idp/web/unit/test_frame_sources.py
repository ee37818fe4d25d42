"""The signed-out page's CSP frame-src: one source per front-channel logout URI, which a
registered path cannot break out of."""

from __future__ import annotations

from idp.web.sign_out_routes import frame_source


def test_a_frame_source_is_the_uri_without_its_query() -> None:
    assert frame_source("https://app.example:8443/out?tenant=7") == "https://app.example:8443/out"
    assert frame_source("https://app.example") == "https://app.example/"


def test_a_path_cannot_end_the_directive_or_the_source() -> None:
    source = frame_source("https://app.example/out;script-src,*'x")
    assert source == "https://app.example/out%3Bscript-src%2C%2A%27x"
    assert not set(";, '") & set(source)
