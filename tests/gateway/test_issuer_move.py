"""Moving the gateway to another issuer, over the operator's command line and a real `idp serve`
on SQLite and PostgreSQL: a node with another issuer does not start, `idp issuer move` records
the move in the access log, and checkpoints signed under the old issuer still verify after it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests import http_client
from tests.citizen import Browser
from tests.conftest import TEST_ENV, add_citizen, register_app, signed_in_tokens
from tests.gateway_process import IDP_COMMAND, Gateway, free_port, start_gateway


def _serve_refused(gateway: Gateway, issuer: str, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*IDP_COMMAND, "serve", "--port", str(port)],
        env={**gateway.env, "IDP_ISSUER": issuer},
        cwd=gateway.workdir,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _signed_in_once(gateway: Gateway) -> None:
    """Some citizen activity: a sign-in, consent, code and tokens, all logged."""
    app = register_app(gateway, name="Land registry")
    browser = Browser(gateway.issuer)
    try:
        signed_in_tokens(gateway, browser, app, add_citizen(gateway))
    finally:
        browser.close()


def test_checkpoints_of_the_old_issuer_verify_after_the_gateway_moves(
    database_url: str, tmp_path: Path
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    old = start_gateway(tmp_path, backend=backend, database_url=database_url, extra_env=TEST_ENV)
    try:
        _signed_in_once(old)
        old.command_json("audit", "sequence")
    finally:
        old.stop()
    port = free_port()
    new_issuer = f"http://localhost:{port}"
    as_new = {"IDP_ISSUER": new_issuer}

    # Without a move, a node with the new issuer neither starts nor signs, naming both issuers.
    refused = _serve_refused(old, new_issuer, port)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert old.issuer in refused.stderr and new_issuer in refused.stderr
    assert "idp issuer move" in refused.stderr
    sequencing = old.command("audit", "sequence", check=False, env=as_new)
    assert sequencing.returncode == 2 and old.issuer in sequencing.stderr
    verified = old.command("audit", "verify", check=False, env=as_new)
    assert verified.returncode == 1 and "DAMAGED (issuer)" in verified.stdout, verified.stdout

    moved = json.loads(
        old.command("issuer", "move", "--to", new_issuer, "--json", env=as_new).stdout
    )
    assert moved["from"] == old.issuer and moved["to"] == new_issuer
    again = old.command("issuer", "move", "--to", new_issuer, check=False, env=as_new)
    assert again.returncode == 2 and "already" in again.stderr
    # A node left with the old issuer no longer signs.
    assert old.command("audit", "sequence", check=False).returncode == 2

    new = start_gateway(
        tmp_path,
        backend=backend,
        database_url=database_url,
        extra_env={**TEST_ENV, **as_new},
        port=port,
    )
    try:
        assert new.issuer == new_issuer and new.metadata()["issuer"] == new_issuer
        _signed_in_once(new)
        new.command_json("audit", "sequence")
        code = new.command("audit", "verify", check=False)
        assert code.returncode == 0, code.stdout + code.stderr
        assert f"signed as {old.issuer} then {new_issuer}" in code.stdout
        # Offline too: the bundle holds checkpoints under both issuers and the move between.
        jwks = tmp_path / "jwks.json"
        jwks.write_text(http_client.get(f"{new_issuer}/transparency/jwks.json").text)
        bundle = tmp_path / "bundle.json"
        new.command("audit", "export", "--output", str(bundle))
        offline = new.command(
            "audit", "verify", "--bundle", str(bundle), "--jwks", str(jwks), check=False
        )
        assert offline.returncode == 0, offline.stdout + offline.stderr
        data = json.loads(bundle.read_text())
        move = next(e for e in data["entries"] if e["event_type"] == "issuer.moved")
        assert move["detail"] == {"from": old.issuer, "to": new_issuer}
        assert move["log_index"] == moved["log_index"] and move["actor_type"] == "admin"
    finally:
        new.stop()
    log = new.log_path.read_text() if new.log_path else ""
    assert "Traceback" not in log, log[-4000:]
