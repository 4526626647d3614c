"""A decision rule in words, in the reader's language: the one description of a rule.

Built from the parameters rather than the preset name, so a customized preset is never
misdescribed; only the consent wording depends on the name, since consent has the same
parameters as full consensus.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from assemblies.rules import DecisionRule, canonical_fraction

# Small counts read better as words in a sentence ("up to one block").
_COUNT_WORDS = {
    1: gettext_lazy("one"),
    2: gettext_lazy("two"),
    3: gettext_lazy("three"),
    4: gettext_lazy("four"),
    5: gettext_lazy("five"),
}


def _count(n: int) -> str:
    return str(_COUNT_WORDS.get(n, n))


def describe_rule(rule: DecisionRule) -> str:
    title, clause = _core(rule)
    clauses = [clause, *_extra(rule)]
    return _("%(title)s: %(clauses)s.") % {"title": title, "clauses": "; ".join(clauses)}


def _core(rule: DecisionRule) -> tuple[str, str]:
    n = rule.max_blocks
    tolerated = ngettext(
        "up to %(count)s block is tolerated", "up to %(count)s blocks are tolerated", n
    ) % {"count": _count(n)}
    if rule.fallback_supermajority is not None:
        fallback = _("if blocked, passes with at least %(share)s of agree + block") % {
            "share": canonical_fraction(rule.fallback_supermajority)
        }
        clause = _("%(tolerated)s, and %(fallback)s") % {
            "tolerated": tolerated,
            "fallback": fallback,
        }
        return _("Modified consensus"), clause if n else fallback
    if n:
        title = _("Consensus minus %(count)s") % {"count": _count(n)}
        return title, _("%(tolerated)s, more stop the proposal") % {"tolerated": tolerated}
    if rule.preset == "consent" and rule.reason_required_for_block:
        return _("Consent"), _("passes unless someone raises a reasoned objection")
    return _("Full consensus"), _("any block stops the proposal")


def _extra(rule: DecisionRule) -> list[str]:
    clauses = []
    if rule.stand_aside_limit is not None:
        clauses.append(
            _("fails if more than %(share)s of positions stand aside or block")
            % {"share": canonical_fraction(rule.stand_aside_limit)}
        )
    if rule.quorum:
        clauses.append(
            ngettext(
                "needs at least %(count)s position",
                "needs at least %(count)s positions",
                rule.quorum,
            )
            % {"count": _count(rule.quorum)}
        )
    if not rule.reason_required_for_block:
        clauses.append(_("blocks need no reason"))
    if rule.reason_required_for_stand_aside:
        clauses.append(_("stand-asides must give a reason"))
    return clauses
