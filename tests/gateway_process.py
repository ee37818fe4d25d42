"""Starting a real gateway (`idp serve`) on a free loopback port against a fresh database."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.cli import main as command_line
from gateway.command_runtime import ensure_keys_logged, now_utc
from gateway.schema import upgrade_database
from idp.settings import IdpSettings
from tests import http_client
from tests.databases import drop_postgres_database, migrated_database_for

IDP_COMMAND = [sys.executable, "-m", "gateway.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Gateway:
    """A running gateway and the operator's command line pointed at the same database."""

    issuer: str
    env: dict[str, str]
    workdir: Path
    backend: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    clock: Callable[[], datetime] = now_utc  # the process's: the real one

    @property
    def database_url(self) -> str:
        return self.env["IDP_DATABASE_URL"]

    def idp(
        self,
        *args: str,
        stdin: str | None = None,
        check: bool = True,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run an operator command; `env` overrides some of the gateway's variables."""
        result = subprocess.run(
            [*IDP_COMMAND, *args],
            env={**self.env, **(env or {})},
            cwd=self.workdir,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"idp {' '.join(args)} failed: {result.stderr}")
        return result

    def idp_json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self.idp(*args, "--json", stdin=stdin).stdout)

    def command(
        self,
        *args: str,
        stdin: str | None = None,
        check: bool = True,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """An operator command run in this process: the same code as `idp`, without a second of
        interpreter start. For tests about what a command does; tests about the command line
        itself (exit codes, stdin, a fresh process) use `idp`."""
        result = run_command_here(self.workdir, {**self.env, **(env or {})}, list(args), stdin)
        if check and result.returncode != 0:
            raise AssertionError(f"idp {' '.join(args)} failed: {result.stderr}")
        return result

    def command_json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self.command(*args, "--json", stdin=stdin).stdout)

    def metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = http_client.get(
            f"{self.issuer}/.well-known/openid-configuration"
        ).json()
        return data

    def jwks(self) -> dict[str, Any]:
        data: dict[str, Any] = http_client.get(f"{self.issuer}/jwks.json").json()
        return data

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def run_command_here(
    workdir: Path, env: dict[str, str], args: list[str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`idp ARGS` in this process, with the IDP_* variables of `env` and `workdir` as the
    current folder, as the command would run on its own."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("IDP_")]:
            patch.delenv(name)
        for name, value in env.items():
            if name.startswith("IDP_"):
                patch.setenv(name, value)
        patch.chdir(workdir)
        patch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = command_line(args)
            except SystemExit as stopped:  # argparse refusing the arguments
                code = stopped.code if isinstance(stopped.code, int) else 2
    return subprocess.CompletedProcess(["idp", *args], code, out.getvalue(), err.getvalue())


def start_gateway(
    workdir: Path,
    *,
    backend: str,
    database_url: str,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
    prepare_with_commands: bool = False,
    port: int | None = None,
    serve_args: tuple[str, ...] = (),
) -> Gateway:
    """The migrations are applied and the keys created in this process, as `idp db upgrade` and
    `idp keys list` would, saving two command starts (a second of CPU each);
    `prepare_with_commands` runs the two commands instead."""
    port = port or free_port()
    issuer = f"http://localhost:{port}"
    env = {
        **os.environ,
        "IDP_ISSUER": issuer,
        "IDP_DATABASE_URL": database_url,
        "IDP_KEYS_DIR": str(workdir / "keys"),
        **(extra_env or {}),
    }
    gateway = Gateway(issuer=issuer, env=env, workdir=workdir, backend=backend)
    if prepare_with_commands:
        gateway.idp("db", "upgrade")
        gateway.idp("keys", "list")
    else:
        upgrade_database(database_url)
        ensure_keys_logged(
            IdpSettings(issuer=issuer, database_url=database_url, keys_dir=workdir / "keys")
        )
    gateway.log_path = workdir / "gateway.log"
    _serve(gateway, port=port, workers=workers, serve_args=serve_args)
    return gateway


def start_another_node(first: Gateway) -> tuple[Gateway, str]:
    """A second `idp serve` on the same database, keys and issuer as `first` (two nodes behind
    one load balancer), on a port of its own; returns the node and its base URL."""
    port = free_port()
    node = Gateway(issuer=first.issuer, env=first.env, workdir=first.workdir, backend=first.backend)
    node.log_path = first.workdir / f"gateway-node-{port}.log"
    _serve(node, port=port, workers=1)
    return node, f"http://localhost:{port}"


def restart_gateway(gateway: Gateway) -> None:
    """Stop the gateway's process and start it again on the same port (an upgrade, a crash)."""
    gateway.stop()
    port = int(gateway.issuer.rsplit(":", 1)[1])
    _serve(gateway, port=port, workers=1)


def _serve(gateway: Gateway, *, port: int, workers: int, serve_args: tuple[str, ...] = ()) -> None:
    assert gateway.log_path is not None
    with open(gateway.log_path, "wb") as log:
        gateway.process = subprocess.Popen(
            [*IDP_COMMAND, "serve", "--port", str(port), "--workers", str(workers), *serve_args],
            env=gateway.env,
            cwd=gateway.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    # The address `idp serve` binds, not `localhost`, which may name another address first;
    # no proxy from the environment.
    url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    deadline = time.monotonic() + 60
    last = "no answer"
    while time.monotonic() < deadline:
        if gateway.process.poll() is not None:
            raise RuntimeError(f"gateway exited: {gateway.log_path.read_text()}")
        try:
            answer = http_client.get(url, timeout=2, trust_env=False)
            if answer.status_code == 200:
                return
            last = f"HTTP {answer.status_code}: {answer.text[:300]}"
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(0.1)
    gateway.stop()
    log = gateway.log_path.read_text()[-3000:]
    raise RuntimeError(f"gateway did not start in 60 s; last answer {last}; log: {log}")


@contextmanager
def running_gateway(
    backend: str, workdir: Path, env: dict[str, str], *, serve_args: tuple[str, ...] = ()
) -> Iterator[Gateway]:
    """A gateway of its own on a new database of `backend` with `env`, for a module that needs
    other settings than the shared one; its log must show no server error."""
    url, pg_name = migrated_database_for(backend, workdir)
    running = start_gateway(
        workdir, backend=backend, database_url=url, extra_env=env, serve_args=serve_args
    )
    try:
        yield running
    finally:
        running.stop()
        if pg_name:
            drop_postgres_database(pg_name)
    log = running.log_path.read_text() if running.log_path else ""
    assert "Traceback" not in log and "unexpected error" not in log, log[-4000:]
