"""Every message of the gateway's pages has its translation in every language, with the same
placeholders, and the message template is current with the sources."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from idp.protocol.languages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from idp.web.translations import read_catalogue, translations

ROOT = Path(__file__).resolve().parents[4]
# Where the messages are: babel.cfg, as scripts/messages reads it.
with open(ROOT / "babel.cfg", encoding="utf-8") as config:
    METHODS, OPTIONS = parse_mapping_cfg(config)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "translatable": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")
TRANSLATED = [language for language in SUPPORTED_LANGUAGES if language != DEFAULT_LANGUAGE]


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_message_template_is_current() -> None:
    with open(ROOT / "idp/web/locale/messages.pot", "rb") as template:
        committed = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(template) if m.id}
    assert committed == _source_messages(), "run scripts/messages"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_a_reviewed_translation(language: str) -> None:
    catalogue = read_catalogue(language)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = sorted(_source_messages() - translated)
    assert not missing, f"no {language} translation for: {missing}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    for message in read_catalogue(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == expected, (message.id, string)


def test_a_translation_is_what_gettext_answers() -> None:
    assert translations("et").gettext("Sign in") == "Logi sisse"
    assert translations("en").gettext("Sign in") == "Sign in"
    plural = "For your security, this page stops working %(num)d minute after it opens."
    plurals = "For your security, this page stops working %(num)d minutes after it opens."
    assert "minutit" in translations("et").ngettext(plural, plurals, 15)
