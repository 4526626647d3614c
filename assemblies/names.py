"""When two names are the same name, and which names claim a role (pure: no Django here).

A display name identifies a person in tallies, dissent lists and minutes, and the stack
keeper reads it aloud. So within an assembly no two members may have names that look or
sound alike, and nobody may call themselves "Rosa (facilitator)" or "Site staff": roles are
shown beside names by the site, never written into them.

Names are stored as typed; they are compared by `name_key`. Changing `name_key` changes
which stored names collide: it needs a migration that recomputes `Membership.name_key`
(see assemblies/migrations/0006_membership_name_key.py).
"""

import re
import unicodedata

# Accents and other marks of the Latin, Greek and Cyrillic scripts (after decomposition):
# "José" and "Jose" sound the same when called to speak. Marks of other scripts (Indic
# vowel signs, Arabic vowels) stay: they make different words there.
_DIACRITICS = re.compile("[\u0300-\u036f]")
# Zero-width joiners are allowed inside a name (some scripts need them) but show nothing.
_JOINERS = re.compile("[\u200c\u200d]")

# Greek and Cyrillic letters that look like Latin ones, compared in lower case (an upper
# case look-alike maps through its lower case: Cyrillic capital VE -> ve -> "b"). Each
# script maps one to one, so two names of the same script never collide through this
# table; only a name that mixes in look-alikes from another script does. A deliberately
# small table, not Unicode's full list of confusables (UTS #39). Written as escapes: the
# point of these letters is that they cannot be told apart on sight.
_CYRILLIC = (  # a ve ie ka em en o er es te u ha dze i je komi-de palochka
    "\u0430\u0432\u0435\u043a\u043c\u043d\u043e\u0440"
    "\u0441\u0442\u0443\u0445\u0455\u0456\u0458\u0501"
    "\u04cf"
)
_GREEK = (  # alpha beta epsilon zeta eta iota kappa mu nu omicron rho tau upsilon chi
    "\u03b1\u03b2\u03b5\u03b6\u03b7\u03b9\u03ba\u03bc\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7"
)
_LOOK_ALIKES = str.maketrans(_CYRILLIC + _GREEK, "abekmhopctyxsijdl" + "abezhikmnoptyx")

# Words that claim a role or speak for the site, in the languages the site speaks, as
# `name_key` writes them (lower case, no accents). Matched as whole words only: "Stafford"
# and "Admina" are names, "Staff" and "Rosa (admin)" are not.
ROLE_WORDS = frozenset(
    {
        # English
        "admin", "admins", "administrator", "administrators", "administration",
        "facilitator", "facilitators", "moderator", "moderators", "staff", "multitude",
        "stackkeeper", "timekeeper", "timekeepers",
        # Spanish
        "administrador", "administradora", "administradores", "administradoras",
        "facilitador", "facilitadora", "facilitadores", "facilitadoras",
        "moderador", "moderadora", "moderadores", "moderadoras",
        # French
        "administrateur", "administratrice", "administrateurs", "administratrices",
        "animateur", "animatrice", "animateurs", "animatrices",
        "facilitateur", "facilitatrice", "facilitateurs", "facilitatrices",
        "moderateur", "moderatrice", "moderateurs", "moderatrices",
    }
)  # fmt: skip
# Roles written as two words.
ROLE_PHRASES = (("stack", "keeper"), ("time", "keeper"))

_LETTERS = re.compile(r"[^\W\d_]+")


def name_key(name: str) -> str:
    """What a name is compared by: "ANA", "Ana ", "Aná", full-width "Ana" and "Ana" with a
    Cyrillic A all give "ana".

    NFKC (width and compatibility forms), case folding, no Latin/Greek/Cyrillic accents,
    no joiners, Greek and Cyrillic look-alikes as Latin, white space collapsed.
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _DIACRITICS.sub("", unicodedata.normalize("NFD", text))
    text = _JOINERS.sub("", text).translate(_LOOK_ALIKES)
    return " ".join(unicodedata.normalize("NFKC", text).split())


def claimed_role(name: str) -> str | None:
    """The role word a name claims ("Rosa (facilitator)" -> "facilitator"), or None.

    Words are the runs of letters of `name_key`, so "[moderator] Ben", "admin_2" and a
    full-width "Staff" are caught; so is a role spelled letter by letter ("f.a.c.i.l.i.t").
    """
    words = _LETTERS.findall(name_key(name))
    for word in [*words, *_spelled_out(words)]:
        if word in ROLE_WORDS:
            return word
    for first, second in ROLE_PHRASES:
        if any(words[i : i + 2] == [first, second] for i in range(len(words) - 1)):
            return f"{first} {second}"
    return None


def _spelled_out(words: list[str]):
    """Runs of one-letter words, joined: "r o s a" -> "rosa"."""
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1:
            run.append(word)
            continue
        if len(run) > 1:
            yield "".join(run)
        run = []


def free_variant(name: str, taken: set[str], *, max_length: int) -> str:
    """The first of "Ana 2", "Ana 3", ... whose key is not in `taken` (keys of names in use),
    shortened to fit `max_length`."""
    number = 2
    while True:
        suffix = f" {number}"
        candidate = name[: max_length - len(suffix)].rstrip() + suffix
        if name_key(candidate) not in taken:
            return candidate
        number += 1
