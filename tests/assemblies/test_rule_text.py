"""The one description of a rule (assemblies.rule_text), in English here; see test_i18n."""

from dataclasses import replace
from fractions import Fraction

import pytest

from assemblies.rule_text import describe_rule
from assemblies.rules import PRESETS

NYC = PRESETS["occupy_modified_consensus"]
MINUS_ONE = PRESETS["consensus_minus_one"]
MINUS_TWO = PRESETS["consensus_minus_two"]
FULL = PRESETS["consensus"]
CONSENT = PRESETS["consent"]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (FULL, "Full consensus: any block stops the proposal."),
        (NYC, "Modified consensus: if blocked, passes with at least 9/10 of agree + block."),
        (MINUS_ONE, "Consensus minus one: up to one block is tolerated, more stop the proposal."),
        (CONSENT, "Consent: passes unless someone raises a reasoned objection."),
        (
            replace(MINUS_TWO, stand_aside_limit=Fraction(1, 4), quorum=20),
            "Consensus minus two: up to two blocks are tolerated, more stop the proposal; "
            "fails if more than 1/4 of positions stand aside or block; "
            "needs at least 20 positions.",
        ),
    ],
    ids=["full", "nyc", "minus-one", "consent", "customized"],
)
def test_it_describes_rules_in_one_sentence(rule, expected):
    assert describe_rule(rule) == expected


def test_every_preset_has_a_distinct_description():
    descriptions = [describe_rule(rule) for rule in PRESETS.values()]
    assert len(set(descriptions)) == len(descriptions)
