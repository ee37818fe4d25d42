"""The gateway's own information pages: the home page, help, the privacy notice and the
accessibility statement, linked from every page's footer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from idp.web.citizen_pages import render_page
from idp.web.state import web_state

router = APIRouter()


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    return render_page(request, "idp/home.html", issuer=web_state(request).provider.settings.issuer)


@router.get("/help", include_in_schema=False)
def help_page(request: Request) -> Response:
    settings = web_state(request).provider.settings
    minutes = max(1, int(settings.interaction_lifetime.total_seconds() // 60))
    return render_page(request, "idp/help.html", lifetime_minutes=minutes)


@router.get("/privacy", include_in_schema=False)
def privacy(request: Request) -> Response:
    return render_page(request, "idp/privacy.html")


@router.get("/accessibility", include_in_schema=False)
def accessibility(request: Request) -> Response:
    return render_page(request, "idp/accessibility.html")
