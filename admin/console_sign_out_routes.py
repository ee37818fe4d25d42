"""The console's view of the logout outbox (role operator): which agency apps were told of a
sign-out, which are still being tried, and which were given up, so an operator can see whether
an app was told (ADR 0015)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from admin.console_web import Console, console_page
from admin.roles import Role
from idp.clients import list_clients
from idp.protocol.languages import translatable
from idp.sign_out.outbox import DELIVERY_STATES, delivery_counts, list_deliveries

router = APIRouter(include_in_schema=False)
# The states as the page names them.
STATE_NAMES = {
    "pending": translatable("Being tried"),
    "delivered": translatable("Delivered"),
    "given_up": translatable("Given up"),
}
SHOWN = 200


@router.get("/admin/sign-outs")
async def sign_out_deliveries(request: Request) -> Response:
    def work(console: Console) -> Response:
        picked = request.query_params.get("state")
        state = picked if picked in DELIVERY_STATES else None
        session = console.ctx.session
        names = {client.client_id: client.name for client in list_clients(session)}
        return console.render(
            "admin/sign_outs.html",
            counts=delivery_counts(session),
            deliveries=list_deliveries(session, state=state, limit=SHOWN),
            state=state,
            state_names=STATE_NAMES,
            app_names=names,
            shown=SHOWN,
        )

    return await console_page(request, Role.OPERATOR, work)
