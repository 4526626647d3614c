"""Spanish and French: the catalogs are complete, compiled and used by the pages."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from assemblies.models import LogEntry, Membership
from assemblies.rule_text import describe_rule
from assemblies.rules import PRESETS
from proposals.models import PositionKind
from sittings.log_text import describe

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ["es", "fr"]

# A few strings a person meets first, and what they must read in each language.
EXPECTED = {
    "es": {
        "Decide together": "Decidir en común",
        "Your position": "Tu posición",
        "Stand aside": "Me aparto",
        "Block": "Bloqueo",
        "Call for consensus": "Llamada al consenso",
        "Facilitator console": "Consola de facilitación",
    },
    "fr": {
        "Decide together": "Décider ensemble",
        "Your position": "Votre position",
        "Stand aside": "Je me tiens à l\u2019écart",
        "Block": "Je bloque",
        "Call for consensus": "Appel au consensus",
        "Facilitator console": "Console de facilitation",
    },
}

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


@pytest.fixture(autouse=True)
def _back_to_english():
    """A request through LocaleMiddleware leaves its language active; do not leak it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _unquote(line: str) -> str:
    text = line[line.index('"') + 1 : line.rindex('"')]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


def parse_po(path: Path) -> list[dict]:
    """A minimal .po reader: flags, msgid, msgid_plural and every msgstr of each entry."""
    entries: list[dict] = []
    entry: dict = {}
    field = None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if "msgid" in entry:
                entries.append(entry)
            entry, field = {}, None
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            entry.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            entry[field] += _unquote(line)
            continue
        field = line.split(" ", 1)[0]
        entry[field] = _unquote(line)
    return entries


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogs_are_compiled(lang):
    messages = LOCALE_DIR / lang / "LC_MESSAGES"
    assert (messages / "django.po").is_file()
    assert (messages / "django.mo").is_file()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(lang):
    entries = parse_po(LOCALE_DIR / lang / "LC_MESSAGES" / "django.po")
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == ""
    assert f"Language: {lang}\n" in header["msgstr"]
    assert "charset=UTF-8" in header["msgstr"]
    assert "Plural-Forms: nplurals=2;" in header["msgstr"]
    assert "fuzzy" not in header.get("flags", set())
    assert len(messages) > 100
    untranslated, fuzzy, broken = [], [], []
    for entry in messages:
        msgstrs = [v for k, v in entry.items() if k.startswith("msgstr")]
        if "msgid_plural" in entry:
            assert {"msgstr[0]", "msgstr[1]"} <= entry.keys(), entry["msgid"]
        if not msgstrs or not all(msgstrs):
            untranslated.append(entry["msgid"])
        if "fuzzy" in entry.get("flags", set()):
            fuzzy.append(entry["msgid"])
        wanted = set(PLACEHOLDER.findall(entry["msgid"]))
        if any(set(PLACEHOLDER.findall(s)) != wanted for s in msgstrs if s):
            broken.append(entry["msgid"])
    assert untranslated == []
    assert fuzzy == []
    assert broken == []


# French sets a space before : ; ! ? and inside « »; it must be one that never breaks, or the
# mark starts a line alone. A no-break space before ":", a narrow one before the others and
# inside the guillemets. A colon with no space before it is inside a token (10:30, a header).
FRENCH_SPACING = [
    (re.compile(r"[ \u202f]:"), "a colon takes a no-break space (U+00A0) before it"),
    (re.compile(r"[^\u202f][;!?»]"), "; ! ? » take a narrow no-break space (U+202F) before"),
    (re.compile(r"«[^\u202f]"), "« takes a narrow no-break space (U+202F) after it"),
]


def test_french_punctuation_has_no_break_spaces():
    wrong = []
    for entry in parse_po(LOCALE_DIR / "fr" / "LC_MESSAGES" / "django.po")[1:]:
        for key, text in entry.items():
            if not key.startswith("msgstr"):
                continue
            for pattern, rule in FRENCH_SPACING:
                for found in pattern.finditer(text):
                    wrong.append(f"{rule}: …{text[max(0, found.start() - 15) : found.end() + 5]}…")
    assert wrong == []


def test_the_french_pages_keep_their_marks_with_their_words(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    body = client.get(reverse("home")).content.decode()
    assert "Multitude\u00a0: décider ensemble" in body


@pytest.mark.parametrize("lang", LANGUAGES)
def test_key_strings_are_translated(lang):
    with translation.override(lang):
        for english, translated in EXPECTED[lang].items():
            assert translation.gettext(english) == translated
        assert str(PositionKind.STAND_ASIDE.label) == EXPECTED[lang]["Stand aside"]
        assert str(PositionKind.BLOCK.label) == EXPECTED[lang]["Block"]
        assert translation.ngettext("%(counter)s member", "%(counter)s members", 2) % {
            "counter": 2
        } in {"2 miembros", "2 membres"}


def test_log_sentences_follow_the_person_in_spanish():
    fran = Membership(pk=1, display_name="Fran")
    with translation.override("es"):
        opened = LogEntry(action="assemblies.meeting.started", actor=fran, data={})
        assert describe(opened) == "Fran abrió la sesión"
        moved = LogEntry(
            action="proposals.phase.changed",
            actor=fran,
            data={"proposal": "Huerto", "old": "presented", "new": "concerns"},
        )
        assert (
            describe(moved) == "Fran pasó «Huerto» de la fase Presentada a la fase Preocupaciones"
        )


def test_rule_descriptions_are_translated_to_french():
    with translation.override("fr"):
        text = describe_rule(PRESETS["occupy_modified_consensus"])
    assert text.startswith("Consensus modifié\u00a0:")
    assert "9/10" in text
    assert "blocage" in text


def test_the_home_page_follows_accept_language(client, db):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="es">' in body
    assert "Decidir en común" in body
    assert "Decide together" not in body


def test_the_home_page_follows_the_language_cookie(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    body = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="fr">' in body
    assert "Décider ensemble" in body


def test_english_stays_the_default(client, db):
    body = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in body
    assert "Decide together" in body


def test_set_language_switches_to_french(client, db):
    response = client.post(reverse("set_language"), {"language": "fr", "next": reverse("home")})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    body = client.get(reverse("home")).content.decode()
    assert '<html lang="fr">' in body
    assert "Décider ensemble" in body
