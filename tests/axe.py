"""axe-core, the accessibility rules every page audit runs in Chromium (npm, pinned in
tests/pages), and how its findings read in a failed assertion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "pages" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, what the page audits require.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']}: {violation['help']} ({violation['helpUrl']})")
        lines += [
            f"    {json.dumps(node['target'])}: {node['failureSummary']}"
            for node in violation["nodes"]
        ]
    return "\n".join(lines)
