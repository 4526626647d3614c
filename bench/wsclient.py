"""A lean websocket client for the load generator: thousands per process on one core.

The benchmark runs its clients on the same 2 cores as the servers, PostgreSQL and Redis, so
every microsecond a client spends is taken from the server being measured. This client is
a bare `asyncio.Protocol`: an HTTP/1.1 upgrade, unmasked server frames parsed in place, and
client frames masked with a zero key (valid per RFC 6455: the key is sent, the XOR is a
no-op). A snapshot is not decoded as JSON: the client reads `seq` and one proposal's tally
with a regular expression and records `(total, time.time())` when the total grows.
"""

import asyncio
import base64
import json
import os
import re
import time

SEQ = re.compile(rb'"seq":(\d+)')


def tally_pattern(proposal_id: int) -> re.Pattern:
    return re.compile(
        rb'"id":%d,[^{}]*"tally":\{"agree":(\d+),"stand_aside":(\d+),"block":(\d+)\}' % proposal_id
    )


def frame(payload: bytes, opcode: int = 1) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + b"\x00\x00\x00\x00" + payload


class Client(asyncio.Protocol):
    tally: re.Pattern | None = None  # set by the worker once the proposal is known

    def __init__(self, host: str, path: str, token: str | None):
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            + (f"Authorization: Token {token}\r\n" if token else "")
            + "\r\n"
        ).encode()
        self.buffer = bytearray()
        self.upgraded = False
        loop = asyncio.get_running_loop()
        self.opened = loop.create_future()
        self.answer: asyncio.Future | None = None
        self.closed = False
        self.last_seq = -1
        self.best = -1
        self.totals: list[int] = []
        self.times: list[float] = []
        self.snapshots = 0
        self.fragments: list[bytes] = []

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc):
        self.closed = True
        for future in (self.opened, self.answer):
            if future is not None and not future.done():
                future.set_exception(ConnectionError("connection lost"))

    def send_text(self, text: bytes) -> None:
        self.transport.write(frame(text))

    def send_json(self, message: dict) -> None:
        """`message` as compact JSON in one text frame."""
        self.send_text(json.dumps(message, separators=(",", ":")).encode())

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(buffer[:40]).decode("latin1")))
                self.transport.close()
                return
            del buffer[: end + 4]
            self.upgraded = True
            self.opened.set_result(True)
        start = 0
        size = len(buffer)
        while size - start >= 2:
            b0, b1 = buffer[start], buffer[start + 1]
            length, at = b1 & 0x7F, start + 2
            if length == 126:
                if size - start < 4:
                    break
                length, at = int.from_bytes(buffer[start + 2 : start + 4], "big"), start + 4
            elif length == 127:
                if size - start < 10:
                    break
                length, at = int.from_bytes(buffer[start + 2 : start + 10], "big"), start + 10
            if size < at + length:
                break
            payload = bytes(buffer[at : at + length])
            start = at + length
            opcode = b0 & 0x0F
            if opcode in (0, 1, 2):
                if not b0 & 0x80:
                    self.fragments.append(payload)
                    continue
                if self.fragments:
                    payload = b"".join([*self.fragments, payload])
                    self.fragments = []
                self.on_message(payload)
            elif opcode == 9:
                self.transport.write(frame(payload, opcode=10))
            elif opcode == 8:
                self.transport.close()
        del buffer[:start]

    def on_message(self, payload: bytes) -> None:
        if payload.startswith(b'{"type":"snapshot"'):
            self.snapshots += 1
            seq = int(SEQ.search(payload, 0, 64).group(1))
            if seq < self.last_seq:
                return  # an older snapshot arriving late: clients drop it
            self.last_seq = seq
            if self.tally is None:
                return
            found = self.tally.search(payload)
            if found is None:
                return
            total = int(found.group(1)) + int(found.group(2)) + int(found.group(3))
            if total > self.best:
                self.best = total
                self.totals.append(total)
                self.times.append(time.time())
        elif payload.startswith((b'{"type":"mine"', b'{"type":"beat"')):
            return  # "your own state changed" (a page refetches it), or a heartbeat
        elif self.answer is not None and not self.answer.done():
            self.answer.set_result(payload)
