"""The live socket of an assembly: `/ws/assemblies/<slug>/`.

A thin edge like the views: it authorises, parses each frame, calls one service and
answers `ack` (after the write committed) or `error` (and stays open). State flows the
other way as snapshots from the broadcaster. The protocol: docs/live-protocol.md.
"""

import json
import time
from collections import OrderedDict
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import DatabaseError, InterfaceError
from django.utils.translation import gettext as _

from assemblies.access import ProjectorRequest, get_assemblies_for_projector
from assemblies.models import Meeting, MeetingState, Membership, StackEntry
from core import broadcast, jsonparse, person_limits, ws_server
from core.coalesce import Coalescer
from core.db import kept_connection_to_async
from core.errors import Conflict, DomainError, NotFound, PermissionDenied, Unavailable
from proposals import services as proposal_services
from proposals.access import get_proposal_in
from proposals.models import Proposal
from sittings import batching, floor, live, presence, socket_access, stand_in
from sittings.socket_access import SocketIdentity

MAX_FRAME = 16 * 1024
REMEMBERED_REQUESTS = 256
CLOSE_FORBIDDEN = 4403
CLOSE_ABUSE = 4429
# Per connection: a burst of 20 messages, then 5 a second. A person taps far less; a
# client that keeps exceeding it after being told is disconnected.
RATE_BURST, RATE_PER_SECOND, STRIKES_BEFORE_CLOSE = 20, 5.0, 20
WRITES = {"position", "signal", "stack", "temperature", "facilitate"}


class BadFrame(DomainError):
    """A frame that does not follow the protocol."""


def _authorise_many(
    requests: list[ProjectorRequest],
) -> dict[ProjectorRequest, tuple[int, int | None] | NotFound]:
    """Each connecting socket's assembly and membership ids, or its NotFound, for every
    socket that connected while the previous batch was being read (core.coalesce)."""
    found = get_assemblies_for_projector(requests)
    allowed = [value for value in found.values() if not isinstance(value, NotFound)]
    # A facilitator's page is open again: her sitting is not left without one.
    stand_in.note_facilitators_connected(
        {member.pk for _assembly, member in allowed if member is not None and member.is_facilitator}
    )
    return {
        key: value if isinstance(value, NotFound) else (value[0].pk, value[1] and value[1].pk)
        for key, value in found.items()
    }


_authorise = Coalescer(_authorise_many)


def _projector_key(scope) -> str:
    """The projector link's secret, if the socket came from that screen (?key=...)."""
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get("key", [""])
    return values[0][:64]


def _identity(scope) -> SocketIdentity:
    user = scope.get("user")
    return SocketIdentity(
        user_id=user.pk if user is not None and user.is_authenticated else None,
        session_key=scope.get("session_key"),
        token=scope.get("token"),
        projector_key=_projector_key(scope),
    )


async def recheck(assembly_id: int, sockets: list) -> None:
    """The hub's access check (see sittings.socket_access): close or downgrade each socket."""
    consumers = [socket for socket in sockets if isinstance(socket, AssemblyConsumer)]
    found = await kept_connection_to_async(socket_access.verdicts)(
        assembly_id, [consumer.identity for consumer in consumers]
    )
    for consumer, verdict in zip(consumers, found, strict=True):
        if verdict is socket_access.CLOSED:
            await consumer.lose_access()
        else:
            consumer.member_id = verdict


class AssemblyConsumer(AsyncWebsocketConsumer):
    assembly_id: int | None = None
    # No channel of its own: snapshots come from the process's hub (core.broadcast), so a
    # socket costs no channel-layer queue, subscription or receive task.
    channel_layer_alias = "__hub_only__"
    # Set on connect when the server writes prepared frames (core.ws_server).
    write_prepared = None

    async def connect(self):
        await self.accept()
        self.identity = _identity(self.scope)
        if not await self._within_person_limits():
            await self.close(code=CLOSE_ABUSE)
            return
        try:
            self.assembly_id, self.member_id = await _authorise.get(
                (
                    self.identity.user_id,
                    self.scope["url_route"]["kwargs"]["slug"],
                    self.identity.projector_key,
                )
            )
        except NotFound:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.revoked = False
        self.last_seq = 0
        prepared = self.scope.get("extensions", {}).get(ws_server.EXTENSION)
        self.write_prepared = prepared["write"] if prepared else None
        self.acked: OrderedDict[str, dict] = OrderedDict()
        self.tokens, self.refilled_at, self.strikes = float(RATE_BURST), time.monotonic(), 0
        # Join the group *before* reading the first snapshot: no change can fall between.
        await broadcast.hub().add(self.assembly_id, self)
        live.flusher.ensure_started()
        presence.ensure_started()
        seq = await broadcast.dirty.current_seq(self.assembly_id)
        hub = broadcast.hub()
        await self.deliver(
            await hub.first_snapshot(self.assembly_id, seq, live.encode_snapshot), seq
        )

    async def dispatch(self, message):
        """Channels' dispatch without its `close_old_connections` before every frame (a
        thread hop per message): this consumer reaches the database only through core.db's
        kept connections and `database_sync_to_async`, which look after their own."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message):
        """Channels' without `close_old_connections` either (see `dispatch`), and without
        its groups: this consumer has none (the hub holds the sockets)."""
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def disconnect(self, code):
        if getattr(self, "counted", False):
            person_limits.socket_closed(self.identity.user_id)
            self.counted = False
        if self.assembly_id is not None:
            await broadcast.hub().discard(self.assembly_id, self)

    async def _within_person_limits(self) -> bool:
        """Not just disconnected for abuse, and under the cap of sockets per person."""
        person = self.identity.user_id
        if person is None:
            return True  # anonymous sockets only watch
        if await person_limits.penalised(person) or not person_limits.socket_opened(person):
            return False
        self.counted = True
        return True

    async def lose_access(self) -> None:
        """Its person may no longer see the assembly: no more snapshots, no more writes."""
        self.revoked, self.member_id = True, None
        await broadcast.hub().discard(self.assembly_id, self)
        await self.close(code=CLOSE_FORBIDDEN)

    def deliver_now(self, snapshot: ws_server.PreparedText, seq: int) -> bool:
        """The hub's fast path: the snapshot's frame, encoded once for every socket, written
        straight to this socket when its server offers that (core.ws_server)."""
        if seq < self.last_seq:
            return True  # older than what it shows: dropped
        if not self._write_now(snapshot.frame):
            return False
        self.last_seq = seq
        return True

    def beat_now(self, frame: ws_server.PreparedText) -> bool:
        """The hub's heartbeat, written straight to the socket like a snapshot."""
        return self._write_now(frame.frame)

    async def send_beat(self, text: str) -> None:
        await self.send(text_data=text)

    async def deliver(self, text: str, seq: int) -> None:
        """Called by the hub with an encoded snapshot; older ones than shown are dropped."""
        if seq >= self.last_seq or self.last_seq == 0:
            self.last_seq = seq
            await self.send(text_data=text)

    async def receive(self, text_data=None, bytes_data=None):
        if self.revoked:
            return  # closing: what was still in flight is not acted on
        request_id = None
        try:
            self._spend_token()
            message = self._parse(text_data, bytes_data)
            request_id = _optional_str(message, "request_id", 64)
            if request_id and request_id in self.acked:
                # A retry: acknowledge again, apply once.
                return await self._send_json(self.acked[request_id])
            await self._dispatch(message, request_id)
        except DomainError as error:
            await self._refuse(error, request_id)
        except (DatabaseError, InterfaceError):
            error = Unavailable(
                "service_unavailable",
                _("The database is unreachable for a moment; nothing was saved. Retry shortly."),
            )
            await self._send_json({"type": "error", "request_id": request_id, **error.as_dict()})

    async def _refuse(self, error: DomainError, request_id: str | None) -> None:
        await self._send_json({"type": "error", "request_id": request_id, **error.as_dict()})
        if error.code in ("rate_limited", "too_large"):
            self.strikes += 1
            if self.strikes >= STRIKES_BEFORE_CLOSE:
                if self.identity.user_id is not None:
                    await person_limits.penalise(self.identity.user_id)
                await self.close(code=CLOSE_ABUSE)

    def _spend_token(self) -> None:
        """A token bucket per connection; an empty bucket refuses the message."""
        now = time.monotonic()
        self.tokens = min(RATE_BURST, self.tokens + (now - self.refilled_at) * RATE_PER_SECOND)
        self.refilled_at = now
        if self.tokens < 1:
            raise BadFrame("rate_limited", _("Too many messages: slow down."))
        self.tokens -= 1

    async def _dispatch(self, message: dict, request_id: str | None) -> None:
        kind = message.get("type")
        if not isinstance(kind, str):
            raise BadFrame("unknown_type", _("Unknown message type."))
        person = self.identity.user_id
        if kind in WRITES and person is not None and not await person_limits.write_allowed(person):
            raise BadFrame("rate_limited", _("Too many messages from you: slow down."))
        if kind == "position":
            extra = await self._position(message, request_id or "")
        else:
            handler = HANDLERS.get(kind)
            if handler is None:
                raise BadFrame("unknown_type", _("Unknown message type."))
            extra = await database_sync_to_async(handler)(self, message, request_id or "")
        ack = {"type": "ack", "request_id": request_id, **(extra or {})}
        if request_id:
            self.acked[request_id] = ack
            if len(self.acked) > REMEMBERED_REQUESTS:
                self.acked.popitem(last=False)
        await self._send_json(ack)

    def _parse(self, text_data, bytes_data) -> dict:
        raw = text_data if text_data is not None else bytes_data
        if raw is None or len(raw) > MAX_FRAME:
            raise BadFrame("too_large", _("This message is too large."))
        try:
            message = jsonparse.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise BadFrame("invalid_json", _("Messages must be JSON objects.")) from error
        if not isinstance(message, dict):
            raise BadFrame("invalid_json", _("Messages must be JSON objects."))
        return message

    async def _position(self, message: dict, request_id: str) -> dict:
        """Positions are group-committed with other sockets' (sittings.batching)."""
        proposal_id = message.get("proposal")
        if not isinstance(proposal_id, int) or isinstance(proposal_id, bool):
            raise BadFrame("invalid_field", _("The field 'proposal' must be a proposal id."))
        for_member = message.get("for_member")  # stated with this member's proxy
        if for_member is not None and (
            not isinstance(for_member, int)
            or isinstance(for_member, bool)
            or not 1 <= for_member < 2**63
        ):
            raise BadFrame("invalid_field", _("The field 'for_member' must be a member id."))
        request = proposal_services.PositionRequest(
            member_id=self.member_id,
            assembly_id=self.assembly_id,
            proposal_id=proposal_id,
            kind=_required_str(message, "kind"),
            reason=_optional_str(message, "reason", 5000) or "",
            request_id=request_id,
            for_member_id=for_member,
        )
        position = await batching.batcher().take(request)
        return {"position": position.pk}

    async def _send_json(self, data: dict) -> None:
        text = json.dumps(data, separators=(",", ":"))
        # An ack or error frame takes the same short way as snapshots when it can.
        if not self._write_now(ws_server.text_frame(text)):
            await self.send(text_data=text)

    def _write_now(self, frame: bytes) -> bool:
        """`frame` written straight to the socket, if its server offers that (core.ws_server)."""
        return self.write_prepared is not None and self.write_prepared(frame)

    # --- handlers: run in a worker thread, each calls one service ---------------------------

    def _member(self) -> Membership:
        member = (
            Membership.objects.select_related("assembly").filter(pk=self.member_id).first()
            if self.member_id
            else None
        )
        if member is None:
            raise PermissionDenied("not_a_member", _("Only members of this assembly can do this."))
        return member

    def _meeting(self) -> Meeting | None:
        return Meeting.objects.filter(
            assembly_id=self.assembly_id, state=MeetingState.IN_SESSION
        ).first()

    def on_signal(self, message: dict, request_id: str):
        floor.show_signal(
            actor=self._member(), meeting=self._meeting(), signal=_required_str(message, "signal")
        )

    def on_stack(self, message: dict, request_id: str):
        action = _required_str(message, "action")
        kind = _optional_str(message, "kind", 32) or ""
        if action == "raise":
            entry = floor.raise_hand(
                actor=self._member(), meeting=self._meeting(), kind=kind or "speak"
            )
            return {"entry": entry.pk}
        if action == "lower":
            floor.lower_hand(actor=self._member(), meeting=self._meeting(), kind=kind)
            return None
        raise BadFrame("invalid_field", _("The stack action must be raise or lower."))

    def on_temperature(self, message: dict, request_id: str):
        member = self._member()
        if "proposal" in message:
            proposal = _proposal_of(self.assembly_id, message)
        else:
            meeting = self._meeting()
            if meeting is None or meeting.current_proposal_id is None:
                raise Conflict("no_current_proposal", _("No proposal is being discussed now."))
            proposal = meeting.current_proposal
        proposal_services.give_reading(
            actor=member, proposal=proposal, reading=_required_str(message, "reading")
        )

    def on_facilitate(self, message: dict, request_id: str):
        """The stack keeper's and timekeeper's actions, for a facilitator on the go."""
        action = _required_str(message, "action")
        member, meeting = self._member(), self._meeting()
        if action == "call_next":
            entry = floor.call_next(actor=member, meeting=meeting)
            return {"speaker": entry.pk if entry else None}
        if action in ("timer_start", "timer_stop"):
            floor.set_timer(actor=member, meeting=meeting, running=action == "timer_start")
            return None
        if action in ("skip", "remove"):
            entry = _stack_entry_of(self.assembly_id, message)
            floor.take_off_stack(actor=member, entry=entry, skip=action == "skip")
            return None
        raise BadFrame("invalid_field", _("Unknown facilitation action."))


HANDLERS = {
    "signal": AssemblyConsumer.on_signal,
    "stack": AssemblyConsumer.on_stack,
    "temperature": AssemblyConsumer.on_temperature,
    "facilitate": AssemblyConsumer.on_facilitate,
}


def _stack_entry_of(assembly_id: int, message: dict) -> StackEntry:
    entry_id = message.get("entry")
    if not isinstance(entry_id, int) or isinstance(entry_id, bool):
        raise BadFrame("invalid_field", _("The field 'entry' must be a stack entry id."))
    entry = StackEntry.objects.filter(pk=entry_id, meeting__assembly_id=assembly_id).first()
    if entry is None:
        raise NotFound("entry_not_found", _("There is no such request to speak."))
    return entry


def _required_str(message: dict, field: str) -> str:
    value = message.get(field)
    if not isinstance(value, str) or not value:
        raise BadFrame(
            "invalid_field",
            _("The field '%(field)s' must be a non-empty string.") % {"field": field},
        )
    return value


def _optional_str(message: dict, field: str, limit: int) -> str | None:
    value = message.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or _has_surrogate(value):
        raise BadFrame(
            "invalid_field", _("The field '%(field)s' must be a string.") % {"field": field}
        )
    return value


def _has_surrogate(value: str) -> bool:
    # JSON may carry a lone surrogate ("\ud800"): not text, and not storable.
    return any("\ud800" <= char <= "\udfff" for char in value)


def _proposal_of(assembly_id: int, message: dict) -> Proposal:
    proposal_id = message.get("proposal")
    if not isinstance(proposal_id, int) or isinstance(proposal_id, bool):
        raise BadFrame("invalid_field", _("The field 'proposal' must be a proposal id."))
    return get_proposal_in(assembly_id, proposal_id)
