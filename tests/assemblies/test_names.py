"""assemblies.names: when two names are one name, and which names claim a role (pure)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assemblies.names import claimed_role, free_variant, name_key

# Each row: spellings that are the same name as "Ana".
SAME_AS_ANA = [
    "Ana",
    "ANA",
    "ana",
    "Ana ",
    " Ana",
    "\uff21\uff4e\uff41",  # full width
    "\U0001d400\U0001d427\U0001d41a",  # mathematical bold
    "Aná",  # an accent does not make another name when it is read aloud
    "A\u0301na",  # the same, decomposed
    "\u0410na",  # a Cyrillic capital A
    "\u0391na",  # a Greek capital alpha
    "A\u200dna",  # a joiner shows nothing
]


@pytest.mark.parametrize("spelling", SAME_AS_ANA)
def test_spellings_of_one_name_have_one_key(spelling):
    assert name_key(spelling) == name_key("Ana") == "ana"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ana", "Anna"),
        ("Ana", "Ana 2"),
        ("Ana Maria", "Ana"),
        ("Ana", "Ena"),
        ("Анна", "Ана"),  # two Cyrillic names stay two names
        ("गुरु", "गर"),  # Devanagari vowel signs are letters there, not accents
        ("Stafford", "Staff"),
    ],
)
def test_different_names_have_different_keys(first, second):
    assert name_key(first) != name_key(second)


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("Ana   Maria", "ana maria"),
        ("Ana\u00a0Maria", "ana maria"),
        ("Ana\u3000Maria", "ana maria"),
        ("Straße", "strasse"),
        ("ﬁona", "fiona"),
        ("ÉLODIE", "elodie"),
    ],
)
def test_the_key_folds_space_case_and_compatibility_forms(spelling, key):
    assert name_key(spelling) == key


# Each row: a name, and the role word it claims (None: it claims none).
ROLES = [
    ("Rosa (facilitator)", "facilitator"),
    ("Facilitator", "facilitator"),
    ("FACILITATORS", "facilitators"),
    ("[moderator] Ben", "moderator"),
    ("admin", "admin"),
    ("Admin_2", "admin"),
    ("Staff", "staff"),
    ("Site staff", "staff"),
    ("Multitude", "multitude"),
    ("The stack keeper", "stack keeper"),
    ("Timekeeper", "timekeeper"),
    ("\uff33\uff54\uff41\uff46\uff46", "staff"),
    ("F\u0430cilitator", "facilitator"),  # a Cyrillic small a inside
    ("f.a.c.i.l.i.t.a.t.o.r", "facilitator"),
    ("Rosa (a d m i n)", "admin"),
    # Spanish
    ("Rosa (facilitadora)", "facilitadora"),
    ("Facilitador", "facilitador"),
    ("Moderador Ben", "moderador"),
    ("moderadora", "moderadora"),
    ("Administrador", "administrador"),
    # French
    ("Rosa (animatrice)", "animatrice"),
    ("Animateur", "animateur"),
    ("Facilitateur", "facilitateur"),
    ("facilitatrice Léa", "facilitatrice"),
    ("Modérateur", "moderateur"),
    ("MODÉRATRICE", "moderatrice"),
    ("Administrateur du site", "administrateur"),
    # Names, not roles
    ("Rosa", None),
    ("Stafford", None),
    ("Admina", None),
    ("Ana Facil", None),
    ("Moderna", None),
    ("Animal Collective", None),
    ("Multitudes of Ana", None),
    ("A. B. Smith", None),
]


@pytest.mark.parametrize(("name", "role"), ROLES, ids=[row[0] for row in ROLES])
def test_it_finds_the_role_a_name_claims(name, role):
    assert claimed_role(name) == role


def test_it_suggests_the_first_free_numbered_name():
    assert free_variant("Ana", {"ana"}, max_length=80) == "Ana 2"
    assert free_variant("Ana", {"ana", "ana 2", "ana 3"}, max_length=80) == "Ana 4"
    assert free_variant("Ana", {"ana", "ana 3"}, max_length=80) == "Ana 2"


def test_it_keeps_the_spelling_of_the_name_in_a_suggestion():
    assert free_variant("\uff21\uff2e\uff21", {"ana"}, max_length=80) == "\uff21\uff2e\uff21 2"


def test_a_suggestion_fits_the_longest_name():
    suggestion = free_variant("x" * 80, {"x" * 80}, max_length=80)
    assert suggestion == "x" * 78 + " 2"


@given(
    name=st.text(min_size=1, max_size=80),
    taken=st.sets(st.integers(2, 30).map(lambda n: f" {n}"), max_size=10),
)
def test_a_suggestion_is_never_taken_and_never_too_long(name, taken):
    keys = {name_key(name)} | {name_key(name[: 80 - len(s)].rstrip() + s) for s in taken}
    suggestion = free_variant(name, keys, max_length=80)
    assert name_key(suggestion) not in keys
    assert len(suggestion) <= 80
