#!/usr/bin/env python
"""Benchmark: a proposal page on a slow phone network, and how live snapshots grow.

    .venv/bin/python bench/slow_network.py [--runs 3] [--members 2000]

1. Page on a slow network. A throw-away database with an assembly of --members members, a
   sitting in session and a proposal in its call for consensus with a position from every
   member (2 % stand-asides and 1 % blocks, each with a reason). The app runs in its
   production shape (uvicorn, DEBUG=0, collected and pre-compressed static files in a
   temporary STATIC_ROOT). Chromium, as a logged-in member on a 360x740 phone, loads the
   proposal page with its network throttled by the DevTools protocol to 400 kbit/s each way
   and 400 ms round trip, with an empty cache each run. Measured: the time to the first
   paint of the text, to DOMContentLoaded (the page and its position form are there and
   work without scripts), to `load`, and to the live status saying "live" (the socket's
   first snapshot arrived); and the bytes on the wire (compressed) until `load`, by kind
   (HTML, CSS, JS, other). Target: usable in under 3 s, under 100 KB.
2. Live snapshots. The snapshot every socket receives, built by the live layer for sittings
   of 200, 500, 1,000 and 2,000 members (positions as above, 20 people on the stack): its
   size in bytes, raw and deflated (as permessage-deflate would send it).

Median, min and max over --runs; raw figures in bench/results/slow_network.json.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

from harness import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    ROOT,
    Servers,
    assembly_with_members,
    open_proposal,
    throwaway_database,
    uvicorn,
    write_results,
)
from sitting_latency import CHROMIUM, CHROMIUM_ARGS, machine

THROTTLE = {"latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
TARGET_SECONDS, TARGET_KB = 3.0, 100
SNAPSHOT_SIZES = (200, 500, 1000, 2000)
KINDS = (("html", "html"), ("css", "css"), ("js", "javascript"))
MEASURES = ("first_paint_s", "dom_content_loaded_s", "load_s", "live_s", "wire_total_bytes")


def build_sitting(members: int, slug: str):
    """An assembly in session with a call open: every member's position, 20 on the stack."""
    from proposals.models import Position
    from sittings import floor
    from sittings import services as sitting_services

    rng = random.Random(members)
    assembly, facilitator, people = assembly_with_members(members, slug=slug)
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    meeting = sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    proposal = open_proposal(facilitator, "Share the kitchen tent with the medics")
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=proposal)
    sitting_services.set_current_proposal(actor=facilitator, meeting=meeting, proposal=proposal)
    rows = []
    for member in people:
        roll = rng.random()
        kind = "block" if roll < 0.01 else "stand_aside" if roll < 0.03 else "agree"
        reason = "" if kind == "agree" else f"{member.display_name}: the medics need it at night."
        rows.append(
            Position(proposal=proposal, member=member, kind=kind, reason=reason, revision_number=1)
        )
    Position.objects.bulk_create(rows, batch_size=5000)
    for member in people[:20]:
        floor.raise_hand(actor=member, meeting=meeting, kind="speak")
    return assembly, proposal, people


def snapshot_sizes(counts) -> list[dict]:
    from sittings import live

    sizes = []
    for members in counts:
        assembly, _proposal, _people = build_sitting(members, slug=f"snap-{members}")
        text = live._build_and_encode(assembly.pk, 1)
        raw = len(text.encode())
        deflated = len(zlib.compress(text.encode(), 6))
        sizes.append({"members": members, "bytes": raw, "deflated_bytes": deflated})
        print(f"snapshot at {members:>5} members: {raw:>7} bytes, {deflated:>6} deflated")
    return sizes


def session_cookie(member) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(member.user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def load_once(browser, url: str, cookie: str, port: int) -> dict:
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": f"http://127.0.0.1:{port}"}])
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", {"offline": False, **THROTTLE})
    kinds, wire, loaded = {}, {}, {"done": False}

    def on_response(event):
        mime = event["response"].get("mimeType", "")
        kinds[event["requestId"]] = next((kind for kind, part in KINDS if part in mime), "other")

    def on_finished(event):
        if loaded["done"]:
            return  # after `load`: the service worker filling its cache, not the page
        kind = kinds.get(event["requestId"], "other")
        wire[kind] = wire.get(kind, 0) + event["encodedDataLength"]

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    started = time.monotonic()
    page.goto(url, wait_until="load")
    loaded["done"] = True
    page.wait_for_selector('[data-live-status][data-state="live"]', timeout=30_000)
    live_s = time.monotonic() - started
    timing = page.evaluate(
        """() => {
          const nav = performance.getEntriesByType("navigation")[0];
          const paint = performance.getEntriesByName("first-contentful-paint")[0];
          return {dom: nav.domContentLoadedEventEnd / 1000, load: nav.loadEventEnd / 1000,
                  paint: paint ? paint.startTime / 1000 : null};
        }"""
    )
    form = page.locator(".position-form button[type=submit]").is_visible()
    context.close()
    return {
        "first_paint_s": timing["paint"],
        "dom_content_loaded_s": timing["dom"],
        "load_s": timing["load"],
        "live_s": live_s,
        "position_form_visible": form,
        "wire_bytes": wire,
        "wire_total_bytes": sum(wire.values()),
    }


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def report(results: dict, members: int) -> None:
    s = results["summary"]
    print(f"proposal page, {members} members, 400 kbit/s and 400 ms (median, min-max):")
    for key in MEASURES[:-1]:
        print(f"  {key:<22} {s[key]['median']:.2f} s ({s[key]['min']:.2f}-{s[key]['max']:.2f})")
    wire = s["wire_total_bytes"]
    print(
        f"  on the wire until load {wire['median'] / 1024:.1f} KB "
        f"({wire['min'] / 1024:.1f}-{wire['max'] / 1024:.1f}); "
        f"targets: under {TARGET_SECONDS} s and {TARGET_KB} KB"
    )
    runs = sorted(results["runs"], key=lambda run: run["wire_total_bytes"])
    print("  by kind (median run):", runs[len(runs) // 2]["wire_bytes"])


def measure_page(args, url: str, proposal, people) -> tuple[list[dict], dict]:
    """Collect the static files, start the app in its production shape, load the page."""
    static_root = tempfile.mkdtemp(prefix="multitude-static-")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": args.redis_url,
        "REDIS_PREFIX": f"bench-slow-{os.getpid()}",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TESTING", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    servers = Servers([uvicorn("multitude.asgi:application")], env)
    try:
        port = servers.ports[0]
        page_url = f"http://127.0.0.1:{port}{proposal.get_absolute_url()}"
        cookie = session_cookie(people[-1])
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            load_once(browser, page_url, cookie, port)  # warms the server, not the phone
            runs = [load_once(browser, page_url, cookie, port) for _ in range(args.runs)]
            about = machine(browser, args)
            browser.close()
    finally:
        servers.stop()
    return runs, about


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--snapshot-members",
        default=",".join(map(str, SNAPSHOT_SIZES)),
        help="the sittings' sizes whose snapshot is measured (comma-separated)",
    )
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH")
    args = parser.parse_args()
    with throwaway_database(args.database_url, "slow") as url:
        sizes = snapshot_sizes([int(n) for n in args.snapshot_members.split(",")])
        _assembly, proposal, people = build_sitting(args.members, slug="slow")
        runs, about = measure_page(args, url, proposal, people)
    results = {
        "benchmark": "slow_network",
        "machine": about,
        "throttle": THROTTLE,
        "members": args.members,
        "runs": runs,
        "summary": {key: summary([run[key] for run in runs]) for key in MEASURES},
        "snapshot_sizes": sizes,
    }
    report(results, args.members)
    write_results(results, "slow_network.json", args)


if __name__ == "__main__":
    main()
