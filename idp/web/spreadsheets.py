"""Cells of the CSV files the gateway sends, made safe to open in a spreadsheet."""

from __future__ import annotations

from typing import Any


def spreadsheet_safe(value: Any) -> str:
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    # A cell a spreadsheet would run as a formula is sent as text (OWASP CSV injection).
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
