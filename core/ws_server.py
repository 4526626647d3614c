"""One encoded frame written to many sockets, below the per-consumer dispatch.

A snapshot goes to every socket of an assembly. Through ASGI, each socket pays its own
chain of calls for the same bytes: the consumer's `send`, Channels' session wrapper,
uvicorn's `send` (which waits on an event), websockets' framing of the text, and the
write. At 10,000 sockets that chain was the largest share of a process's CPU
(bench/README.md, "The bottleneck at 10,000").

`PreparedFrameProtocol` is uvicorn's sans-I/O websocket protocol with one addition: the
scope of each socket carries (under `EXTENSION`) a `write` callable that puts an already
encoded frame straight on the socket's transport. The hub (core.broadcast) encodes each
snapshot's frame once and hands the same bytes to every socket that can take it.

Serve with it: `uvicorn multitude.asgi:application --ws core.ws_server:PreparedFrameProtocol`.
Under any other server (or uvicorn's own protocols) the extension is absent and every
snapshot takes the ordinary ASGI `send`, so nothing depends on it but speed.
"""

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

EXTENSION = "multitude.prepared_frames"


def text_frame(text: str) -> bytes:
    """A final, unmasked text frame (what a server sends) without extension data."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


class PreparedText:
    """A published text and its frame, encoded at most once however many sockets take it."""

    __slots__ = ("_frame", "text")

    def __init__(self, text: str):
        self.text = text
        self._frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = text_frame(self.text)
        return self._frame


class PreparedFrameProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, offering `write_prepared` in the scope."""

    def handle_connect(self, event) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None and not self.close_sent:
            scope["extensions"][EXTENSION] = {"write": self.write_prepared}

    async def send(self, message) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            # The handshake's request and response (their headers) are not read again:
            # some hundreds of bytes per socket, times ten thousand sockets. Nor are the
            # scope's headers, which every copy of the scope shares: the origin check and
            # the auth layer read them before the socket is accepted.
            self.request = self.response = None
            headers = self.scope.get("headers")
            if isinstance(headers, list):
                headers.clear()

    def write_prepared(self, frame: bytes) -> bool:
        """Write `frame` now; False when this socket must take the ordinary `send`.

        Only an open connection whose buffer has room takes it: a socket that is still
        shaking hands or closing, or whose peer reads slowly (the transport paused writing),
        goes through `send`, which waits for room. A negotiated extension (compression)
        would change the frame's bytes, so such a socket always takes `send`.
        """
        if (
            self.conn.state is not State.OPEN
            or self.close_sent
            or self.disconnected
            or not self.writable.is_set()
            or self.conn.extensions
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(frame)
        return True
