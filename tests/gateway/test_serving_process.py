"""The module each serving process imports (`gateway.asgi`) freezes the heap it built, so the
collector leaves it out of every later collection, and collects again afterwards, having been
off only while it built (ADR 0024)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPORT_FROZEN = "import gc, gateway.asgi; print(gc.get_freeze_count(), gc.isenabled())"


def test_the_serving_process_freezes_what_it_built_at_start(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("IDP_")}
    env |= {
        "IDP_ISSUER": "http://127.0.0.1:8000",
        "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'idp.db'}",
        "IDP_KEYS_DIR": str(tmp_path / "keys"),
    }
    result = subprocess.run(
        [sys.executable, "-c", REPORT_FROZEN],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    frozen, collecting = result.stdout.split()
    # The modules, templates and routes: well over a hundred thousand objects.
    assert int(frozen) > 100_000
    assert collecting == "True"  # what requests make is collected as before
