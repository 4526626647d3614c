#!/usr/bin/env python
"""The limit: a bare `websockets` server doing the least the app must do.

It accepts the same sockets, answers each `position` frame with an `ack` at once (counting
it in memory: no database, no Redis), and broadcasts a snapshot of the same shape and size
as the app's (tally, blocks and stand-asides with names and reasons) with the same
coalescing interval, encoded once per interval and written with `websockets.broadcast`.
One process. Run by bench/live_assembly.py.
"""

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.asyncio.server import broadcast, serve
from websockets.exceptions import ConnectionClosed

from core.broadcast import interval_for

BASE, PER_SECOND, CAP = 0.1, 10_000, 1.0


class Assembly:
    def __init__(self):
        self.sockets = set()
        self.current: dict[int, dict] = {}
        self.proposal_id = 1
        self.seq = 0
        self.dirty = False
        self.text = self.encode()

    def encode(self) -> str:
        tally = {"agree": 0, "stand_aside": 0, "block": 0}
        dissent = {"block": [], "stand_aside": []}
        for member_id, position in self.current.items():
            tally[position["kind"]] += 1
            if position["kind"] != "agree":
                dissent[position["kind"]].append(
                    {
                        "member": position["member"],
                        "member_id": member_id,
                        "reason": position["reason"],
                    }
                )
        snapshot = {
            "type": "snapshot",
            "seq": self.seq,
            "assembly": 1,
            "meeting": None,
            "proposals": [
                {
                    "id": self.proposal_id,
                    "title": "Benchmark (limit)",
                    "phase": "call",
                    "revision": 1,
                    "tally": tally,
                    "blocks": dissent["block"],
                    "stand_asides": dissent["stand_aside"],
                    "temperature": None,
                    "closes_at": None,
                    "outcome": None,
                    "provisional_outcome": "blocked" if tally["block"] else "consensus",
                }
            ],
            "log_head": 1,
        }
        return json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False)

    async def handler(self, websocket):
        self.sockets.add(websocket)
        try:
            await websocket.send(self.text)
            async for raw in websocket:
                message = json.loads(raw)
                if message.get("type") != "position":
                    continue
                self.proposal_id = message["proposal"]
                self.current[message["member_id"]] = message
                self.dirty = True
                ack = {"type": "ack", "request_id": message.get("request_id"),
                       "position": len(self.current)}  # fmt: skip
                await websocket.send(json.dumps(ack, separators=(",", ":")))
        except ConnectionClosed:
            pass
        finally:
            self.sockets.discard(websocket)

    async def flush_forever(self):
        while True:
            if self.dirty:
                self.dirty = False
                self.seq += 1
                self.text = self.encode()
                broadcast(self.sockets, self.text)
            await asyncio.sleep(interval_for(len(self.sockets), BASE, PER_SECOND, CAP))


async def main(port: int) -> None:
    assembly = Assembly()
    async with serve(
        assembly.handler, "127.0.0.1", port, compression=None, backlog=4096, max_queue=64
    ):
        await assembly.flush_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    try:
        import uvloop

        uvloop.run(main(parser.parse_args().port))
    except ImportError:
        asyncio.run(main(parser.parse_args().port))
