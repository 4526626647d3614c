"""One encoded frame written to many sockets (core.ws_server), through a real uvicorn
server and real websocket clients: the bytes written once must be, to every client, the
same message the ordinary `send` gives; a socket that negotiated compression, or has
not finished opening, must be refused the shortcut and still get the message."""

import asyncio
import json

import pytest
import uvicorn
from websockets.asyncio.client import connect

from core.ws_server import EXTENSION, PreparedFrameProtocol, PreparedText, text_frame
from tests.fixtures.servers import free_port, run_in_own_loop

pytestmark = pytest.mark.slow

TEXTS = ["", "plain", "Zoë « D'accord » 🗳", "x" * 125, "y" * 126, "z" * 65_536]


def broadcasting_app(sockets: list, results: dict):
    """An ASGI app that keeps every socket's `write` and reports what it answered."""

    async def app(scope, receive, send):
        if scope["type"] != "websocket":
            return
        write = scope["extensions"].get(EXTENSION, {}).get("write")
        results.setdefault("before_accept", []).append(write(b"") if write else None)
        await receive()
        await send({"type": "websocket.accept"})
        sockets.append((write, send))
        while (await receive())["type"] != "websocket.disconnect":
            pass

    return app


async def serve(app, **options):
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), ws=PreparedFrameProtocol,
        log_level="warning", lifespan="off", **options,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    return server, task, f"ws://127.0.0.1:{config.port}/"


async def until(condition, timeout=5.0):
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def test_text_frame_is_a_final_unmasked_text_frame():
    assert text_frame("hi") == b"\x81\x02hi"
    assert text_frame("y" * 126)[:4] == b"\x81\x7e\x00\x7e"
    assert text_frame("z" * 65_536)[:10] == b"\x81\x7f" + (65_536).to_bytes(8, "big")
    prepared = PreparedText("Zoë")
    assert prepared.frame is prepared.frame  # encoded once
    assert prepared.frame == b"\x81\x04Zo\xc3\xab"


def test_one_frame_reaches_every_client_as_the_same_message():
    run_in_own_loop(one_frame_to_every_client())


async def one_frame_to_every_client():
    sockets, results = [], {}
    server, task, url = await serve(
        broadcasting_app(sockets, results), ws_per_message_deflate=False
    )
    try:
        clients = [await connect(url, compression=None) for _ in range(5)]
        await until(lambda: len(sockets) == 5)
        assert results["before_accept"] == [False] * 5  # not open yet: take `send`
        for text in TEXTS:
            prepared = PreparedText(text)
            assert [write(prepared.frame) for write, _send in sockets] == [True] * 5
            for client in clients:
                assert await asyncio.wait_for(client.recv(), 5) == text
        await clients[0].close()
        await until(lambda: not sockets[0][0](b""))  # a closed socket refuses it
        for client in clients[1:]:
            await client.close()
    finally:
        server.should_exit = True
        await task


def test_a_compressed_socket_takes_the_ordinary_send():
    run_in_own_loop(compressed_socket())


async def compressed_socket():
    sockets, results = [], {}
    server, task, url = await serve(broadcasting_app(sockets, results), ws_per_message_deflate=True)
    try:
        client = await connect(url, compression="deflate")
        await until(lambda: len(sockets) == 1)
        write, send = sockets[0]
        snapshot = json.dumps({"type": "snapshot", "seq": 1})
        assert write(PreparedText(snapshot).frame) is False
        await send({"type": "websocket.send", "text": snapshot})
        assert await asyncio.wait_for(client.recv(), 5) == snapshot
        await client.close()
    finally:
        server.should_exit = True
        await task
