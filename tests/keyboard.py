"""What a keyboard user meets on a page, read in the browser: the elements in the tab order,
which has focus, what Tab reaches in turn, and how each element looks (the styles a focus
indicator is made of, the backgrounds behind it)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

# What a script reads of an element: a key (its place in the document), a name for messages,
# the styles a focus indicator is made of, and the backgrounds of its ancestors, nearest first.
READ_ELEMENT = """(element) => {
  const style = getComputedStyle(element);
  const behind = [];
  for (let up = element.parentElement; up; up = up.parentElement) {
    behind.push(getComputedStyle(up).backgroundColor);
  }
  const text = (element.innerText || element.value || "").trim().replace(/\\s+/g, " ");
  return {
    key: Array.from(document.querySelectorAll("*")).indexOf(element),
    name: element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
      + (element.className ? "." + element.className : "") + ' "' + text.slice(0, 40) + '"',
    styles: {outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth,
             outlineColor: style.outlineColor, boxShadow: style.boxShadow,
             backgroundColor: style.backgroundColor},
    border: ["Top", "Right", "Bottom", "Left"].map(
      side => [style["border" + side + "Color"], parseFloat(style["border" + side + "Width"])]),
    behind,
  };
}"""
# Every element the Tab key should reach: focusable, in the tab order, rendered. A details
# element's summary is one (it opens and closes it).
TABBABLE = """() => Array.from(
  document.querySelectorAll(
    "a[href], button, input, select, textarea, details > summary:first-of-type, [tabindex]")
).filter(e => e.tabIndex >= 0 && !e.disabled && e.type !== "hidden"
  && e.checkVisibility({visibilityProperty: true}))"""


def read_active(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(f"({READ_ELEMENT})(document.activeElement)")
    return result


def first_in_tab_order(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(f"() => ({READ_ELEMENT})(({TABBABLE})()[0])")
    return result


def tab_walk(page: Page) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
    """Every element in the tab order as it is when not focused (by key), and the elements
    focused in turn: the one focused as the page loaded (if any), then each Tab reaches, until
    one comes round again."""
    started = page.evaluate("document.activeElement !== document.body")
    at_rest = page.evaluate(
        f"""() => {{
          const read = {READ_ELEMENT};
          const first = document.activeElement;
          first.blur();
          const all = ({TABBABLE})();
          if (first !== document.body && !all.includes(first)) all.push(first);
          const result = all.map(read);
          if (first !== document.body) first.focus();
          return result;
        }}"""
    )
    unfocused = {item["key"]: item for item in at_rest}
    focused = [read_active(page)] if started else []
    seen = {item["key"] for item in focused}
    for _ in range(len(unfocused) + 3):
        page.keyboard.press("Tab")
        current = read_active(page)
        if current["name"].startswith("body"):
            continue  # between the last element and the first
        if current["key"] in seen:
            break
        seen.add(current["key"])
        focused.append(current)
    return unfocused, focused


def press_until(page: Page, selector: str, *, key: str = "Tab", limit: int = 30) -> None:
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{key} never reached {selector}; focus is on {read_active(page)['name']}")
