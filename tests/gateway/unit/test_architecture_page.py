"""docs/architecture.md answers "where is X" with paths: every module, folder or template it
names exists, so the page cannot point at a file that was moved or renamed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("idp", "consent", "transparency", "admin", "agency", "gateway", "tests", "bench")
NAMED = re.compile(r"`((?:{})/[A-Za-z0-9_./-]*)`".format("|".join(PACKAGES)))


def named_paths() -> list[str]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    return sorted({match.group(1) for match in NAMED.finditer(text)})


def test_the_page_names_paths() -> None:
    assert "idp/oauth/pkce.py" in named_paths()


def _exists(path: str) -> bool:
    if path.endswith(".html"):  # a template, named as the page renderer loads it
        return any(ROOT.glob(f"*/**/templates/{path}"))
    return (ROOT / path).exists()


def test_every_module_folder_and_template_the_page_names_exists() -> None:
    assert [path for path in named_paths() if not _exists(path)] == []
