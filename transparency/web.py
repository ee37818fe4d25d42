"""The access log's public face: the latest signed checkpoint, inclusion and consistency proofs,
and every key that ever signed a checkpoint. Nothing here reveals an entry's content."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from idp.protocol.errors import (
    CONSISTENCY_OUT_OF_RANGE,
    CONSISTENCY_PARAMETERS_MISSING,
    INCLUSION_OUT_OF_RANGE,
    INCLUSION_PARAMETERS_MISSING,
    NO_CHECKPOINT,
)
from idp.web.errors import error_response
from idp.web.http import json_response
from idp.web.state import operation, web_state
from transparency.checkpoints import b64url
from transparency.store import (
    consistency_proof_from,
    current_tree_size,
    inclusion_proof_from,
    latest_checkpoint,
)

router = APIRouter(prefix="/transparency")


def _non_negative(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw)


@router.get("/checkpoint", include_in_schema=False)
def checkpoint(request: Request) -> Response:
    with operation(request) as ctx:
        latest = latest_checkpoint(ctx.session)
    if latest is None:
        return error_response(NO_CHECKPOINT)
    return Response(
        latest.signed, media_type="application/jwt", headers={"Cache-Control": "no-cache"}
    )


@router.get("/proof/inclusion", include_in_schema=False)
def inclusion(request: Request) -> Response:
    index = _non_negative(request, "leaf_index")
    size = _non_negative(request, "tree_size")
    if index is None or size is None:
        return error_response(INCLUSION_PARAMETERS_MISSING)
    with operation(request) as ctx:
        if not index < size <= current_tree_size(ctx.session):
            return error_response(INCLUSION_OUT_OF_RANGE)
        leaf, path = inclusion_proof_from(ctx.session, index, size)
    return json_response(
        200,
        {
            "leaf_index": index,
            "tree_size": size,
            "leaf_hash": b64url(leaf),
            "audit_path": [b64url(h) for h in path],
        },
    )


@router.get("/proof/consistency", include_in_schema=False)
def consistency(request: Request) -> Response:
    first = _non_negative(request, "first")
    second = _non_negative(request, "second")
    if first is None or second is None:
        return error_response(CONSISTENCY_PARAMETERS_MISSING)
    with operation(request) as ctx:
        if not first <= second <= current_tree_size(ctx.session):
            return error_response(CONSISTENCY_OUT_OF_RANGE)
        proof = consistency_proof_from(ctx.session, first, second)
    return json_response(
        200, {"first": first, "second": second, "consistency": [b64url(h) for h in proof]}
    )


@router.get("/jwks.json", include_in_schema=False)
def checkpoint_keys(request: Request) -> Response:
    keys = web_state(request).provider.keyring.historical_keys()
    body = json.dumps({"keys": [k.public_jwk() for k in keys]}, separators=(",", ":"))
    return Response(
        body,
        media_type="application/jwk-set+json",
        headers={"Cache-Control": "public, max-age=300"},
    )
