"""The message catalogues of the citizen's pages: one gettext catalogue (`.po`) per language under
`idp/web/locale/`, read and compiled by Babel when the gateway starts, so no compiled file can
drift from its source. English is the source language: its messages are the catalogue's ids.

`pybabel extract -F babel.cfg -o idp/web/locale/messages.pot .` collects the messages from the
templates and the Python sources; `pybabel update -i idp/web/locale/messages.pot -d
idp/web/locale` carries them into each language's catalogue.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib.resources import files
from io import BytesIO

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from idp.protocol.languages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

DOMAIN = "messages"


def catalogue_path(language: str) -> str:
    return str(files("idp.web") / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po")


def read_catalogue(language: str) -> Catalog:
    with open(catalogue_path(language), "rb") as source:
        return read_po(source, locale=language, domain=DOMAIN)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """What `gettext` answers in `language`. Fuzzy entries (not yet reviewed) are left out,
    so the English shows instead of a guess."""
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"no catalogue for {language!r}")
    compiled = BytesIO()
    write_mo(compiled, read_catalogue(language), use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
