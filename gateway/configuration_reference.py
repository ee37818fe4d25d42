"""The configuration reference in docs/configuration.md, generated from the settings classes.

Every field of the settings class becomes one row: its environment variable, type, default and
description. Regenerate the page after changing a setting:

    python -m gateway.configuration_reference > docs/configuration.md

A unit test compares the page with this output, so the reference cannot drift from the code.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePath
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from admin.settings import ConsoleSettings
from idp.settings import IdpSettings, IpNetwork
from transparency.settings import AccessLogSettings

REGENERATE_COMMAND = "python -m gateway.configuration_reference > docs/configuration.md"

_TYPE_NAMES: dict[Any, str] = {
    str: "string",
    int: "integer",
    int | None: "integer",
    bool: "boolean",
    timedelta: "duration",
    float: "number",
    dict[str, timedelta]: "JSON object of durations",
    list[IpNetwork]: "IP addresses or networks",
}
_BOUNDS = (("ge", "at least"), ("gt", "more than"), ("le", "at most"), ("lt", "less than"))
_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))


SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (IdpSettings, AccessLogSettings, ConsoleSettings)


def render_configuration_reference() -> str:
    """The whole Markdown page, ending with one newline."""
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated from idp.settings.IdpSettings, "
        "transparency.settings.AccessLogSettings and admin.settings.ConsoleSettings by "
        f"`{REGENERATE_COMMAND}`. Do not edit by hand. -->",
        "",
        "The gateway reads these environment variables when it starts and refuses to start when "
        "one is invalid. Rules that tie settings together (an idle lifetime never longer than "
        "its absolute lifetime, for example) are the validators next to the fields.",
    ]
    for settings_class in SETTINGS_CLASSES:
        lines += _section(settings_class)
    return "\n".join(lines) + "\n"


def _section(settings_class: type[BaseSettings]) -> list[str]:
    prefix = settings_class.model_config.get("env_prefix") or ""
    lines = [
        "",
        f"## `{prefix}*`: {_class_summary(settings_class)}",
        "",
        f"Defined in `{settings_class.__module__}.{settings_class.__name__}`.",
        "",
        "| Variable | Type | Default | Description |",
        "| --- | --- | --- | --- |",
    ]
    for name, field in settings_class.model_fields.items():
        cells = (
            f"`{prefix}{name.upper()}`",
            _type_name(field),
            _default_text(field),
            _description(name, field),
        )
        lines.append("| " + " | ".join(_cell(text) for text in cells) + " |")
    return lines


def _class_summary(settings_class: type[BaseSettings]) -> str:
    doc = settings_class.__doc__ or ""
    return " ".join(doc.split())


def _description(name: str, field: FieldInfo) -> str:
    description = " ".join((field.description or "").split())
    if not description:
        raise ValueError(f"setting {name!r} has no description")
    return description


def _type_name(field: FieldInfo) -> str:
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        name = "path"
    else:
        name = _TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))
    bounds = [
        f"{words} {getattr(item, attribute)}"
        for item in field.metadata
        for attribute, words in _BOUNDS
        if getattr(item, attribute, None) is not None
    ]
    return f"{name}, {', '.join(bounds)}" if bounds else name


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        shown = int(seconds) if seconds.is_integer() else seconds
        return f"`{shown}` seconds ({describe_duration(value)})"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value is None:
        return "none"
    if isinstance(value, str | dict | list) and not value:
        return "empty"
    return f"`{value}`"


def describe_duration(duration: timedelta) -> str:
    """A duration in words: `timedelta(minutes=90)` reads "1 hour 30 minutes"."""
    total = duration.total_seconds()
    if not total.is_integer() or total < 0:
        return f"{total:g} seconds"
    remaining = int(total)
    parts = []
    for unit, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts) or "0 seconds"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


if __name__ == "__main__":
    print(render_configuration_reference(), end="")
