"""Which language a citizen's page is in: the languages the gateway speaks, and the choice among
them from what the request carries.

The order is the one OpenID Connect implies: `ui_locales` on the authorization request (OIDC Core
3.1.2.1) decides for that interaction's pages, until the citizen picks another language with the
switcher; then the language the citizen picked before (a cookie); then the browser's
`Accept-Language` (RFC 9110 12.5.4); then English.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from babel import negotiate_locale

# The first is the default. Adding a language: a catalogue under idp/web/locale/ and a name here.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "et")
DEFAULT_LANGUAGE = SUPPORTED_LANGUAGES[0]
# Each language's name in itself, as the switcher shows it.
LANGUAGE_NAMES = {"en": "English", "et": "Eesti"}

_MAX_TAGS = 20  # a header or parameter with more is cut: nobody prefers 20 languages


def supported_language(tags: Iterable[str]) -> str | None:
    """The first of `tags` (most preferred first) the gateway speaks, matching `et-EE` to `et`."""
    preferred = [tag.strip() for tag in tags if _is_language_tag(tag.strip())][:_MAX_TAGS]
    if not preferred:
        return None
    return negotiate_locale(preferred, list(SUPPORTED_LANGUAGES), sep="-")


def language_from_ui_locales(ui_locales: str | None) -> str | None:
    """`ui_locales`: space-separated BCP 47 tags, most preferred first."""
    if not ui_locales:
        return None
    return supported_language(ui_locales.split(" ")[:_MAX_TAGS])


def language_from_accept_language(header: str | None) -> str | None:
    """`Accept-Language`: tags with optional weights; `q=0` means "not this one"."""
    if not header:
        return None
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:_MAX_TAGS]):
        tag, _, parameters = item.partition(";")
        weight = _weight(parameters)
        if weight > 0 and tag.strip() != "*":
            weighted.append((-weight, position, tag.strip()))
    return supported_language(tag for _, _, tag in sorted(weighted))


def choose_language(
    *,
    interaction_language: str | None = None,
    picked: str | None = None,
    accept_language: str | None = None,
) -> str:
    """The page's language. `interaction_language` is what `ui_locales` or the switcher set for
    the interaction the page belongs to; `picked` what the citizen chose before (a cookie)."""
    for candidate in (interaction_language, picked):
        if candidate in SUPPORTED_LANGUAGES:
            return candidate
    return language_from_accept_language(accept_language) or DEFAULT_LANGUAGE


def translatable(message: str) -> str:
    """Marks a message for the catalogues where it is defined (an error page's text, a scope's
    description); the page that shows it translates it. Extraction looks for this name."""
    return message


def other_languages(current: str) -> Sequence[str]:
    return [language for language in SUPPORTED_LANGUAGES if language != current]


def _weight(parameters: str) -> float:
    name, _, value = parameters.strip().partition("=")
    if name.strip().lower() != "q":
        return 1.0
    try:
        weight = float(value)
    except ValueError:
        return 0.0
    return weight if 0 <= weight <= 1 else 0.0


def _is_language_tag(tag: str) -> bool:
    # BCP 47 in the shape that matters here: letters and digits in subtags of 1 to 8, by '-'.
    parts = tag.split("-")
    return 0 < len(tag) <= 35 and all(
        0 < len(p) <= 8 and p.isascii() and p.isalnum() for p in parts
    )
