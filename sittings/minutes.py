"""Meeting minutes as Markdown: who was there, what was proposed, asked, amended and decided,
and the public facilitation log, all read in a fixed number of queries."""

import re
from collections import defaultdict

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from assemblies.models import (
    AgendaItem,
    LogEntry,
    Meeting,
    Membership,
    MembershipStatus,
    Role,
    StackEntry,
    hall_speaker_label,
)
from assemblies.names import name_key
from assemblies.selectors import presence_of
from proposals.models import (
    Comment,
    CommentKind,
    CommentStatus,
    Decision,
    Position,
    Revision,
    TemperatureCheck,
    TemperatureReading,
)
from proposals.selectors import recorded_name, tree_head_of_size
from sittings import log_text

# What a Markdown renderer could read as markup in people's words: emphasis, code, links and
# images are escaped with a backslash (every renderer knows these); raw HTML and entities
# are written as entities, which every renderer shows as the character itself.
_MARKUP = re.compile(r"([\\`*_\[\]])")


def _no_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _line(text: str) -> str:
    """People's words on one Markdown line, as plain text: no line breaks, and nothing a
    Markdown renderer would read as markup (a link, emphasis, raw HTML)."""
    return _MARKUP.sub(r"\\\1", _no_html(" ".join(str(text or "").split())))


def _quote(text: str) -> str:
    """A proposal's own Markdown, quoted, with raw HTML disarmed for any renderer."""
    lines = _no_html(str(text)).splitlines()
    return "\n".join(f"> {line}" if line else ">" for line in lines) or ">"


def _said(who: str, words: str) -> str:
    """ "Name: words", with the language's own spacing before the colon."""
    return _("%(name)s: %(words)s") % {"name": who, "words": words}


def _time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _load(meeting: Meeting):
    agenda = list(
        AgendaItem.objects.filter(meeting=meeting)
        .select_related("proposal__author")
        .prefetch_related(
            Prefetch(
                "proposal__revisions",
                Revision.objects.select_related("author", "amendment__member").order_by("number"),
            ),
            Prefetch(
                "proposal__comments",
                Comment.objects.select_related("member").order_by("created_at", "pk"),
            ),
            Prefetch(
                "proposal__temperature_checks",
                TemperatureCheck.objects.prefetch_related(
                    Prefetch("readings", TemperatureReading.objects.only("check_run_id", "reading"))
                ).order_by("opened_at", "pk"),
            ),
        )
        .order_by("position")
    )
    proposal_ids = [item.proposal_id for item in agenda]
    decisions = {
        d.proposal_id: d
        for d in Decision.objects.filter(proposal_id__in=proposal_ids).select_related("closed_by")
    }
    active = set(
        Position.objects.filter(proposal_id__in=proposal_ids).values_list("member_id", flat=True)
    ) | set(
        Comment.objects.filter(proposal_id__in=proposal_ids).values_list("member_id", flat=True)
    )
    facilitators = Q(role=Role.FACILITATOR, status=MembershipStatus.ACTIVE)
    attendance = list(
        Membership.objects.filter(assembly_id=meeting.assembly_id)
        .filter(Q(pk__in=active) | facilitators)
        .order_by("display_name", "pk")
    )
    log = list(
        LogEntry.objects.filter(meeting=meeting)
        .select_related("actor")
        .order_by("created_at", "pk")
    )
    return agenda, decisions, attendance, _hall_speakers(meeting), log


def _hall_speakers(meeting: Meeting) -> list[str]:
    """The people in the hall without a phone who were given the floor: not members, but
    they took part."""
    called = StackEntry.objects.filter(
        meeting=meeting, member__isnull=True, called_at__isnull=False
    ).values_list("hall_name", flat=True)
    by_key = {}
    for name in called:
        by_key.setdefault(name_key(name), name)
    return sorted(by_key.values(), key=name_key)


def tree_head_after(meeting: Meeting, decisions=None):
    """The head signed with the sitting's last decision: the record as the sitting left it."""
    if decisions is None:
        decisions = Decision.objects.filter(proposal__agenda_items__meeting=meeting)
    sequences = [decision.sequence for decision in decisions]
    if not sequences:
        return None
    return tree_head_of_size(meeting.assembly_id, max(sequences))


def minutes_markdown(meeting: Meeting) -> str:
    agenda, decisions, attendance, hall_speakers, log = _load(meeting)
    out = ["# " + _("Minutes: %(title)s") % {"title": _line(meeting.title)}, ""]
    out.append("- " + _("Assembly: %(name)s") % {"name": _line(meeting.assembly.name)})
    if meeting.location:
        out.append("- " + _("Location: %(place)s") % {"place": _line(meeting.location)})
    out.append("- " + _("Scheduled for: %(when)s") % {"when": _time(meeting.scheduled_for)})
    out.append("- " + _("Opened: %(when)s") % {"when": _time(meeting.started_at)})
    out.append("- " + _("Adjourned: %(when)s") % {"when": _time(meeting.ended_at)})
    out += ["", "## " + _("Attendance"), ""]
    presence = presence_of(meeting)
    if presence["present"]:
        out += [
            _("Present: %(present)d (%(checked_in)d checked in, %(at_door)d counted at the door).")
            % presence,
            "",
        ]
    for member in attendance:
        name = _line(member.display_name)
        if member.role == Role.FACILITATOR:
            # A whole sentence to translate: gettext cannot be found inside an f-string.
            name = _("%(name)s (facilitator)") % {"name": name}
        out.append(f"- {name}")
    for name in hall_speakers:
        out.append(f"- {_line(hall_speaker_label(name))}")
    if not attendance and not hall_speakers:
        out.append(_("Nobody took part."))
    out += ["", "## " + _("Agenda"), ""]
    if not agenda:
        out.append(_("Nothing was on the agenda."))
    for item in agenda:
        out += _proposal_section(item, decisions.get(item.proposal_id))
    head = tree_head_after(meeting, decisions.values())
    if head is not None:
        out += ["", "## " + _("Signed record"), ""]
        out.append(
            _(
                "Signed tree head after this sitting's decisions: %(size)d decisions, root "
                "`%(root)s`, signed %(when)s with key `%(key)s`. Anyone can check a later "
                "download of the history against it (docs/history-verification.md)."
            )
            % {
                "size": head.tree_size,
                "root": head.root_hash,
                "when": _time(head.signed_at),
                "key": head.key_id,
            }
        )
    out += ["", "## " + _("Facilitation log"), ""]
    for entry in log:
        # The same sentences as the public log page, one line each.
        out.append(f"- {entry.created_at:%H:%M:%S} — {_line(log_text.describe(entry))}")
    if not log:
        out.append(_("Nothing was logged."))
    return "\n".join(out) + "\n"


def _proposal_section(item: AgendaItem, decision: Decision | None) -> list[str]:
    proposal = item.proposal
    out = [
        f"### {item.position}. {_line(proposal.title)}",
        "",
        _("Proposed by %(name)s; phase: %(phase)s.")
        % {"name": _line(proposal.author.display_name), "phase": proposal.get_phase_display()},
        "",
    ]
    revisions = list(proposal.revisions.all())
    if revisions:
        final = revisions[-1]
        heading = _("Text (revision %(number)d):") % {"number": final.number}
        out += [heading, "", _quote(final.text), ""]
    if len(revisions) > 1:
        out += ["#### " + _("Revisions"), ""]
        for revision in revisions:
            summary = f": {_line(revision.summary)}" if revision.summary else ""
            origin = ""
            if revision.amendment_id:
                by = _line(revision.amendment.member.display_name)
                origin = " ({})".format(_("friendly amendment by %(name)s") % {"name": by})
            line = _("Revision %(number)d by %(name)s") % {
                "number": revision.number,
                "name": _line(revision.author.display_name),
            }
            out.append(f"- {line}{origin}{summary}")
        out.append("")
    comments = list(proposal.comments.all())
    out += _comments(comments)
    out += _temperature(list(proposal.temperature_checks.all()))
    out += _decision(decision)
    return out


def _comments(comments: list[Comment]) -> list[str]:
    out = []
    answers = defaultdict(list)
    for comment in comments:
        if comment.kind == CommentKind.ANSWER:
            answers[comment.parent_id].append(comment)
    sections = [
        (CommentKind.QUESTION, _("Clarifying questions")),
        (CommentKind.CONCERN, _("Concerns")),
        (CommentKind.AMENDMENT, _("Friendly amendments")),
    ]
    for kind, title in sections:
        rows = [c for c in comments if c.kind == kind]
        if not rows:
            continue
        out += [f"#### {title}", ""]
        for comment in rows:
            status = (
                f" ({comment.get_status_display().lower()})"
                if comment.status != CommentStatus.OPEN
                else ""
            )
            who = f"{_line(comment.member.display_name)}{status}"
            out.append("- " + _said(who, _line(comment.text)))
            for answer in answers.get(comment.pk, []):
                by = _("Answer by %(name)s") % {"name": _line(answer.member.display_name)}
                out.append("  - " + _said(by, _line(answer.text)))
        out.append("")
    return out


def _temperature(checks: list[TemperatureCheck]) -> list[str]:
    if not checks:
        return []
    out = ["#### " + _("Temperature checks"), ""]
    for check in checks:
        counts = {"up": 0, "so_so": 0, "down": 0}
        for reading in check.readings.all():
            counts[reading.reading] += 1
        reading = _("on revision %(number)d: up %(up)d, so-so %(so_so)d, down %(down)d") % {
            "number": check.revision_number,
            **counts,
        }
        out.append(f"- {check.opened_at:%H:%M} {reading}")
    out.append("")
    return out


def _decision(decision: Decision | None) -> list[str]:
    if decision is None:
        return [_("No decision was recorded."), ""]
    summary = _(
        "(decision #%(sequence)d, %(when)s): %(agree)d agree, %(stand_aside)d stand aside, "
        "%(block)d block."
    ) % {"sequence": decision.sequence, "when": _time(decision.decided_at), **decision.counts}
    out = ["#### " + _("Decision"), "", f"**{decision.get_outcome_display()}** {summary}", ""]
    if decision.hall_counts:
        parts = {"online": decision.online_counts, "hall": decision.hall_counts}
        out += [
            _("Online: %(agree)d agree, %(stand_aside)d stand aside, %(block)d block.")
            % parts["online"]
            + " "
            + _(
                "In the hall (counted by %(counters)s): %(agree)d agree, %(stand_aside)d stand "
                "aside, %(block)d block."
            )
            % {
                **parts["hall"],
                "counters": _line(", ".join(decision.record.get("hall", {}).get("counters", []))),
            },
            "",
        ]
    closer = decision.closed_by.display_name if decision.closed_by else _("the set closing time")
    closed = _("Closed by %(name)s.") % {"name": _line(closer)}
    out += [f"{closed} " + _("Digest") + f" `{decision.digest}`.", ""]
    for kind, title in (("block", _("Blocks:")), ("stand_aside", _("Stand-asides:"))):
        rows = [p for p in decision.record.get("positions", []) if p.get("kind") == kind]
        if rows:
            out += [title, ""]
            for position in rows:
                reason = _line(position.get("reason")) or _("no reason given")
                out.append("- " + _said(_line(recorded_name(position)), reason))
            out.append("")
    hall_blocks = decision.record.get("hall", {}).get("blocks", [])
    if hall_blocks:
        out += [_("Blocks in the hall, as spoken:"), ""]
        for block in hall_blocks:
            who = _line(block.get("name")) or _("from the hall")
            out.append("- " + _said(who, _line(block.get("reason")) or _("no reason given")))
        out.append("")
    return out
