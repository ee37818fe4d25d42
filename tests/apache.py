"""Debian's Apache httpd with mod_auth_openidc as an agency's website: its configuration, written
for one test, and the server process, started in the foreground and stopped after the test."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests import http_client

APACHE = Path("/usr/sbin/apache2")
MODULES = Path("/usr/lib/apache2/modules")
MISSING_APACHE = (
    f"Debian's Apache httpd with mod_auth_openidc is not installed ({APACHE}, "
    f"{MODULES / 'mod_auth_openidc.so'}; apt-get install -y --no-install-recommends apache2 "
    "libapache2-mod-auth-openidc, see .ci/install-e2e.sh)"
)
# The fewest modules that protect a folder with OpenID Connect and serve static files.
MODULE_NAMES = ("mpm_event", "authz_core", "authz_user", "authn_core", "auth_openidc")
# Apache starts in well under a second here; a hung start fails in seconds, not minutes.
START_TIMEOUT = 20
STOP_TIMEOUT = 10
SIGNED_OUT_TEXT = "You have signed out of the agency"
PROTECTED_TEXT = "The agency's own pages"


@dataclass(frozen=True)
class AgencySite:
    """Where the site answers; `redirect_uri` is the module's own, under the protected folder."""

    base_url: str

    @property
    def protected_url(self) -> str:
        return f"{self.base_url}/protected/index.html"

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/protected/redirect_uri"

    @property
    def signed_out_url(self) -> str:
        return f"{self.base_url}/signed-out.html"


def write_config(workdir: Path, document_root: Path, *, port: int, snippet: str) -> Path:
    """An httpd.conf of its own (nothing of /etc/apache2), every path absolute, around the
    mod_auth_openidc `snippet` an agency is given (its `${...}` variables are the process's)."""
    loads = "\n".join(
        f"LoadModule {name}_module {MODULES / f'mod_{name}.so'}" for name in MODULE_NAMES
    )
    config = workdir / "httpd.conf"
    config.write_text(
        f"""{loads}
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
DefaultRuntimeDir {workdir}
PidFile {workdir / "httpd.pid"}
ErrorLog {workdir / "error.log"}
LogLevel warn auth_openidc:info
{_run_as()}
# A handful of threads in one process is plenty for one citizen on a 2-core machine.
StartServers 1
ServerLimit 1
ThreadLimit 8
ThreadsPerChild 8
MaxRequestWorkers 8
MinSpareThreads 1
MaxSpareThreads 8
DocumentRoot {document_root}
<Directory />
    Require all denied
</Directory>
<Directory {document_root}>
    Require all granted
</Directory>

# The agency's configuration, as the gateway's onboarding view gives it.
{snippet}
# For the test only: what the module validated, at <redirect_uri>?info=json.
OIDCInfoHook iat id_token userinfo session
"""
    )
    return config


def _run_as() -> str:
    """Started as root, Apache's workers must run as some other user (it refuses root)."""
    if os.geteuid() != 0:
        return ""
    return "User www-data\nGroup www-data"


@contextmanager
def agency_site_files() -> Iterator[Path]:
    """The static pages, in a folder the workers can read even when Apache is started as root
    and switches to www-data (pytest's own tmp folders are private to the user running it)."""
    root = Path(tempfile.mkdtemp(prefix="apache-rp-"))
    try:
        root.chmod(0o755)
        (root / "protected").mkdir(mode=0o755)
        _page(root / "protected" / "index.html", PROTECTED_TEXT)
        _page(root / "signed-out.html", SIGNED_OUT_TEXT)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _page(path: Path, text: str) -> None:
    path.write_text(f"<!doctype html><title>Agency</title><h1>{text}</h1>\n")
    path.chmod(0o644)


@contextmanager
def running_apache(config: Path, *, port: int, env: dict[str, str]) -> Iterator[Path]:
    """`apache2 -f CONFIG -DFOREGROUND` with the variables `env` until Apache answers on
    `port`; yields its error log."""
    workdir = config.parent
    log = workdir / "error.log"
    with open(workdir / "apache.out", "wb") as out:
        process = subprocess.Popen(
            [str(APACHE), "-f", str(config), "-DFOREGROUND"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env={**os.environ, **env},
        )
    try:
        _wait_until_answering(process, f"http://127.0.0.1:{port}/signed-out.html", workdir)
        yield log
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def _wait_until_answering(process: subprocess.Popen[bytes], url: str, workdir: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"apache2 exited: {_output(workdir)}")
        try:
            if http_client.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"apache2 did not answer in {START_TIMEOUT} s: {_output(workdir)}")


def _output(workdir: Path) -> str:
    return "\n".join(
        path.read_text(errors="replace")[-4000:]
        for path in (workdir / "apache.out", workdir / "error.log")
        if path.exists()
    )
