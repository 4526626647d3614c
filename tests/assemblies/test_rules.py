"""Tests for assemblies.rules: the pure decision logic, no Django needed."""

import json
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from assemblies.rules import (
    PRESET_LABELS,
    PRESETS,
    DecisionRule,
    Outcome,
    PositionKind,
    RuleError,
    Tally,
    canonical_fraction,
    decide,
    parse_fraction,
)

NYC = PRESETS["occupy_modified_consensus"]
MINUS_ONE = PRESETS["consensus_minus_one"]
MINUS_TWO = PRESETS["consensus_minus_two"]
FULL = PRESETS["consensus"]
TWO_THIRDS = PRESETS["two_thirds_fallback"]
CONSENT = PRESETS["consent"]
QUARTER_LIMIT = DecisionRule(stand_aside_limit=Fraction(1, 4))


def tally(agree=0, stand_aside=0, block=0):
    return Tally(agree=agree, stand_aside=stand_aside, block=block)


# --- Real cases -----------------------------------------------------------------------------

CASES = [
    # NYC GA minutes: 86.5% support failed a 9/10 modified consensus.
    pytest.param(NYC, tally(45, 0, 7), Outcome.BLOCKED, id="nyc-45-agree-7-block-86pct-blocked"),
    pytest.param(NYC, tally(9, 0, 1), Outcome.MODIFIED_CONSENSUS, id="nyc-9-to-1-exactly-90pct"),
    pytest.param(NYC, tally(90, 0, 10), Outcome.MODIFIED_CONSENSUS, id="nyc-90-to-10"),
    pytest.param(NYC, tally(89, 0, 10), Outcome.BLOCKED, id="nyc-89-to-10-just-under"),
    pytest.param(
        NYC, tally(9, 30, 1), Outcome.MODIFIED_CONSENSUS, id="nyc-stand-asides-outside-ratio"
    ),
    pytest.param(NYC, tally(12, 0, 0), Outcome.CONSENSUS, id="nyc-unblocked-is-plain-consensus"),
    pytest.param(MINUS_ONE, tally(20, 0, 1), Outcome.CONSENSUS, id="minus-one-1-block-tolerated"),
    pytest.param(MINUS_ONE, tally(20, 0, 2), Outcome.BLOCKED, id="minus-one-2-blocks"),
    pytest.param(
        MINUS_TWO,
        tally(20, 3, 2),
        Outcome.CONSENSUS_WITH_STAND_ASIDES,
        id="minus-two-2-blocks-and-stand-asides",
    ),
    pytest.param(MINUS_TWO, tally(20, 0, 3), Outcome.BLOCKED, id="minus-two-3-blocks"),
    pytest.param(
        replace(FULL, quorum=10), tally(9, 0, 0), Outcome.NO_QUORUM, id="quorum-10-with-9"
    ),
    pytest.param(
        replace(FULL, quorum=10),
        tally(8, 2, 0),
        Outcome.CONSENSUS_WITH_STAND_ASIDES,
        id="quorum-10-with-10",
    ),
    pytest.param(
        QUARTER_LIMIT,
        tally(75, 25, 0),
        Outcome.CONSENSUS_WITH_STAND_ASIDES,
        id="limit-quarter-exactly-quarter-passes",
    ),
    pytest.param(
        QUARTER_LIMIT,
        tally(74, 26, 0),
        Outcome.TOO_MANY_STAND_ASIDES,
        id="limit-quarter-just-over-fails",
    ),
    pytest.param(
        replace(MINUS_ONE, stand_aside_limit=Fraction(1, 4)),
        tally(2, 1, 1),
        Outcome.TOO_MANY_STAND_ASIDES,
        id="limit-counts-tolerated-block-as-non-support",
    ),
    pytest.param(
        replace(NYC, stand_aside_limit=Fraction(1, 4)),
        tally(9, 3, 1),
        Outcome.TOO_MANY_STAND_ASIDES,
        id="fallback-passes-but-too-many-stand-asides",
    ),
    pytest.param(
        QUARTER_LIMIT, tally(1, 5, 1), Outcome.BLOCKED, id="blocked-and-too-many-stand-asides"
    ),
    pytest.param(
        FULL, tally(10, 2, 0), Outcome.CONSENSUS_WITH_STAND_ASIDES, id="full-stand-asides-no-block"
    ),
    pytest.param(FULL, tally(30, 0, 1), Outcome.BLOCKED, id="full-one-block-stops-it"),
    pytest.param(FULL, tally(1, 0, 0), Outcome.CONSENSUS, id="full-single-agree-quorum-0"),
    pytest.param(FULL, tally(), Outcome.NO_QUORUM, id="zero-positions-no-quorum"),
    pytest.param(NYC, tally(), Outcome.NO_QUORUM, id="zero-positions-nyc-no-quorum"),
    pytest.param(TWO_THIRDS, tally(2, 0, 1), Outcome.MODIFIED_CONSENSUS, id="two-thirds-2-to-1"),
    pytest.param(TWO_THIRDS, tally(1, 0, 1), Outcome.BLOCKED, id="two-thirds-1-to-1"),
    pytest.param(CONSENT, tally(5, 0, 1), Outcome.BLOCKED, id="consent-objection-stops-it"),
    pytest.param(
        CONSENT, tally(5, 4, 0), Outcome.CONSENSUS_WITH_STAND_ASIDES, id="consent-stand-asides"
    ),
]


@pytest.mark.parametrize(("rule", "counts", "expected"), CASES)
def test_it_decides_real_cases(rule, counts, expected):
    assert decide(rule, counts) is expected


# --- Outcome, PositionKind, Tally -----------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "passed", "computed"),
    [
        (Outcome.CONSENSUS, True, True),
        (Outcome.CONSENSUS_WITH_STAND_ASIDES, True, True),
        (Outcome.MODIFIED_CONSENSUS, True, True),
        (Outcome.BLOCKED, False, True),
        (Outcome.TOO_MANY_STAND_ASIDES, False, True),
        (Outcome.NO_QUORUM, False, True),
        (Outcome.TABLED, False, False),
        (Outcome.WITHDRAWN, False, False),
    ],
    ids=str,
)
def test_it_knows_which_outcomes_pass_and_which_are_computed(outcome, passed, computed):
    assert outcome.passed is passed
    assert outcome.computed is computed
    assert outcome == outcome.name.lower()


def test_it_counts_positions_from_kinds():
    counts = Tally.from_kinds(["agree", PositionKind.BLOCK, "stand_aside", "agree"])
    assert counts == tally(2, 1, 1)
    assert counts.total == 4
    assert counts.as_dict() == {"agree": 2, "stand_aside": 1, "block": 1}
    assert json.loads(json.dumps(counts.as_dict())) == counts.as_dict()


def test_it_adds_a_position_without_mutating_the_tally():
    before = tally(1, 1, 1)
    assert before.with_added("block") == tally(1, 1, 2)
    assert before.with_added(PositionKind.AGREE) == tally(2, 1, 1)
    assert before == tally(1, 1, 1)


@pytest.mark.parametrize("bad", [-1, 1.0, True, "3"], ids=repr)
def test_it_refuses_bad_tally_counts(bad):
    with pytest.raises(ValueError):
        Tally(agree=bad)


def test_it_refuses_unknown_position_kinds():
    with pytest.raises(ValueError):
        Tally.from_kinds(["agree", "abstain"])


# --- Presets, labels, descriptions ----------------------------------------------------------


def test_presets_have_the_documented_parameters():
    assert (FULL.max_blocks, FULL.fallback_supermajority) == (0, None)
    assert MINUS_ONE.max_blocks == 1
    assert MINUS_TWO.max_blocks == 2
    assert (NYC.max_blocks, NYC.fallback_supermajority) == (0, Fraction(9, 10))
    assert (TWO_THIRDS.max_blocks, TWO_THIRDS.fallback_supermajority) == (0, Fraction(2, 3))
    assert (CONSENT.max_blocks, CONSENT.stand_aside_limit) == (0, None)
    assert CONSENT.reason_required(PositionKind.BLOCK)
    assert not CONSENT.reason_required(PositionKind.STAND_ASIDE)
    assert all(rule.preset == name and rule.matches_preset for name, rule in PRESETS.items())
    assert set(PRESET_LABELS) == set(PRESETS)


@pytest.mark.parametrize(
    ("kind", "required"), [("agree", False), ("stand_aside", True), ("block", False)]
)
def test_it_says_which_positions_need_a_reason(kind, required):
    rule = DecisionRule(reason_required_for_block=False, reason_required_for_stand_aside=True)
    assert rule.reason_required(kind) is required


# --- Serialization --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PRESETS))
def test_it_round_trips_every_preset(name):
    data = PRESETS[name].to_dict()
    assert json.loads(json.dumps(data)) == data
    assert DecisionRule.from_dict(data) == PRESETS[name]
    assert DecisionRule.from_dict({"preset": name}) == PRESETS[name]


def test_it_serializes_fractions_as_canonical_strings():
    assert NYC.to_dict() == {
        "max_blocks": 0,
        "fallback_supermajority": "9/10",
        "stand_aside_limit": None,
        "quorum": 0,
        "reason_required_for_block": True,
        "reason_required_for_stand_aside": False,
        "preset": "occupy_modified_consensus",
    }


def test_it_fills_partial_dicts_with_defaults():
    assert DecisionRule.from_dict({}) == DecisionRule()
    assert DecisionRule.from_dict({"quorum": 5, "stand_aside_limit": "18/72"}) == DecisionRule(
        quorum=5, stand_aside_limit=Fraction(1, 4)
    )


def test_it_customizes_a_preset_and_keeps_its_name_as_provenance():
    rule = DecisionRule.from_dict({"preset": "occupy_modified_consensus", "quorum": 30})
    assert rule == replace(NYC, quorum=30)
    assert rule.preset == "occupy_modified_consensus"
    assert not rule.matches_preset


def test_it_accepts_integer_fractions():
    assert DecisionRule.from_dict({"fallback_supermajority": 1}).fallback_supermajority == 1


@pytest.mark.parametrize(
    "data",
    [
        {"fallback_supermajority": 0.9},
        {"fallback_supermajority": "abc"},
        {"fallback_supermajority": "0.9"},
        {"stand_aside_limit": "0/1"},
        {"stand_aside_limit": "3/2"},
        {"stand_aside_limit": "1/0"},
        {"stand_aside_limit": 0},
        {"fallback_supermajority": True},
        {"max_blocks": -1},
        {"max_blocks": "1"},
        {"max_blocks": True},
        {"quorum": -3},
        {"reason_required_for_block": "false"},
        {"supermajority": "9/10"},
        {"preset": "unanimity"},
        {"preset": "consensus", "colour": "red"},
    ],
    ids=repr,
)
def test_it_refuses_invalid_dicts(data):
    with pytest.raises(RuleError):
        DecisionRule.from_dict(data)


@pytest.mark.parametrize("data", [None, [("quorum", 3)], "consensus"], ids=repr)
def test_it_refuses_non_mappings(data):
    with pytest.raises(RuleError):
        DecisionRule.from_dict(data)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fallback_supermajority": 0.9},
        {"fallback_supermajority": "9/10"},
        {"stand_aside_limit": Fraction(0)},
        {"quorum": -1},
        {"preset": "nope"},
    ],
    ids=repr,
)
def test_the_constructor_refuses_invalid_parameters(kwargs):
    with pytest.raises(RuleError):
        DecisionRule(**kwargs)


def test_rule_errors_are_value_errors_with_clear_messages():
    with pytest.raises(ValueError, match="max_blocks must be zero or more"):
        DecisionRule(max_blocks=-1)
    with pytest.raises(RuleError, match=r"fallback_supermajority.*'9/10'"):
        DecisionRule.from_dict({"fallback_supermajority": 0.9})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (Fraction(9, 10), "9/10"), (Fraction(18, 20), "9/10"), (Fraction(1), "1/1")],
    ids=repr,
)
def test_it_writes_canonical_fractions(value, expected):
    assert canonical_fraction(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("9/10", Fraction(9, 10)), (" 2/3 ", Fraction(2, 3)), (1, Fraction(1))],
    ids=repr,
)
def test_it_parses_fractions(value, expected):
    assert parse_fraction(value) == expected


# --- Properties -----------------------------------------------------------------------------

shares = st.none() | st.integers(1, 40).flatmap(
    lambda q: st.integers(1, q).map(lambda p: Fraction(p, q))
)
rules = st.builds(
    DecisionRule,
    max_blocks=st.integers(0, 3),
    fallback_supermajority=shares,
    stand_aside_limit=shares,
    quorum=st.integers(0, 30),
    reason_required_for_block=st.booleans(),
    reason_required_for_stand_aside=st.booleans(),
    preset=st.none() | st.sampled_from(list(PRESETS)),
)
tallies = st.builds(
    Tally, agree=st.integers(0, 60), stand_aside=st.integers(0, 30), block=st.integers(0, 15)
)


def completes_quorum(rule, counts):
    """True when one more position, of any kind, is the one that reaches quorum."""
    return counts.total + 1 == rule.effective_quorum


@given(rules)
def test_it_round_trips_random_rules_through_json(rule):
    data = json.loads(json.dumps(rule.to_dict()))
    assert DecisionRule.from_dict(data) == rule


@given(rules, tallies)
def test_adding_an_agree_never_turns_a_pass_into_a_fail(rule, counts):
    assume(decide(rule, counts).passed)
    assert decide(rule, counts.with_added(PositionKind.AGREE)).passed


@given(rules, tallies)
def test_adding_a_block_never_turns_a_fail_into_a_pass_unless_it_completes_quorum(rule, counts):
    """A block is still presence: quorum counts people who took part, whatever they said.

    So when the tally is one position short of quorum, a block can be the position
    that lets the proposal be decided at all, and the tolerated-blocks or fallback
    rules may then let it pass. Everywhere else a block can only hurt.
    """
    assume(not completes_quorum(rule, counts))
    assume(not decide(rule, counts).passed)
    assert not decide(rule, counts.with_added(PositionKind.BLOCK)).passed


@given(rules, tallies)
def test_adding_a_stand_aside_never_turns_a_fail_into_a_pass_unless_it_completes_quorum(
    rule, counts
):
    """Standing aside is presence too, so the same quorum exception applies as for blocks."""
    assume(not completes_quorum(rule, counts))
    assume(not decide(rule, counts).passed)
    assert not decide(rule, counts.with_added(PositionKind.STAND_ASIDE)).passed


@given(rules, tallies, st.data())
def test_the_order_positions_arrive_in_never_matters(rule, counts, data):
    kinds = [kind for kind in PositionKind for _ in range(getattr(counts, kind))]
    shuffled = data.draw(st.permutations(kinds))
    assert Tally.from_kinds(shuffled) == counts
    assert decide(rule, Tally.from_kinds(shuffled)) is decide(rule, counts)


@given(rules, tallies)
def test_decide_only_returns_computed_outcomes(rule, counts):
    outcome = decide(rule, counts)
    assert outcome.computed
    assert outcome not in (Outcome.TABLED, Outcome.WITHDRAWN)


@given(rules, tallies)
def test_passed_matches_the_rule_conditions(rule, counts):
    """An independent restatement of the rule: pass iff quorum, blocks and limit all allow it."""
    outcome = decide(rule, counts)
    quorate = counts.total >= max(rule.quorum, 1)
    within_blocks = counts.block <= rule.max_blocks
    fallback = rule.fallback_supermajority
    carried = within_blocks or (
        fallback is not None and Fraction(counts.agree, counts.agree + counts.block) >= fallback
    )
    limit = rule.stand_aside_limit
    supported = (
        limit is None
        or not quorate
        or Fraction(counts.stand_aside + counts.block, counts.total) <= limit
    )
    assert outcome.passed is (quorate and carried and supported)
    assert (outcome is Outcome.MODIFIED_CONSENSUS) is (outcome.passed and not within_blocks)
