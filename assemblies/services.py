"""Every write to assemblies, memberships and sittings. Views, consumers and the API call these.

Each function takes keyword-only arguments with the acting member given explicitly, runs in
one transaction, enforces the invariants, writes the public log where a facilitator acts,
and announces the change after commit.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from assemblies.access import (
    normalize_join_code,
    require_active_member,
    require_assembly_facilitator,
    require_facilitator,
)
from assemblies.models import (
    NAME_KEY_LENGTH,
    AgendaItem,
    Assembly,
    JoinedVia,
    LogEntry,
    Meeting,
    Membership,
    MembershipStatus,
    QuorumOf,
    Role,
    Visibility,
    new_join_code,
)
from assemblies.names import claimed_role, free_variant, name_key
from assemblies.rules import DEFAULT_RULE, DecisionRule, RuleError
from core.errors import Conflict, DomainError, NotFound, PermissionDenied, TooManyRequests
from core.events import ACCESS, publish_on_commit
from core.text import deceives, has_control, has_visible


def record_action(
    *,
    assembly: Assembly,
    actor: Membership | None,
    action: str,
    meeting: Meeting | None = None,
    **data,
) -> LogEntry:
    """Write one line of the public facilitation log (namespaced code, rendered later)."""
    # It does not publish: the service that writes it announces its change once.
    return LogEntry.objects.create(
        assembly=assembly, meeting=meeting, actor=actor, action=action, data=data
    )


def parse_rule(data: dict | DecisionRule | None) -> DecisionRule:
    if data is None:
        return DEFAULT_RULE
    if isinstance(data, DecisionRule):
        return data
    try:
        return DecisionRule.from_dict(data)
    except RuleError as error:
        raise DomainError("invalid_rule", str(error)) from error


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "assembly"
    slug = base
    while Assembly.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


DISPLAY_NAME_LENGTH = 80
# The most proxies an assembly may let one member carry for one sitting or proposal.
MAX_PROXY_CAP = 20


def clean_display_name(display_name: str) -> str:
    """A name others will see in tallies and minutes, kept as typed (trimmed, runs of spaces
    made one): visible, not disguised, claiming no role. Whether it is free in an assembly is
    `require_free_name`'s question."""
    # Control characters are refused, not turned into spaces: only the ends' ordinary white
    # space (a pasted line break) goes before the check.
    name = (display_name or "").strip(" \t\r\n")
    if has_control(name, keep_line_breaks=False):
        raise DomainError(
            "display_name_invalid", _("A name cannot contain control characters or broken text.")
        )
    name = " ".join(name.split())
    if not has_visible(name):
        raise DomainError("display_name_required", _("Please give a name to be shown to others."))
    if deceives(name):
        raise DomainError(
            "display_name_invalid",
            _("Use visible letters in a name, without invisible or direction-changing ones."),
        )
    if len(name) > DISPLAY_NAME_LENGTH or len(name_key(name)) > NAME_KEY_LENGTH:
        raise DomainError("display_name_too_long", _("A display name has at most 80 characters."))
    if claimed_role(name):
        raise DomainError(
            "display_name_claims_role",
            _(
                "A name cannot claim a role or speak for the site (such as “facilitator” or "
                "“admin”): the site shows each person's role beside their name."
            ),
        )
    return name


class NameTaken(Conflict):
    """The name (as `name_key` compares names) is someone else's here; a free one is offered."""

    def __init__(self, name: str, suggestion: str):
        message = _("“%(name)s” is taken here: “%(suggestion)s”?") % {
            "name": name,
            "suggestion": suggestion,
        }
        super().__init__("display_name_taken", message)
        self.suggestion = suggestion

    def as_dict(self) -> dict:
        return {**super().as_dict(), "suggestion": self.suggestion}


def require_free_name(*, assembly_id: int, name: str, member: Membership | None = None) -> None:
    """Refuse a name another membership of the assembly has (any status: a member who left
    still has their name in the minutes). `member` is the one being renamed, if any."""
    others = Membership.objects.filter(assembly_id=assembly_id, name_key=name_key(name))
    if member is not None:
        others = others.exclude(pk=member.pk)
    if others.exists():
        raise name_taken(assembly_id=assembly_id, name=name)


def name_taken(*, assembly_id: int, name: str) -> NameTaken:
    """The refusal, with the first "Ana 2", "Ana 3", ... that nobody here has."""
    # Every suggestion starts with this stem, however it is shortened to fit.
    stem = name_key(name[: DISPLAY_NAME_LENGTH - 6])
    taken = set(
        Membership.objects.filter(assembly_id=assembly_id, name_key__startswith=stem).values_list(
            "name_key", flat=True
        )
    )
    return NameTaken(name, free_variant(name, taken, max_length=DISPLAY_NAME_LENGTH))


def require_in_assembly(actor: Membership | None, assembly_id: int) -> None:
    """A member of another assembly (even its facilitator) is an outsider here: NotFound."""
    if actor is not None and actor.assembly_id != assembly_id:
        raise NotFound("assembly_not_found", _("There is no such assembly."))


def default_display_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


@transaction.atomic
def create_assembly(
    *,
    actor: User,
    name: str,
    slug: str = "",
    description: str = "",
    visibility: str = Visibility.PUBLIC,
    decision_rule: dict | DecisionRule | None = None,
    admission_required: bool = False,
    display_name: str = "",
    roles_by_decision: bool = True,
) -> Assembly:
    """Create an assembly; whoever creates it becomes its first facilitator."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("name_required", _("An assembly needs a name."))
    if visibility not in Visibility.values:
        raise DomainError("invalid_visibility", _("Unknown visibility."))
    if slug:
        slug = slugify(slug)[:80]
        if not slug:
            raise DomainError("invalid_slug", _("An address needs letters or digits."))
    else:
        slug = _unique_slug(name)
    if Assembly.objects.filter(slug=slug).exists():
        raise Conflict("slug_taken", _("That address is already in use."))
    assembly = Assembly.objects.create(
        name=name,
        slug=slug,
        description=description,
        visibility=visibility,
        decision_rule=parse_rule(decision_rule).to_dict(),
        admission_required=admission_required,
        roles_by_decision=roles_by_decision,
        created_by=actor,
    )
    founder = Membership.objects.create(
        assembly=assembly,
        user=actor,
        role=Role.FACILITATOR,
        display_name=clean_display_name(display_name or default_display_name(actor)),
        joined_via=JoinedVia.ACCOUNT,
    )
    record_action(assembly=assembly, actor=founder, action="assemblies.assembly.created")
    publish_on_commit(assembly_id=assembly.pk, kind="assembly")
    return assembly


@transaction.atomic
def update_assembly(
    *,
    actor: Membership,
    assembly: Assembly,
    name: str | None = None,
    description: str | None = None,
    visibility: str | None = None,
    decision_rule: dict | DecisionRule | None = None,
    admission_required: bool | None = None,
    roles_by_decision: bool | None = None,
    quorum_of: str | None = None,
    proxy_cap: int | None = None,
    proxy_may_block: bool | None = None,
) -> Assembly:
    require_in_assembly(actor, assembly.pk)
    require_assembly_facilitator(actor)
    changed = {}
    if roles_by_decision is not None and roles_by_decision != assembly.roles_by_decision:
        if not roles_by_decision:
            raise PermissionDenied(
                "roles_by_decision",
                _(
                    "Only a decision of the assembly can give roles back to the "
                    "facilitators: propose it."
                ),
            )
        changed["roles_by_decision"] = True
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise DomainError("name_required", _("An assembly needs a name."))
        changed["name"] = name
    if description is not None:
        changed["description"] = description
    if visibility is not None:
        if visibility not in Visibility.values:
            raise DomainError("invalid_visibility", _("Unknown visibility."))
        changed["visibility"] = visibility
    if decision_rule is not None:
        changed["decision_rule"] = parse_rule(decision_rule).to_dict()
    if admission_required is not None:
        changed["admission_required"] = admission_required
    if quorum_of is not None:
        if quorum_of not in QuorumOf.values:
            raise DomainError(
                "invalid_quorum_of", _("Quorum is measured against positions or members present.")
            )
        changed["quorum_of"] = quorum_of
    if proxy_cap is not None:
        if not 0 <= proxy_cap <= MAX_PROXY_CAP:
            raise DomainError(
                "invalid_proxy_cap",
                _("A member may carry from 0 to %(cap)d proxies.") % {"cap": MAX_PROXY_CAP},
            )
        changed["proxy_cap"] = proxy_cap
    if proxy_may_block is not None:
        changed["proxy_may_block"] = proxy_may_block
    for field, value in changed.items():
        setattr(assembly, field, value)
    if changed:
        assembly.save(update_fields=list(changed))
        record_action(
            assembly=assembly,
            actor=actor,
            action="assemblies.assembly.updated",
            fields=sorted(changed),
        )
        # A change of visibility changes who may watch: open sockets are checked again.
        kind = ACCESS if "visibility" in changed else "assembly"
        publish_on_commit(assembly_id=assembly.pk, kind=kind)
    return assembly


def _activate_or_create_membership(
    *, assembly: Assembly, user: User, display_name: str, via: str, status: str
) -> Membership:
    member = Membership.objects.select_for_update().filter(assembly=assembly, user=user).first()
    if member is None:
        return _create_membership(
            assembly=assembly, user=user, display_name=display_name, via=via, status=status
        )
    if member.status == MembershipStatus.REMOVED:
        raise PermissionDenied("removed", _("A facilitator removed you from this assembly."))
    if member.status == MembershipStatus.LEFT:
        # Coming back is joining again: a role someone held before is not restored by itself.
        require_free_name(assembly_id=assembly.pk, name=display_name, member=member)
        member.status = status
        member.display_name = display_name
        member.role = Role.PARTICIPANT
        try:
            with transaction.atomic():
                member.save(update_fields=["status", "display_name", "role"])
        except IntegrityError:
            # Only the name can collide here: someone took it since the check above.
            raise name_taken(assembly_id=assembly.pk, name=display_name) from None
    return member


def _create_membership(
    *, assembly: Assembly, user: User, display_name: str, via: str, status: str
) -> Membership:
    require_free_name(assembly_id=assembly.pk, name=display_name)
    try:
        with transaction.atomic():
            return Membership.objects.create(
                assembly=assembly,
                user=user,
                display_name=display_name,
                joined_via=via,
                status=status,
            )
    except IntegrityError:
        # A double click raced us to it (the membership exists now: use it), or someone
        # else took the name since the check above (the unique index decided: say so).
        member = Membership.objects.filter(assembly=assembly, user=user).first()
        if member is None:
            raise name_taken(assembly_id=assembly.pk, name=display_name) from None
        return member


@transaction.atomic
def join_assembly(*, user: User, assembly: Assembly, display_name: str = "") -> Membership:
    """Join a public or unlisted assembly with an account. Private ones need the code."""
    if assembly.is_private:
        raise NotFound("assembly_not_found", _("There is no such assembly."))
    member = _activate_or_create_membership(
        assembly=assembly,
        user=user,
        display_name=clean_display_name(display_name or default_display_name(user)),
        via=JoinedVia.ACCOUNT,
        status=MembershipStatus.PENDING if assembly.admission_required else MembershipStatus.ACTIVE,
    )
    publish_on_commit(assembly_id=assembly.pk, kind="members")
    return member


def new_guest_user() -> User:
    """A passwordless account for someone who joined with only a display name."""
    username = f"guest-{secrets.token_hex(6)}"
    user = User(username=username)
    user.set_unusable_password()
    user.save()
    return user


def find_assembly_by_code(code: str) -> Assembly:
    normalized = normalize_join_code(code)
    assembly = Assembly.objects.filter(join_code=normalized).first() if normalized else None
    if assembly is None:
        raise DomainError("invalid_code", _("That join code is not valid."))
    return assembly


@transaction.atomic
def join_by_code(
    *, code: str, display_name: str, user: User | None = None, assembly: Assembly | None = None
) -> Membership:
    """Join with the code shown at the sitting. Without a user, a guest account is made.

    When `assembly` is given (a join link), the code must be that assembly's.
    """
    display_name = clean_display_name(display_name)
    found = find_assembly_by_code(code)
    if assembly is not None and found.pk != assembly.pk:
        raise DomainError("invalid_code", _("That join code is not valid."))
    if user is None or not user.is_authenticated:
        _refuse_a_flood_of_guests(found)
        user = new_guest_user()
    member = _activate_or_create_membership(
        assembly=found,
        user=user,
        display_name=display_name,
        via=JoinedVia.CODE,
        status=MembershipStatus.PENDING if found.admission_required else MembershipStatus.ACTIVE,
    )
    publish_on_commit(assembly_id=found.pk, kind="members")
    return member


@transaction.atomic
def join(
    *, user: User | None, display_name: str, code: str = "", assembly: Assembly | None = None
) -> Membership:
    """The one way in for every edge: the join page, the QR link and the API.

    - a code (right for `assembly`, when given) lets anyone in; without an account, a
      guest account is made;
    - a wrong code is refused (`invalid_code`), whoever asks;
    - no code: an account joins a public or unlisted `assembly` (a private one is not
      found); without an account the code is required (`code_required`).
    """
    if code or assembly is None:
        return join_by_code(code=code, display_name=display_name, user=user, assembly=assembly)
    if user is None or not user.is_authenticated:
        raise DomainError(
            "code_required",
            _("Joining needs the code shown at the sitting, or an account: log in first."),
        )
    return join_assembly(user=user, assembly=assembly, display_name=display_name)


def _refuse_a_flood_of_guests(assembly: Assembly) -> None:
    """A code seen by someone who should not have it (a projector behind them, a leak) must
    not let them fill the assembly with made-up members: guests per minute are capped."""
    since = timezone.now() - timedelta(minutes=1)
    cap = settings.JOIN_GUESTS_PER_MINUTE
    recent = assembly.memberships.filter(joined_via=JoinedVia.CODE, joined_at__gte=since)
    if recent[:cap].count() >= cap:  # counted no further than the cap
        raise TooManyRequests(
            "too_many_guests",
            _("Many people are joining right now: please try again in a minute."),
        )


@transaction.atomic
def leave_assembly(*, member: Membership) -> Membership:
    require_active_member(member)
    if member.role == Role.FACILITATOR and _is_last_facilitator(member):
        raise Conflict(
            "last_facilitator",
            _("You are the last facilitator: give the role to someone else before leaving."),
        )
    member.status = MembershipStatus.LEFT
    member.save(update_fields=["status"])
    publish_on_commit(assembly_id=member.assembly_id, kind=ACCESS)  # their sockets end
    return member


def _is_last_facilitator(member: Membership) -> bool:
    others = Membership.objects.select_for_update().filter(
        assembly_id=member.assembly_id, role=Role.FACILITATOR, status=MembershipStatus.ACTIVE
    )
    return not others.exclude(pk=member.pk).exists()


@transaction.atomic
def change_role(*, actor: Membership, member: Membership, role: str) -> Membership:
    """A facilitator gives a role, where the assembly lets facilitators give roles."""
    _same_assembly(actor, member)
    require_assembly_facilitator(actor)
    if role not in Role.values:
        raise DomainError("invalid_role", _("Unknown role."))
    if Assembly.objects.values_list("roles_by_decision", flat=True).get(pk=member.assembly_id):
        raise PermissionDenied(
            "roles_by_decision",
            _(
                "In this assembly roles are given by decision: propose the change to the "
                "assembly instead."
            ),
        )
    if (
        member.role == Role.FACILITATOR
        and role != Role.FACILITATOR
        and _is_last_facilitator(member)
    ):
        raise Conflict("last_facilitator", _("An assembly needs at least one facilitator."))
    previous = member.role
    member.role = role
    member.save(update_fields=["role"])
    record_action(
        assembly=member.assembly,
        actor=actor,
        action="assemblies.member.role_changed",
        member=member.display_name,
        member_id=member.pk,
        old=previous,
        new=role,
    )
    publish_on_commit(assembly_id=member.assembly_id, kind="members")
    return member


MAX_ROLE_CHANGES = 20


@transaction.atomic
def give_roles(*, actor: Membership, changes) -> list[Membership]:
    """Several roles at once, by a facilitator (where facilitators give roles), all or none."""
    if not changes:
        raise DomainError("no_change", _("Choose at least one member and a new role."))
    return [change_role(actor=actor, member=member, role=role) for member, role in changes]


def check_role_changes(*, assembly: Assembly, changes) -> list[dict]:
    """What a proposal of roles would do, checked: `changes` is [(member, role)], the result
    [{"member_id", "member", "role", "was"}] as the proposal and its record keep it."""
    if len(changes) > MAX_ROLE_CHANGES:
        raise DomainError(
            "too_many_changes",
            _("A proposal of roles changes at most %(n)s roles.") % {"n": MAX_ROLE_CHANGES},
        )
    entries, seen = [], set()
    for member, role in changes:
        if member.assembly_id != assembly.pk or not member.is_active:
            raise NotFound("member_not_found", _("There is no such member."))
        if role not in Role.values:
            raise DomainError("invalid_role", _("Unknown role."))
        if member.pk in seen:
            raise DomainError("member_twice", _("Each member can appear only once."))
        if member.role == role:
            raise DomainError(
                "role_unchanged",
                _("%(member)s is already %(role)s.")
                % {"member": member.display_name, "role": Role(role).label},
            )
        seen.add(member.pk)
        entries.append(
            {
                "member_id": member.pk,
                "member": member.display_name,
                "role": role,
                "was": member.role,
            }
        )
    _require_a_facilitator_after(assembly, entries)
    return entries


def _require_a_facilitator_after(assembly: Assembly, entries: list[dict]) -> None:
    facilitators = set(
        assembly.memberships.filter(
            role=Role.FACILITATOR, status=MembershipStatus.ACTIVE
        ).values_list("pk", flat=True)
    )
    for entry in entries:
        if entry["role"] == Role.FACILITATOR:
            facilitators.add(entry["member_id"])
        else:
            facilitators.discard(entry["member_id"])
    if not facilitators:
        raise Conflict("last_facilitator", _("An assembly needs at least one facilitator."))


@transaction.atomic
def apply_governance_decision(*, assembly: Assembly, governance: dict, decision: dict) -> None:
    """The assembly decided its own organisation: the rule applies it, citing the decision.

    `decision` is {"sequence", "proposal"}. A change that can no longer apply (the member
    left, or it would leave no facilitator) is skipped and the log says so.
    """
    assembly = Assembly.objects.select_for_update().get(pk=assembly.pk)
    appointed = set()
    for entry in governance.get("roles") or []:
        applied = _apply_decided_role(assembly, entry, decision)
        if applied and entry["role"] == Role.FACILITATOR:
            appointed.add(entry["member_id"])
    if appointed and not assembly.founding_ended:
        _end_founding(assembly, appointed, decision)
    if governance.get("roles_by_decision") is False and assembly.roles_by_decision:
        assembly.roles_by_decision = False
        assembly.save(update_fields=["roles_by_decision"])
        record_action(
            assembly=assembly,
            actor=None,
            action="assemblies.assembly.roles_by_facilitators",
            **decision,
        )
    publish_on_commit(assembly_id=assembly.pk, kind=ACCESS)  # what each socket may do changed


def _apply_decided_role(assembly: Assembly, entry: dict, decision: dict) -> bool:
    member = (
        Membership.objects.select_for_update()
        .filter(pk=entry["member_id"], assembly=assembly, status=MembershipStatus.ACTIVE)
        .first()
    )
    skipped = None
    if member is None:
        skipped = "not_a_member"
    elif (
        member.role == Role.FACILITATOR
        and entry["role"] != Role.FACILITATOR
        and _is_last_facilitator(member)
    ):
        skipped = "last_facilitator"
    if skipped:
        record_action(
            assembly=assembly,
            actor=None,
            action="assemblies.member.role_not_applied",
            member=entry["member"],
            member_id=entry["member_id"],
            new=entry["role"],
            why=skipped,
            **decision,
        )
        return False
    previous, member.role = member.role, entry["role"]
    member.save(update_fields=["role"])
    record_action(
        assembly=assembly,
        actor=None,
        action="assemblies.member.role_decided",
        member=member.display_name,
        member_id=member.pk,
        old=previous,
        new=member.role,
        **decision,
    )
    return True


def _end_founding(assembly: Assembly, appointed: set[int], decision: dict) -> None:
    """The founder facilitated until the assembly appointed its own facilitators."""
    assembly.founding_ended = True
    assembly.save(update_fields=["founding_ended"])
    founder = (
        assembly.memberships.select_for_update()
        .filter(user_id=assembly.created_by_id, role=Role.FACILITATOR)
        .exclude(pk__in=appointed)
        .first()
    )
    if founder is None or _is_last_facilitator(founder):
        return
    founder.role = Role.PARTICIPANT
    founder.save(update_fields=["role"])
    record_action(
        assembly=assembly,
        actor=None,
        action="assemblies.member.founding_ended",
        member=founder.display_name,
        member_id=founder.pk,
        **decision,
    )


def _same_assembly(actor: Membership, member: Membership) -> None:
    if actor.assembly_id != member.assembly_id:
        raise NotFound("member_not_found", _("There is no such member."))


@transaction.atomic
def admit_member(*, actor: Membership, member: Membership) -> Membership:
    _same_assembly(actor, member)
    require_facilitator(actor)
    if member.status != MembershipStatus.PENDING:
        raise Conflict("not_pending", _("This person is not waiting to be admitted."))
    member.status = MembershipStatus.ACTIVE
    member.save(update_fields=["status"])
    record_action(
        assembly=member.assembly,
        actor=actor,
        action="assemblies.member.admitted",
        member=member.display_name,
        member_id=member.pk,
    )
    publish_on_commit(assembly_id=member.assembly_id, kind="members")
    return member


@transaction.atomic
def remove_member(*, actor: Membership, member: Membership) -> Membership:
    _same_assembly(actor, member)
    require_assembly_facilitator(actor)
    if member.pk == actor.pk:
        raise Conflict("remove_self", _("Use 'leave' to leave the assembly yourself."))
    if member.role == Role.FACILITATOR and _is_last_facilitator(member):
        raise Conflict("last_facilitator", _("An assembly needs at least one facilitator."))
    member.status = MembershipStatus.REMOVED
    member.save(update_fields=["status"])
    record_action(
        assembly=member.assembly,
        actor=actor,
        action="assemblies.member.removed",
        member=member.display_name,
        member_id=member.pk,
    )
    publish_on_commit(assembly_id=member.assembly_id, kind=ACCESS)  # their sockets end
    return member


@transaction.atomic
def rotate_join_code(*, actor: Membership, assembly: Assembly) -> str:
    require_in_assembly(actor, assembly.pk)
    require_facilitator(actor)
    assembly.join_code = new_join_code()
    assembly.save(update_fields=["join_code"])
    record_action(assembly=assembly, actor=actor, action="assemblies.join_code.rotated")
    publish_on_commit(assembly_id=assembly.pk, kind="assembly")
    return assembly.join_code


@transaction.atomic
def rotate_join_code_after_guessing(*, assembly: Assembly) -> str:
    """The code drew too many wrong guesses (assemblies.join_guard): a new one, at once.

    No person acts: the log line says why, and the projector shows the new code.
    """
    assembly = Assembly.objects.select_for_update().get(pk=assembly.pk)
    assembly.join_code = new_join_code()
    assembly.save(update_fields=["join_code"])
    record_action(
        assembly=assembly,
        actor=None,
        action="assemblies.join_code.rotated_after_guessing",
        wrong_guesses=settings.JOIN_WRONG_CODES_BEFORE_ROTATION,
    )
    publish_on_commit(assembly_id=assembly.pk, kind="assembly")
    return assembly.join_code


def append_to_agenda(meeting: Meeting, proposal) -> AgendaItem:
    """Put a proposal last on the agenda. The caller holds the meeting's row lock."""
    last = meeting.agenda_items.order_by("-position").values_list("position", flat=True).first()
    return AgendaItem.objects.create(meeting=meeting, proposal=proposal, position=(last or 0) + 1)
