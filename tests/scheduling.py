"""How the suite is spread over parallel workers (pytest-xdist): one work unit per test file and
storage engine, the slowest units first.

A file's tests share module and session fixtures (a gateway, a log full of activity), so they
stay together; the engines never share one (every such fixture is parametrized by engine), so
each half of a file can go to another worker. The slowest files start first, so that no worker
is left alone with one of them at the end; xdist's own reordering of units by their number of
tests is turned off, since it would put hundreds of quick unit tests before them. The summary at
the end names the slowest units (setup, call and teardown of their tests), to keep the list true.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

# The files that take longest (the summary of slowest work units, `pytest --durations`), slowest
# first.
SLOWEST_FIRST = (
    "tests/idp/web/test_page_accessibility.py",
    "tests/admin/test_console_browser.py",
    "tests/idp/web/test_fuzz.py",
    "tests/admin/test_admin_api_schema.py",
    "tests/transparency/test_access_log.py",
    "tests/gateway/test_issuer_move.py",
    "tests/transparency/test_access_log_concurrency.py",
    "tests/gateway/test_operator_cli.py",
    "tests/admin/test_console.py",
    "tests/consent/test_withdrawal_race.py",
    "tests/idp/storage/test_database_outage.py",
    "tests/idp/authentication/test_sign_in_throttle.py",
    "tests/idp/web/test_browser.py",
    "tests/idp/passkeys/test_passkeys_browser.py",
)
_ENGINE = re.compile(r"\[(?:[^\]]*-)?(sqlite|postgresql)(?:-[^\]]*)?\]$")


def work_unit(nodeid: str) -> str:
    """`tests/x.py[sqlite]` for `tests/x.py::test_y[sqlite-case]`; the file alone otherwise."""
    file = nodeid.split("::", 1)[0]
    engine = _ENGINE.search(nodeid)
    return f"{file}[{engine.group(1)}]" if engine else file


class ByFileAndEngine(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> ByFileAndEngine:
    config.option.loadscopereorder = False  # keep the order of pytest_collection_modifyitems
    return ByFileAndEngine(config, log)


_unit_seconds: defaultdict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _unit_seconds[work_unit(report.nodeid)] += report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _unit_seconds:
        return
    terminalreporter.write_sep("=", "slowest work units (tests/scheduling.py)")
    for unit, seconds in sorted(_unit_seconds.items(), key=lambda item: -item[1])[:25]:
        terminalreporter.write_line(f"{seconds:8.1f}s {unit}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        file = item.nodeid.split("::", 1)[0]
        return SLOWEST_FIRST.index(file) if file in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file, and of the rest, is kept
