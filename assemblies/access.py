"""Fetch an object *and* check that the person may see or act on it.

Outsiders get the same `NotFound` for "missing" and "forbidden", so nothing leaks.
"""

from django.contrib.auth.models import AnonymousUser, User
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from assemblies.models import Assembly, Meeting, Membership, MembershipStatus, Role
from core.errors import NotFound, PermissionDenied


def membership_for(user: User | AnonymousUser | None, assembly: Assembly) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, assembly=assembly).first()


def can_view(assembly: Assembly, member: Membership | None) -> bool:
    if not assembly.is_private:
        return True
    return member is not None and member.is_active


def get_assembly_for(user, slug: str) -> tuple[Assembly, Membership | None]:
    """The assembly with this slug and the user's membership; NotFound if they may not see it."""
    assembly = Assembly.objects.filter(slug=slug).first()
    if assembly is None:
        raise NotFound("assembly_not_found", _("There is no such assembly."))
    member = membership_for(user, assembly)
    if not can_view(assembly, member):
        raise NotFound("assembly_not_found", _("There is no such assembly."))
    return assembly, member


def require_active_member(member: Membership | None) -> Membership:
    if member is None or member.status != MembershipStatus.ACTIVE:
        if member is not None and member.status == MembershipStatus.PENDING:
            raise PermissionDenied(
                "membership_pending", _("A facilitator has not admitted you to this assembly yet.")
            )
        raise PermissionDenied("not_a_member", _("Only members of this assembly can do this."))
    return member


def require_participant(member: Membership | None) -> Membership:
    """Active and allowed to take part: observers watch but do not act."""
    member = require_active_member(member)
    if member.role == Role.OBSERVER:
        raise PermissionDenied("observer", _("Observers can watch but not take part."))
    return member


def require_facilitator(member: Membership | None) -> Membership:
    """Facilitating now: a facilitator of the assembly, or of the sitting in session (named
    for it or accepted as a stand-in), and not asked by the members present to step aside."""
    member = require_active_member(member)
    if not member.is_facilitator:
        if member.stepped_aside_from_id is not None:
            raise PermissionDenied(
                "stepped_aside",
                _("The members present asked you to step aside for the rest of this sitting."),
            )
        raise PermissionDenied(
            "not_facilitator", _("Only a facilitator of this assembly can do this.")
        )
    return member


def require_assembly_facilitator(member: Membership | None) -> Membership:
    """One of the assembly's own facilitators: its settings, its roles and its members are
    theirs, never a sitting's stand-in's."""
    member = require_facilitator(member)
    if not member.holds_facilitator_role:
        raise PermissionDenied(
            "not_assembly_facilitator",
            _("Only a facilitator of the assembly can do this, not one for a sitting."),
        )
    return member


def normalize_join_code(code: str) -> str:
    return (code or "").strip().upper().replace(" ", "").replace("-", "")


def get_assembly_for_join_link(user, slug: str, code: str) -> tuple[Assembly, bool]:
    """The assembly a join link points at, and whether the link's code is its current one.

    A private assembly shows its join page only with the right code (or to its members).
    """
    assembly = Assembly.objects.filter(slug=slug).first()
    if assembly is not None and normalize_join_code(code) == assembly.join_code:
        return assembly, True
    assembly, _member = get_assembly_for(user, slug)
    return assembly, False


def get_assembly_for_projector(user, slug: str, key: str) -> tuple[Assembly, Membership | None]:
    """As `get_assembly_for`, and the projector link's secret opens the assembly's projector
    (the screen in the hall of a private assembly, opened by nobody logged in)."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    found = get_assemblies_for_projector([(user_id, slug, key)])[(user_id, slug, key)]
    if isinstance(found, NotFound):
        raise found
    return found


type ProjectorRequest = tuple[int | None, str, str]  # (user id or None, slug, projector key)


def get_assemblies_for_projector(
    requests: list[ProjectorRequest],
) -> dict[ProjectorRequest, tuple[Assembly, Membership | None] | NotFound]:
    """`get_assembly_for_projector` for many at once, in two queries (a storm of sockets
    reconnecting after a host is lost): each request's assembly and membership, or the
    NotFound it would raise."""
    slugs = {slug for _user, slug, _key in requests}
    assemblies = {a.slug: a for a in Assembly.objects.filter(slug__in=slugs)}
    users = {user_id for user_id, _slug, _key in requests if user_id is not None}
    memberships = {
        (m.user_id, m.assembly_id): m
        for m in Membership.objects.filter(user_id__in=users, assembly__in=assemblies.values())
    }
    found: dict[ProjectorRequest, tuple[Assembly, Membership | None] | NotFound] = {}
    for user_id, slug, key in requests:
        assembly = assemblies.get(slug)
        member = memberships.get((user_id, assembly.pk)) if assembly is not None else None
        if assembly is not None and can_view(assembly, member):
            found[(user_id, slug, key)] = (assembly, member)
        elif assembly is not None and key and constant_time_compare(key, assembly.projector_key):
            found[(user_id, slug, key)] = (assembly, None)
        else:
            found[(user_id, slug, key)] = NotFound(
                "assembly_not_found", _("There is no such assembly.")
            )
    return found


def get_meeting_for(user, meeting_id: int):
    """A sitting and the user's membership in its assembly; NotFound if they may not see it."""
    meeting = Meeting.objects.select_related("assembly").filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound("meeting_not_found", _("There is no such sitting."))
    member = membership_for(user, meeting.assembly)
    if not can_view(meeting.assembly, member):
        raise NotFound("meeting_not_found", _("There is no such sitting."))
    return meeting, member


def get_member_for(assembly: Assembly, member_id: int) -> Membership:
    """A membership of this assembly (the caller was authorised on the assembly already)."""
    member = Membership.objects.filter(assembly=assembly, pk=member_id).first()
    if member is None:
        raise NotFound("member_not_found", _("There is no such member."))
    return member
