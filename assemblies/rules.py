"""Decision rules: how an assembly turns positions on a proposal into an outcome.

Multitude follows the consensus tradition of general assemblies (Occupy and its
heirs). On a proposal every member takes one position:

* ``agree``: supports it;
* ``stand_aside``: will not support it, but lets the group go ahead;
* ``block``: a principled objection that, under full consensus, stops it.

A :class:`DecisionRule` is the assembly's written process. Its knobs cover the
common variants:

* **Full consensus** (``max_blocks=0``): a single block stops the proposal.
* **Consensus minus one / minus two** (``max_blocks=1`` / ``2``): one or two
  blocks are tolerated, so a lone objector cannot hold the whole group hostage.
* **Modified consensus** (``fallback_supermajority``): when a proposal is
  blocked, it still passes if ``agree / (agree + block)`` reaches the threshold.
  The NYC General Assembly at Liberty Square (Occupy Wall Street, 2011) used a
  9/10 fallback; stand-asides count in neither side of that ratio. Its minutes
  record proposals failing at 86.5% because 86.5% < 90%.
* **Stand-aside limit** (``stand_aside_limit``): many traditions hold that if
  too many people stand aside, there is no real consensus even without blocks.
  The share checked is ``(stand_aside + block) / total``: every position that
  does not support the proposal, including blocks the rule tolerates.
* **Consent** (sociocracy): a proposal passes unless someone raises a reasoned,
  paramount objection. Modelled as full consensus where a block must carry a
  reason and a stand-aside need not.
* **Quorum** (``quorum``): the minimum number of positions for any decision, or, when the
  assembly measures quorum against presence, the minimum number of members present at the
  sitting (``decide(..., present=n)``); some position must be taken either way.

:func:`decide` applies a rule to a :class:`Tally`. It uses exact
:class:`~fractions.Fraction` arithmetic, never floats, so thresholds are met
exactly: 9 agree and 1 block is 9/10 and passes a 9/10 fallback.

Two outcomes, ``tabled`` and ``withdrawn``, are decided by people (the
facilitator or the proposer), never computed by :func:`decide`.

This module is pure Python on purpose: the same rules run in views, in
background tallies, in the verifiable history and in tests, without Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from fractions import Fraction
from typing import Any

__all__ = [
    "DEFAULT_RULE",
    "PRESETS",
    "PRESET_LABELS",
    "DecisionRule",
    "Outcome",
    "PositionKind",
    "RuleError",
    "Tally",
    "canonical_fraction",
    "decide",
    "parse_fraction",
]


class RuleError(ValueError):
    """A decision rule (or its serialized form) is invalid."""


class Outcome(StrEnum):
    """What became of a proposal. Values are stable, stored snake_case strings."""

    CONSENSUS = "consensus"
    CONSENSUS_WITH_STAND_ASIDES = "consensus_with_stand_asides"
    MODIFIED_CONSENSUS = "modified_consensus"
    BLOCKED = "blocked"
    TOO_MANY_STAND_ASIDES = "too_many_stand_asides"
    NO_QUORUM = "no_quorum"
    TABLED = "tabled"
    WITHDRAWN = "withdrawn"

    @property
    def passed(self) -> bool:
        """True when the proposal was adopted, whichever way it got there."""
        return self in _PASSING

    @property
    def computed(self) -> bool:
        """False for outcomes set by people (tabled, withdrawn), not by :func:`decide`."""
        return self not in _MANUAL


_PASSING = frozenset(
    {Outcome.CONSENSUS, Outcome.CONSENSUS_WITH_STAND_ASIDES, Outcome.MODIFIED_CONSENSUS}
)
_MANUAL = frozenset({Outcome.TABLED, Outcome.WITHDRAWN})


class PositionKind(StrEnum):
    """The position a member takes on a proposal."""

    AGREE = "agree"
    STAND_ASIDE = "stand_aside"
    BLOCK = "block"


@dataclass(frozen=True)
class Tally:
    """Counts of each position. Immutable, so a tally can be shared and cached."""

    agree: int = 0
    stand_aside: int = 0
    block: int = 0

    def __post_init__(self) -> None:
        for kind in PositionKind:
            _check_count(f"tally.{kind}", getattr(self, kind), error=ValueError)

    @property
    def total(self) -> int:
        """Every position taken, whatever its kind: this is what quorum counts."""
        return self.agree + self.stand_aside + self.block

    @classmethod
    def from_kinds(cls, kinds: Iterable[str | PositionKind]) -> Tally:
        """Count positions given as kinds (strings or :class:`PositionKind`), in any order."""
        counts = dict.fromkeys(PositionKind, 0)
        for kind in kinds:
            counts[PositionKind(kind)] += 1
        return cls(**{str(kind): n for kind, n in counts.items()})

    def with_added(self, kind: str | PositionKind) -> Tally:
        """A new tally with one more position of ``kind`` (tallies are immutable)."""
        kind = PositionKind(kind)
        return replace(self, **{str(kind): getattr(self, kind) + 1})

    def __add__(self, other: Tally) -> Tally:
        """Online and hall counts together: the tally the rule applies to (docs/hybrid.md)."""
        if not isinstance(other, Tally):
            return NotImplemented
        return Tally(
            **{str(kind): getattr(self, kind) + getattr(other, kind) for kind in PositionKind}
        )

    def as_dict(self) -> dict[str, int]:
        """JSON-safe counts keyed by position kind."""
        return {str(kind): getattr(self, kind) for kind in PositionKind}


PRESET_LABELS: dict[str, str] = {
    "consensus": "Full consensus",
    "consensus_minus_one": "Consensus minus one",
    "consensus_minus_two": "Consensus minus two",
    "occupy_modified_consensus": "Modified consensus, 9/10 fallback (NYC General Assembly)",
    "two_thirds_fallback": "Modified consensus, 2/3 fallback",
    "consent": "Consent (sociocracy)",
}

_FRACTION_FIELDS = ("fallback_supermajority", "stand_aside_limit")


@dataclass(frozen=True)
class DecisionRule:
    """An assembly's decision process. Validated on creation, so a rule is always usable.

    ``preset`` records which preset the rule came from (a known preset name or
    None). It is provenance, not a constraint: a preset whose quorum was then
    customized keeps its name; :attr:`matches_preset` tells whether the
    parameters are still exactly the preset's.
    """

    max_blocks: int = 0
    fallback_supermajority: Fraction | None = None
    stand_aside_limit: Fraction | None = None
    quorum: int = 0
    reason_required_for_block: bool = True
    reason_required_for_stand_aside: bool = False
    preset: str | None = None

    def __post_init__(self) -> None:
        _check_count("max_blocks", self.max_blocks)
        _check_count("quorum", self.quorum)
        for name in _FRACTION_FIELDS:
            _check_share(name, getattr(self, name))
        _check_flag("reason_required_for_block", self.reason_required_for_block)
        _check_flag("reason_required_for_stand_aside", self.reason_required_for_stand_aside)
        _check_preset_name(self.preset)

    @property
    def effective_quorum(self) -> int:
        """The positions actually needed: at least one, since nobody deciding decides nothing."""
        return max(self.quorum, 1)

    @property
    def matches_preset(self) -> bool:
        """True when ``preset`` is set and the parameters are exactly that preset's."""
        return self.preset is not None and PRESETS.get(self.preset) == self

    def reason_required(self, kind: str | PositionKind) -> bool:
        """Whether a member taking this position must explain it. Agreeing never needs one."""
        kind = PositionKind(kind)
        if kind is PositionKind.BLOCK:
            return self.reason_required_for_block
        if kind is PositionKind.STAND_ASIDE:
            return self.reason_required_for_stand_aside
        return False

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form; fractions become canonical ``"p/q"`` strings so no float ever appears."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _FRACTION_FIELDS:
            data[name] = canonical_fraction(data[name])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionRule:
        """Build a rule from :meth:`to_dict` output, a partial dict, or ``{"preset": name}``.

        Missing parameters come from the named preset, or from the defaults (full
        consensus) when there is none. Unknown keys, floats and malformed
        fractions raise :class:`RuleError` rather than being guessed at.
        """
        if not isinstance(data, Mapping):
            raise RuleError(f"a decision rule must be a mapping, got {type(data).__name__}")
        unknown = set(data) - _FIELD_NAMES
        if unknown:
            raise RuleError(f"unknown decision rule keys: {', '.join(sorted(map(str, unknown)))}")
        params = dict(data)
        for name in _FRACTION_FIELDS:
            if name in params:
                params[name] = _parse_field(name, params[name])
        return replace(_base_for(data.get("preset")), **params)


_FIELD_NAMES = frozenset(f.name for f in fields(DecisionRule))


def _check_count(name: str, value: Any, error: type[ValueError] = RuleError) -> None:
    """Counts must be real non-negative ints; bools and floats are rejected, not coerced."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise error(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise error(f"{name} must be zero or more, got {value}")


def _check_share(name: str, value: Any) -> None:
    """Shares are exact Fractions in (0, 1]: 0 or more than 1 would make the rule meaningless."""
    if value is None:
        return
    if not isinstance(value, Fraction):
        raise RuleError(f"{name} must be a Fraction or None, got {value!r}")
    if not 0 < value <= 1:
        raise RuleError(
            f"{name} must be more than 0 and at most 1, got {canonical_fraction(value)}"
        )


def _check_flag(name: str, value: Any) -> None:
    """Flags must be real bools, so a stray ``"false"`` string is not read as True."""
    if not isinstance(value, bool):
        raise RuleError(f"{name} must be true or false, got {value!r}")


def _check_preset_name(name: Any) -> None:
    """Only known preset names are accepted, so labels and descriptions never dangle."""
    if name is not None and name not in PRESET_LABELS:
        raise RuleError(f"unknown preset {name!r}; known presets: {', '.join(PRESET_LABELS)}")


def _base_for(preset: Any) -> DecisionRule:
    """The rule whose values fill in whatever a dict leaves out."""
    if preset is None:
        return DecisionRule()
    _check_preset_name(preset)
    return PRESETS[preset]


def _parse_field(name: str, value: Any) -> Fraction | None:
    """Parse one fraction field, naming it in the error so API clients know what to fix."""
    try:
        return parse_fraction(value)
    except RuleError as exc:
        raise RuleError(f"{name}: {exc}") from None


# At most nine digits a side: a threshold is a share people can read (and int() of a few
# thousand digits is refused by Python itself).
_FRACTION_RE = re.compile(r"(\d{1,9})/(\d{1,9})")


def canonical_fraction(f: Fraction | None) -> str | None:
    """Serialize a fraction as ``"p/q"`` in lowest terms (``"1/1"`` for one), None as None."""
    if f is None:
        return None
    return f"{f.numerator}/{f.denominator}"


def parse_fraction(value: Any) -> Fraction | None:
    """Read a fraction from None, a Fraction, an int or a ``"p/q"`` string.

    Floats and decimal strings are refused: 0.9 is not exactly 9/10 in binary,
    and a threshold must mean exactly what the assembly voted for. Range checks
    belong to :class:`DecisionRule`, which knows what each fraction is for.
    """
    if value is None or isinstance(value, Fraction):
        return value
    if isinstance(value, (bool, float)):
        raise RuleError(f"fractions must be given as 'p/q' strings such as '9/10', not {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    match = _FRACTION_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise RuleError(f"malformed fraction {value!r:.40}; expected a 'p/q' string such as '9/10'")
    numerator, denominator = map(int, match.groups())
    if denominator == 0:
        raise RuleError(f"malformed fraction {value!r}: the denominator is zero")
    return Fraction(numerator, denominator)


def _preset(name: str, **params: Any) -> DecisionRule:
    return DecisionRule(preset=name, **params)


PRESETS: dict[str, DecisionRule] = {
    "consensus": _preset("consensus"),
    "consensus_minus_one": _preset("consensus_minus_one", max_blocks=1),
    "consensus_minus_two": _preset("consensus_minus_two", max_blocks=2),
    "occupy_modified_consensus": _preset(
        "occupy_modified_consensus", fallback_supermajority=Fraction(9, 10)
    ),
    "two_thirds_fallback": _preset("two_thirds_fallback", fallback_supermajority=Fraction(2, 3)),
    "consent": _preset(
        "consent", reason_required_for_block=True, reason_required_for_stand_aside=False
    ),
}


def decide(rule: DecisionRule, tally: Tally, *, present: int | None = None) -> Outcome:
    """Apply ``rule`` to ``tally``. Never returns tabled or withdrawn.

    ``present``, when given, is the number of members present at the sitting: the quorum
    is then measured against it instead of the positions taken (an assembly's setting).

    Order of checks: quorum, then blocks (with the supermajority fallback),
    then the stand-aside limit. A blocked proposal reports BLOCKED even when
    the stand-aside limit is also exceeded, because the block is the decisive
    objection. With no positions at all the result is NO_QUORUM whatever the
    quorum, since nothing can pass when nobody took part.
    """
    if present is not None:
        _check_count("present", present, error=ValueError)
    measured = tally.total if present is None else present
    if measured < rule.effective_quorum or tally.total == 0:
        return Outcome.NO_QUORUM
    blocked = tally.block > rule.max_blocks
    by_fallback = blocked and _fallback_carries(rule, tally)
    if blocked and not by_fallback:
        return Outcome.BLOCKED
    if _too_many_stand_asides(rule, tally):
        return Outcome.TOO_MANY_STAND_ASIDES
    if by_fallback:
        return Outcome.MODIFIED_CONSENSUS
    if tally.stand_aside:
        return Outcome.CONSENSUS_WITH_STAND_ASIDES
    return Outcome.CONSENSUS


def _fallback_carries(rule: DecisionRule, tally: Tally) -> bool:
    """Modified consensus: agree / (agree + block) reaches the threshold (inclusive).

    Stand-asides are left out of the ratio, as in the NYC GA process. Only called
    when blocked, so there is at least one block and the denominator is positive.
    """
    threshold = rule.fallback_supermajority
    return threshold is not None and Fraction(tally.agree, tally.agree + tally.block) >= threshold


def _too_many_stand_asides(rule: DecisionRule, tally: Tally) -> bool:
    """The share of non-support, (stand_aside + block) / total, exceeds the limit.

    Tolerated blocks count as non-support too. Otherwise, under consensus minus
    one, adding a block would dilute the stand-aside share and could turn a
    failing proposal into a passing one; counting it keeps "adding a block never
    turns a fail into a pass" true (apart from the block that completes quorum).
    """
    limit = rule.stand_aside_limit
    return limit is not None and Fraction(tally.stand_aside + tally.block, tally.total) > limit


# What an assembly decides by until it chooses otherwise.
DEFAULT_RULE = PRESETS["consensus"]
