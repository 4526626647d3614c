"""A decision rule in words, in the reader's language (rules.describe is its English twin)."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assemblies.rules import DecisionRule, canonical_fraction


def describe_rule(rule: DecisionRule) -> str:
    title, clause = _core(rule)
    clauses = [clause, *_extra(rule)]
    return _("%(title)s: %(clauses)s.") % {"title": title, "clauses": "; ".join(clauses)}


def _core(rule: DecisionRule) -> tuple[str, str]:
    n = rule.max_blocks
    tolerated = ngettext(
        "up to %(n)d block is tolerated", "up to %(n)d blocks are tolerated", n
    ) % {"n": n}
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
        title = ngettext("Consensus minus %(n)d", "Consensus minus %(n)d", n) % {"n": n}
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
            ngettext("needs at least %(n)d position", "needs at least %(n)d positions", rule.quorum)
            % {"n": rule.quorum}
        )
    if not rule.reason_required_for_block:
        clauses.append(_("blocks need no reason"))
    if rule.reason_required_for_stand_aside:
        clauses.append(_("stand-asides must give a reason"))
    return clauses
