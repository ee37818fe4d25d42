"""The ASGI entry point uvicorn workers import: settings come from the environment."""

import gc
import os

# What the imports and the build below make lives as long as the process and is frozen at the
# end; collections along the way walked the growing heap to find almost nothing, a seventh of
# a gateway's start (ADR 0024).
_collecting = gc.isenabled()
gc.disable()
try:
    from agency.demo_app import build_demo_router
    from gateway.app import build_app

    app = build_app()
    if demo_client_id := os.environ.get("GATEWAY_DEMO_CLIENT_ID"):
        # `idp serve --demo` registered the demo agency app and passes its client_id down here.
        app.include_router(
            build_demo_router(
                issuer=app.state.web.provider.settings.issuer, client_id=demo_client_id
            )
        )

    # What exists now (modules, templates, routes, settings, the keyring) lives as long as the
    # process: frozen, it is left out of every later collection, which walked all of it each
    # time and stalled requests for its length under load (ADR 0024).
    gc.collect()
    gc.freeze()
finally:
    if _collecting:
        gc.enable()
