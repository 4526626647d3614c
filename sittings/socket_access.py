"""Open sockets lose what their person lost: checked again whenever access changes.

A socket is authorised when it connects. After a change of the kind `core.events.ACCESS`
(a member removed or gone, a token revoked, an account deactivated or logged out, the
assembly made private), the next snapshot of that assembly asks every process to recheck
its open sockets *before* delivering it (`core.broadcast`). Each socket is then closed
(4403) when its person may no longer see the assembly, or downgraded to an anonymous viewer
(no more writes) when only its identity ended — all within one publish interval, with a
fixed number of queries per process and assembly whatever the number of sockets.
"""

from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework.authtoken.models import Token

from assemblies.access import can_view
from assemblies.models import Assembly, Membership

# The verdict for a socket whose person may no longer see the assembly.
CLOSED = object()


@dataclass(frozen=True, slots=True)
class SocketIdentity:
    """Who a socket authenticated as, and with what (a session or an API token)."""

    user_id: int | None
    session_key: str | None = None
    token: str | None = None
    projector_key: str = ""  # the hall's projector link opens a non-public assembly


def verdicts(assembly_id: int, identities: list[SocketIdentity]) -> list[int | object | None]:
    """For each socket: its member id now, None (an anonymous viewer) or CLOSED."""
    assembly = Assembly.objects.filter(pk=assembly_id).first()
    if assembly is None:
        return [CLOSED] * len(identities)
    still = _identities_that_hold(identities)
    members = {
        member.user_id: member
        for member in Membership.objects.filter(
            assembly=assembly, user_id__in={i.user_id for i in identities if i in still}
        )
    }
    result: list[int | bool | None] = []
    for identity in identities:
        member = members.get(identity.user_id) if identity in still else None
        projector = bool(identity.projector_key) and constant_time_compare(
            identity.projector_key, assembly.projector_key
        )
        if not (can_view(assembly, member) or projector):
            result.append(CLOSED)
        else:
            result.append(member.pk if member is not None else None)
    return result


def _identities_that_hold(identities: list[SocketIdentity]) -> set[SocketIdentity]:
    """The identities whose account is active and whose token or session still exists."""
    users = {i.user_id for i in identities if i.user_id is not None}
    active = set(User.objects.filter(pk__in=users, is_active=True).values_list("pk", flat=True))
    tokens = {i.token for i in identities if i.token}
    valid_tokens = set(
        Token.objects.filter(key__in=tokens, user_id__in=active).values_list("key", "user_id")
    )
    sessions = _live_sessions({i.session_key for i in identities if i.session_key})
    held = set()
    for identity in identities:
        if identity.user_id not in active:
            continue
        if identity.token:
            if (identity.token, identity.user_id) in valid_tokens:
                held.add(identity)
        elif identity.session_key in sessions:
            held.add(identity)
    return held


def _live_sessions(keys: set[str]) -> set[str]:
    if not keys:
        return set()
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        return set(
            Session.objects.filter(
                session_key__in=keys, expire_date__gt=timezone.now()
            ).values_list("session_key", flat=True)
        )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return {key for key in keys if store().exists(key)}
