"""The gateway with its access log replaced by one that writes nothing. For measuring what the
log costs only (bench/log_http_cost.py); the product itself has no way to turn the log off."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from gateway.app import build_app
from idp.ports import AccessEvent


class DiscardingAccessLog:
    def record(self, session: Session, event: AccessEvent) -> None:
        """Write nothing."""


app = build_app()
_state = app.state.web
app.state.web = replace(_state, provider=replace(_state.provider, access_log=DiscardingAccessLog()))
