#!/usr/bin/env python
"""Benchmark: from an action in a live sitting to its appearance in the other browsers.

    .venv/bin/python bench/sitting_latency.py                     # R=5 repetitions, K=4 phones
    .venv/bin/python bench/sitting_latency.py --quick             # R=1, K=2 (the smoke test)
    .venv/bin/python bench/sitting_latency.py --json run1.json
    .venv/bin/python bench/sitting_latency.py --combine run1.json run2.json run3.json

Starts the real app (uvicorn, two processes by default, each on its own port, on a
throw-away PostgreSQL database and Redis prefix), sets a sitting up through the services
(an assembly, K members, three proposals on the agenda, the first on the floor with its
call for consensus open) and drives Debian's Chromium through Playwright: one facilitator
console (1280x800), K phones (360x740) on the proposal on the floor, and the projector
(1920x1080) opened through the console's projector link. The contexts are spread over the
server processes, so most observers hear of a change through Redis from the other process.

Timed, each R times (`sitting_latency.js` records, in each page, when the text appears; the
start is the click's dispatch in the acting page; both are Date.now()):

1. a phone states a position (form) -> the agree count on the console, the other phones and
   the projector;
2. "Call the next speaker" on the console -> the speaker on the phones and the projector;
3. a phone's "Wrap it up" hand signal -> its count on the console;
4. another proposal brought to the floor on the console -> the phones' "Now on the floor"
   notice, and the projector reloaded to the new proposal's title;
5. a clarifying question asked on a phone -> its text on the other phones.

Also measured: where the time goes (the acting page's own request, from the browser's
resource timing; for the changes a part refresh brings, when the phones' fetch of that part
started, i.e. the snapshot had arrived, and how long it took), baselines (a same-page change
seen by the same instrument, and bare GETs of the parts and the page the live client
fetches), the CPU of the server processes and of the load generator (Chromium, Playwright's
driver, this script) over the measured window, and the machine. Prints Markdown tables;
--json writes everything. Exit status 1 if some change was not seen within --timeout
seconds (reported as such, not waited for forever).

--open-every-call opens the call for consensus on the other two proposals as well: the
projector cannot show a proposal on the floor without one (bench/README.md), and with this
its reload can be timed.
"""

import argparse
import itertools
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from harness import (
    BENCH,
    CLK_TCK,
    add_live_arguments,
    create_assembly,
    database_url,
    live_app,
    write_results,
)

CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONSOLE_SIZE = {"width": 1280, "height": 800}
PHONE_SIZE = {"width": 360, "height": 740}
PROJECTOR_SIZE = {"width": 1920, "height": 1080}
INSTRUMENT = BENCH / "sitting_latency.js"
SLUG = "bench-sitting"
# The first is on the floor for actions 1-3 and 5; action 4 alternates the other two, so the
# phones (still on the first) always have a notice to show and the projector a new title.
TITLES = (
    "Keep the kitchen open all night",
    "Set up a bike repair corner",
    "Paint the banner on Sunday",
)
POLL_SECONDS = 0.05
LABELS = {"agree": "Agree", "stand_aside": "Stand aside"}


# --- the sitting, through the services -----------------------------------------------------------


@dataclass
class Cast:
    """What the browsers need: the sessions of the facilitator and the phones' members."""

    facilitator: str
    phones: list[tuple[str, str]]  # (display name, session key)
    floor_path: str  # the page of the proposal on the floor


def session_of(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def set_up_sitting(phones: int, *, open_every_call: bool = False) -> Cast:
    """Migrate; an assembly with `phones` members, a sitting in session with TITLES on its
    agenda, the first on the floor with its call for consensus open (and the others' too
    with `open_every_call`)."""
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections

    from assemblies import services as assembly_services

    call_command("migrate", verbosity=0)
    assembly = create_assembly(SLUG, name="Benchmark Sitting", founder="bench-fran")
    facilitator = assembly.memberships.get()
    members = [
        assembly_services.join_assembly(
            user=User.objects.create_user(f"bench-phone-{i}"),
            assembly=assembly,
            display_name=f"Phone {i + 1}",
        )
        for i in range(phones)
    ]
    first = start_sitting(facilitator, open_every_call)
    cast = Cast(
        facilitator=session_of(facilitator.user),
        phones=[(m.display_name, session_of(m.user)) for m in members],
        floor_path=first.get_absolute_url(),
    )
    # Playwright's sync API runs an event loop in this thread, where Django refuses the ORM:
    # everything is set up now, and the connection is not used again until the teardown.
    connections.close_all()
    return cast


def start_sitting(facilitator, open_every_call: bool):
    from proposals import services as proposal_services
    from sittings import services as sitting_services

    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=facilitator.assembly, title="Benchmark GA"
    )
    proposals = [
        proposal_services.submit_proposal(
            actor=facilitator, title=title, text="We do the thing, together."
        )
        for title in TITLES
    ]
    for proposal in proposals:
        sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=proposal)
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    sitting_services.set_current_proposal(actor=facilitator, meeting=meeting, proposal=proposals[0])
    for proposal in proposals if open_every_call else proposals[:1]:
        proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
    return proposals[0]


def live_settings() -> dict:
    """The live layer's timing settings, as the server processes (same environment) read them."""
    from django.conf import settings

    from sittings.live import FADE_EVERY

    names = (
        "LIVE_PUBLISH_INTERVAL",
        "LIVE_PUBLISH_INTERVAL_MAX",
        "LIVE_DELIVERIES_PER_SECOND",
        "HAND_SIGNAL_SECONDS",
    )
    return {**{name: getattr(settings, name) for name in names}, "FADE_EVERY": FADE_EVERY}


# --- the browsers --------------------------------------------------------------------------------


@dataclass
class Phone:
    name: str
    page: object
    agrees: bool = False


@dataclass
class Stage:
    """The pages of one run, and what the actions need to know between repetitions."""

    console: object
    phones: list[Phone]
    projector: object
    rng: random.Random
    timeout: float
    agree: int = 0  # the agree count the pages should show now
    places: list[dict] = field(default_factory=list)  # which server each context uses


def new_page(browser, size: dict, **options):
    context = browser.new_context(viewport=size, locale="en-US", **options)
    context.add_init_script(path=str(INSTRUMENT))
    context.set_default_timeout(15_000)
    return context.new_page()


def logged_in(page, base: str, session: str):
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    return page


def wait_live(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("[data-live-status]").first).to_have_attribute("data-state", "live")


def open_stage(browser, bases: list[str], cast: Cast, args) -> Stage:
    """The console on the first server, then the phones and the projector in turn over the
    servers: with two, an action and most of its observers are on different processes."""
    where = itertools.cycle(range(len(bases)))
    places = []

    def place(name: str) -> str:
        index = next(where)
        places.append({"context": name, "server_process": index, "url": bases[index]})
        return bases[index]

    base = place("console")
    console = logged_in(new_page(browser, CONSOLE_SIZE), base, cast.facilitator)
    console.goto(f"{base}/a/{SLUG}/console/")
    phones = []
    for name, session in cast.phones:
        base = place(name)
        page = new_page(browser, PHONE_SIZE, is_mobile=True, has_touch=True)
        logged_in(page, base, session).goto(base + cast.floor_path)
        phones.append(Phone(name, page))
    # The venue's screen has no session: the console's link carries the projector key. The
    # link is absolute, to the console's server; the screen may use the other one.
    link = urlsplit(console.locator("a[href*='/projector/']").first.get_attribute("href"))
    projector = new_page(browser, PROJECTOR_SIZE)
    projector.goto(f"{place('projector')}{link.path}?{link.query}")
    for page in (console, *(p.page for p in phones), projector):
        wait_live(page)
    rng = random.Random(args.seed)
    return Stage(console, phones, projector, rng, args.timeout, places=places)


# --- the instrument ------------------------------------------------------------------------------

_watch_ids = itertools.count(1)


@dataclass
class Watch:
    kind: str  # console, phone or projector
    name: str
    page: object
    id: str
    early: bool  # the text was there before the action: no measurement
    part: str | None = None  # the part of the page whose refresh brings the text
    seen: int | None = None


@dataclass
class Trial:
    start: int  # Date.now() of the click in the acting page
    watches: list[Watch]
    done: Callable[[], None] | None = None  # puts things back for the next repetition
    request: tuple | None = None  # (acting page, what its request's URL contains)


def arm(page, kind: str, name: str, selector: str, text: str, *, exact=True, part=None) -> Watch:
    watch_id = f"w{next(_watch_ids)}"
    early = page.evaluate(
        "([id, selector, text, exact]) => window.__bench.watch(id, selector, text, exact)",
        [watch_id, selector, text, exact],
    )
    return Watch(kind, name, page, watch_id, early, part)


def click(stage: Stage, page, locator) -> int:
    """Click as a person would (Playwright's trusted events) after a random pause, and return
    when the page dispatched the click. The pause spreads the clicks over the phase of the
    live layer's publishing tick, which a click right after the last observation would not."""
    locator.wait_for()
    page.wait_for_timeout(stage.rng.uniform(150, 450))
    page.evaluate("window.__bench.forgetClick()")
    locator.click()
    start = page.evaluate("window.__bench.lastClick()")
    if start is None:
        raise RuntimeError("the click was not dispatched in the page")
    return start


def seen_at(watch: Watch) -> int | None:
    from playwright.sync_api import Error

    try:
        return watch.page.evaluate(
            "id => window.__bench ? window.__bench.seen(id) : null", watch.id
        )
    except Error:
        return None  # the page is being reloaded (the projector): ask again


def wait_seen(watches: list[Watch], timeout: float) -> None:
    """Poll until every watch has recorded its time, or the timeout. The polling only
    collects the times, which each page recorded itself."""
    deadline = time.monotonic() + timeout
    pending = [w for w in watches if not w.early]
    while pending and time.monotonic() < deadline:
        for watch in list(pending):
            watch.seen = seen_at(watch)
            if watch.seen is not None:
                pending.remove(watch)
        time.sleep(POLL_SECONDS)


def requests(page, fragment: str, since: int) -> list[dict]:
    return page.evaluate(
        "([fragment, since]) => window.__bench.requests(fragment, since)", [fragment, since]
    )


def part_fetch(trial: Trial, watch: Watch) -> dict | None:
    """Where a part's refresh spent its time: its fetch starts as the snapshot that says the
    part changed arrives, so before it is the live layer, after it the part's request. The
    fetch is the last of that part to end by the time the text was seen."""
    if watch.part is None or watch.seen is None:
        return None
    fetches = requests(watch.page, f"part={watch.part}", trial.start)
    ended = [f for f in fetches if f["end"] <= watch.seen + 1]
    return ended[-1] if ended else None


def own_request_ms(trial: Trial) -> float | None:
    """The acting page's own request: from the click to its response (after its redirect,
    the page it swaps in). The change is committed before the response."""
    if trial.request is None:
        return None
    page, fragment = trial.request
    made = requests(page, fragment, trial.start)
    return round(made[0]["end"] - trial.start, 1) if made else None


# --- the actions ---------------------------------------------------------------------------------


def settle(expectation: Callable[[], None], what: str) -> None:
    """Wait for a step that is not timed (a raised hand, a reset). If the app never gets
    there, say so and go on: the next measurement then shows what is wrong."""
    try:
        expectation()
    except AssertionError:
        print(f"  warning: {what} did not happen", flush=True)


def others(stage: Stage, actor: Phone) -> list[Phone]:
    return [p for p in stage.phones if p is not actor]


def watch_phones(phones: list[Phone], selector: str, text: str, **how) -> list[Watch]:
    return [arm(p.page, "phone", p.name, selector, text, **how) for p in phones]


def position(stage: Stage, rep: int) -> Trial:
    """Phones take turns; one that agrees stands aside, so the count changes every time."""
    actor = stage.phones[rep % len(stage.phones)]
    kind = "stand_aside" if actor.agrees else "agree"
    stage.agree += -1 if actor.agrees else 1
    form = actor.page.locator("form.position-form")
    form.get_by_role("radio", name=LABELS[kind]).check()
    if kind == "stand_aside":
        form.get_by_label("Why you stand aside").fill("I will be away that week.")
    count, expected = '[data-count="agree"]', str(stage.agree)
    watches = [
        arm(stage.console, "console", "console", count, expected),
        *watch_phones(others(stage, actor), count, expected),
        arm(stage.projector, "projector", "projector", count, expected),
    ]
    start = click(stage, actor.page, form.locator("button[type=submit]"))
    actor.agrees = kind == "agree"
    request = (actor.page, "/position/")

    def done():
        from playwright.sync_api import expect

        # The actor's own page is swapped in again after the post: wait for it before its
        # next turn, so the next check is not made on the page being replaced.
        mine = actor.page.locator(".my-position")
        settle(lambda: expect(mine).to_contain_text(LABELS[kind]), f"{actor.name}'s position")

    return Trial(start, watches, done, request)


def next_speaker(stage: Stage, rep: int) -> Trial:
    """A phone raises its hand (not timed); the console calls it; phones take turns, so the
    speaker's name changes every time."""
    from playwright.sync_api import expect

    speaker = stage.phones[rep % len(stage.phones)]
    controls = speaker.page.locator("[data-live-controls]")
    controls.get_by_role("button", name="Raise my hand to speak").click()
    waiting = stage.console.locator(".console-stack > li").filter(has_text=speaker.name)
    settle(lambda: expect(waiting).to_have_count(1), f"{speaker.name}'s hand on the console")
    watches = [
        *watch_phones(stage.phones, "[data-speaker]", speaker.name),
        arm(stage.projector, "projector", "projector", "[data-speaker]", speaker.name),
    ]
    button = stage.console.get_by_role("button", name="Call the next speaker")
    start = click(stage, stage.console, button)
    return Trial(start, watches, request=(stage.console, "/console/call-next/"))


def wrap_up(stage: Stage, rep: int) -> Trial:
    """A member has one hand signal at a time, counted for HAND_SIGNAL_SECONDS: after each
    repetition the phone shows another signal, so every repetition goes from 0 to 1."""
    from playwright.sync_api import expect

    actor = stage.phones[rep % len(stage.phones)]
    count = stage.console.locator('[data-signal-count="wrap_up"]')
    watches = [arm(stage.console, "console", "console", '[data-signal-count="wrap_up"]', "1")]
    start = click(stage, actor.page, actor.page.locator('[data-signal="wrap_up"]'))

    def done():
        actor.page.locator('[data-signal="so_so"]').click()
        settle(lambda: expect(count).to_have_text("0"), "the wrap-up count back to 0")

    return Trial(start, watches, done)


def next_proposal(stage: Stage, rep: int) -> Trial:
    title = TITLES[1 + rep % 2]
    notice = '[data-part="floor-notice"] .floor-notice'
    watches = [
        *watch_phones(stage.phones, notice, title, exact=False, part="floor-notice"),
        arm(stage.projector, "projector", "projector", "h1.projector-title", title),
    ]
    item = stage.console.locator(".console-agenda > li").filter(has_text=title)
    button = item.get_by_role("button", name="Bring to the floor")
    start = click(stage, stage.console, button)
    return Trial(start, watches, request=(stage.console, "/console/make-current/"))


def question(stage: Stage, rep: int) -> Trial:
    actor = stage.phones[rep % len(stage.phones)]
    text = f"Question {rep + 1} from {actor.name}: which shop sells blue tarps?"
    form = actor.page.locator("form[action$='/question/']")
    form.get_by_label("Your text").fill(text)
    questions = '[data-part="questions"]'
    watches = watch_phones(others(stage, actor), questions, text, exact=False, part="questions")
    button = form.get_by_role("button", name="Ask a clarifying question")
    start = click(stage, actor.page, button)
    return Trial(start, watches, request=(actor.page, "/question/"))


# In the order they run: the floor moves last, the others need the first proposal on it.
ACTIONS = {
    "position": ("1. a phone's position -> agree count", position),
    "speaker": ('2. "Call the next speaker" -> speaker', next_speaker),
    "signal": ('3. "Wrap it up" signal -> console count', wrap_up),
    "question": ("5. clarifying question -> other phones", question),
    "floor": ("4. next proposal on the floor -> notice, projector", next_proposal),
}
REPORT_ORDER = ("position", "speaker", "signal", "floor", "question")


def run_action(stage: Stage, key: str, reps: int, cpu) -> tuple[list[dict], list[dict]]:
    """Every observation of R repetitions, and each repetition's own request."""
    samples, trials = [], []
    for rep in range(reps):
        trial = ACTIONS[key][1](stage, rep)
        wait_seen(trial.watches, stage.timeout)
        samples += [sample(key, rep, trial, w) for w in trial.watches]
        if trial.done:
            trial.done()
        trials.append({"action": key, "rep": rep, "request_ms": own_request_ms(trial)})
        cpu.sample()
    return samples, trials


def sample(key: str, rep: int, trial: Trial, watch: Watch) -> dict:
    status = "before" if watch.early else "seen" if watch.seen is not None else "not seen"
    ms = watch.seen - trial.start if watch.seen is not None else None
    out = {
        "action": key,
        "rep": rep,
        "observer": watch.name,
        "kind": watch.kind,
        "status": status,
        "ms": ms,
    }
    fetch = part_fetch(trial, watch)
    if fetch:
        out["part"] = watch.part
        out["fetch_started_ms"] = round(fetch["start"] - trial.start, 1)
        out["fetch_ms"] = round(fetch["end"] - fetch["start"], 1)
    return out


# --- baselines -----------------------------------------------------------------------------------

BASELINE_BUTTON = """() => {
  const button = document.createElement("button");
  button.id = "bench-baseline";
  button.textContent = "Baseline";
  const out = document.createElement("output");
  out.id = "bench-baseline-out";
  button.addEventListener("click", () => {
    out.textContent = String(Number(out.textContent) + 1);
  });
  document.body.append(button, out);
}"""
TIMED_GETS = """async ([url, n]) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const response = await fetch(url, { headers: { "X-Requested-With": "live-refresh" } });
    await response.text();
    times.push(performance.now() - t0);
  }
  return times;
}"""


def same_page_baseline(stage: Stage, reps: int) -> list[float]:
    """The instrument on a change with nothing between the click and the DOM: a button
    (added to a phone's page) whose click handler writes a number next to it."""
    page = stage.phones[0].page
    page.evaluate(BASELINE_BUTTON)
    times = []
    for rep in range(reps):
        watch = arm(page, "phone", "same page", "#bench-baseline-out", str(rep + 1))
        start = click(stage, page, page.locator("#bench-baseline"))
        wait_seen([watch], stage.timeout)
        times.append(None if watch.seen is None else watch.seen - start)
    return times


def get_baselines(stage: Stage, reps: int) -> dict:
    """Bare GETs, timed in the page, of what the live client fetches after a snapshot for
    actions 4 and 5 (a part of the phone's page) and of the projector's page (its reload)."""
    phone = stage.phones[0].page
    url = phone.evaluate("() => location.pathname")
    gets = {
        "phone part floor-notice": (phone, f"{url}?part=floor-notice"),
        "phone part questions": (phone, f"{url}?part=questions"),
        "projector page": (stage.projector, stage.projector.url),
    }
    return {
        name: page.evaluate(TIMED_GETS, [target, reps]) for name, (page, target) in gets.items()
    }


# --- CPU of the load generator, from /proc -------------------------------------------------------


def process_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds) for every process we may read."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        table[int(entry.name)] = (
            int(fields[1]),
            comm,
            (int(fields[11]) + int(fields[12])) / CLK_TCK,
        )
    return table


def role(pid: int, comm: str) -> str:
    if pid == os.getpid():
        return "driver (this script)"
    if comm.startswith("node"):
        return "Playwright driver (node)"
    return "Chromium" if comm.startswith(("chrom", "headless")) else f"other ({comm})"


class LoadCpu:
    """CPU seconds of this script and its descendants but the servers (Playwright's driver,
    every Chromium process), by role. Sampled after each repetition: a process that ends
    during the run (a renderer) counts up to its last sample."""

    def __init__(self, servers: list[int]):
        self.servers = set(servers)
        self.first: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.sample()
        self.first = {pid: cpu for pid, (_role, cpu) in self.last.items()}

    def sample(self) -> None:
        table = process_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _comm, _cpu) in table.items():
            children.setdefault(ppid, []).append(pid)
        todo = [os.getpid()]
        while todo:
            pid = todo.pop()
            if pid in self.servers or pid not in table:
                continue
            self.last[pid] = (role(pid, table[pid][1]), table[pid][2])
            todo += children.get(pid, [])

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, (name, cpu) in self.last.items():
            out[name] = out.get(name, 0.0) + cpu - self.first.get(pid, 0.0)
        out = {name: round(seconds, 2) for name, seconds in sorted(out.items())}
        return {**out, "total": round(sum(out.values()), 2)}


# --- the machine ---------------------------------------------------------------------------------


def machine(browser, args) -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if "model name" in ln), ""
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "chromium": browser.version,
        "playwright": version("playwright"),
        "postgresql": postgres_version(args.database_url),
        "redis": redis_version(args.redis_url),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(database_url(url, "postgres")) as connection:
        return connection.execute("SHOW server_version").fetchone()[0]


def redis_version(url: str) -> str:
    import redis

    return redis.Redis.from_url(url).info("server")["redis_version"]


# --- summaries and the report --------------------------------------------------------------------


def summary(values: list) -> dict:
    seen = [v for v in values if v is not None]
    if not seen:
        return {"n": len(values), "seen": 0, "median_ms": None, "min_ms": None, "max_ms": None}
    return {
        "n": len(values),
        "seen": len(seen),
        "median_ms": round(statistics.median(seen), 1),
        "min_ms": round(min(seen), 1),
        "max_ms": round(max(seen), 1),
    }


def summarize(samples: list[dict]) -> dict:
    """Per action: per observer kind over every observer and repetition; and "everyone", the
    time until the last observer of a repetition saw it (only when all of them did)."""
    out = {}
    for key in REPORT_ORDER:
        mine = [s for s in samples if s["action"] == key]
        kinds = {}
        for kind in ("console", "phone", "projector"):
            values = [s["ms"] for s in mine if s["kind"] == kind]
            if values:
                kinds[kind] = summary(values)
        reps = sorted({s["rep"] for s in mine})
        if len(mine) > len(reps):  # more than one observer
            kinds["everyone"] = summary(
                [everyone([s for s in mine if s["rep"] == r]) for r in reps]
            )
        out[key] = kinds
    return out


def everyone(samples: list[dict]) -> float | None:
    values = [s["ms"] for s in samples]
    return None if None in values else max(values)


def summarize_steps(samples: list[dict], trials: list[dict]) -> dict:
    """Where the time goes, per action: the acting page's own request (none for the socket's
    hand signal) and, for the changes a part refresh brings, when the phones' fetch of it
    started (the snapshot had arrived) and how long it took."""
    out = {}
    for key in REPORT_ORDER:
        timed = [s for s in samples if s["action"] == key and "fetch_ms" in s]
        made = [t["request_ms"] for t in trials if t["action"] == key]
        out[key] = {
            "part": timed[0]["part"] if timed else None,
            "request": summary(made),
            "fetch started": summary([s["fetch_started_ms"] for s in timed]),
            "fetch": summary([s["fetch_ms"] for s in timed]),
        }
    return out


def cell(value) -> str:
    return "—" if value is None else f"{value:.0f}"


def spread(s: dict) -> str:
    return f"{cell(s['median_ms'])} ({cell(s['min_ms'])}-{cell(s['max_ms'])})"


def table(actions: dict, timeout: float, title: str = "median") -> str:
    rows = [
        f"| action | observer | n | {title} (ms) | min (ms) | max (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for key in REPORT_ORDER:
        for kind, s in actions.get(key, {}).items():
            missing = s["n"] - s["seen"]
            note = f" ({missing} of {s['n']} not seen within {timeout:g} s)" if missing else ""
            rows.append(
                f"| {ACTIONS[key][0]} | {kind} | {s['n']} | {cell(s['median_ms'])}{note}"
                f" | {cell(s['min_ms'])} | {cell(s['max_ms'])} |"
            )
    return "\n".join(rows)


def steps_table(steps: dict) -> str:
    """Medians (min-max) in ms."""
    rows = [
        "| action | the acting page's request: click -> response | part the phones fetch"
        " | its fetch started (after the click) | the fetch took |",
        "|---|---|---|---|---|",
    ]
    for key, p in steps.items():
        part = f"`{p['part']}`" if p["part"] else "none: written from the snapshot"
        request = spread(p["request"]) if p["request"]["seen"] else "none: a socket message"
        fetch = [spread(p[what]) if p["part"] else "—" for what in ("fetch started", "fetch")]
        rows.append(f"| {ACTIONS[key][0]} | {request} | {part} | {fetch[0]} | {fetch[1]} |")
    return "\n".join(rows)


def report(results: dict) -> str:
    lines = [table(results["actions"], results["config"]["timeout_s"]), ""]
    lines += [steps_table(results["steps"]), ""]
    for name, s in results["baseline"].items():
        lines.append(f"baseline, {name}: median (min-max) {spread(s)} ms")
    cpu = results["cpu"]
    lines += [
        f"live layer: {json.dumps(results['live_settings'])}",
        f"measured window {cpu['window_s']} s; server CPU {cpu['server_s']} s; load generator "
        f"CPU {json.dumps(cpu['load_generator_s'])}",
        f"machine: {json.dumps(results['machine'])}",
    ]
    return "\n".join(lines)


# --- several runs --------------------------------------------------------------------------------


def merge(parts: list[dict]) -> dict:
    """Summaries of several runs: the median of their medians, the min and max of all."""
    medians = [p["median_ms"] for p in parts if p["median_ms"] is not None]
    return {
        "n": sum(p["n"] for p in parts),
        "seen": sum(p["seen"] for p in parts),
        "median_ms": statistics.median(medians) if medians else None,
        "min_ms": min((p["min_ms"] for p in parts if p["min_ms"] is not None), default=None),
        "max_ms": max((p["max_ms"] for p in parts if p["max_ms"] is not None), default=None),
    }


def combine(paths: list[str]) -> str:
    """The tables of several runs (--json files of the same configuration)."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    actions = {
        key: {kind: merge([r["actions"][key][kind] for r in runs]) for kind in kinds}
        for key, kinds in runs[0]["actions"].items()
    }
    steps = {
        key: {
            "part": p["part"],
            **{what: merge([r["steps"][key][what] for r in runs]) for what in p if what != "part"},
        }
        for key, p in runs[0]["steps"].items()
    }
    timeout = runs[0]["config"]["timeout_s"]
    title = f"median of {len(runs)} runs' medians"
    return f"{table(actions, timeout, title)}\n\n{steps_table(steps)}"


# --- main ----------------------------------------------------------------------------------------


def measure(stage: Stage, reps: int, servers) -> dict:
    """The baselines, then every action R times; CPU over the whole measured window."""
    started, server_cpu, load = time.monotonic(), servers.cpu(), LoadCpu(servers.pids())
    baseline = {"same-page change (instrument)": summary(same_page_baseline(stage, reps))}
    for name, times in get_baselines(stage, max(reps, 5)).items():
        baseline[f"GET {name}"] = summary(times)
    samples, trials = [], []
    for key in ACTIONS:
        print(f"  {ACTIONS[key][0]}: {reps} x", flush=True)
        observed, made = run_action(stage, key, reps, load)
        samples += observed
        trials += made
    load.sample()
    cpu = {
        "window_s": round(time.monotonic() - started, 1),
        "server_s": round(servers.cpu() - server_cpu, 2),
        "load_generator_s": load.totals(),
    }
    return {"baseline": baseline, "samples": samples, "trials": trials, "cpu": cpu}


def run(args) -> dict:
    from playwright.sync_api import sync_playwright

    with live_app(args, "sitting", "bench-sitting") as live:
        cast = set_up_sitting(args.phones, open_every_call=args.open_every_call)
        servers = live.app(args.server_processes, args.ws)
        bases = [f"http://127.0.0.1:{port}" for port in servers.ports]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            stage = open_stage(browser, bases, cast, args)
            info = machine(browser, args)
            measured = measure(stage, args.reps, servers)
            browser.close()
        info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        return {"machine": info, "contexts": stage.places, **measured}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", "-r", type=int, default=5, help="repetitions of each action")
    parser.add_argument("--phones", "-k", type=int, default=4, help="phone contexts (>= 2)")
    parser.add_argument("--quick", action="store_true", help="R=1, K=2: the smoke test")
    parser.add_argument("--server-processes", type=int, default=2, choices=(1, 2))
    parser.add_argument(
        "--ws", default="core.ws_server:PreparedFrameProtocol", help="uvicorn --ws implementation"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait per change")
    parser.add_argument("--seed", type=int, default=1, help="of the pauses before the clicks")
    parser.add_argument(
        "--open-every-call",
        action="store_true",
        help="open the call on the other agenda proposals too (the projector cannot show a"
        " proposal without one), so that its reload can be timed",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--combine", nargs="+", metavar="JSON", help="only combine runs")
    add_live_arguments(parser, no_save_help="do not write bench/results/sitting_latency.json")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.phones = 1, 2
    if args.phones < 2:
        parser.error("--phones: at least 2 (the speaker and the positions take turns)")
    return args


def main() -> int:
    args = parse_args()
    if args.combine:
        print(combine(args.combine))
        return 0
    started = time.time()
    measured = run(args)
    results = {
        "benchmark": "sitting_latency",
        "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "config": {
            "reps": args.reps,
            "phones": args.phones,
            "server_processes": args.server_processes,
            "ws": args.ws,
            "timeout_s": args.timeout,
            "seed": args.seed,
            "open_every_call": args.open_every_call,
        },
        "live_settings": live_settings(),
        **measured,
        "actions": summarize(measured["samples"]),
        "steps": summarize_steps(measured["samples"], measured["trials"]),
        "all_observed": all(s["status"] == "seen" for s in measured["samples"]),
        "wall_s": round(time.time() - started, 1),
    }
    print(report(results))
    write_results(results, "sitting_latency.json", args)
    return 0 if results["all_observed"] else 1


if __name__ == "__main__":
    sys.exit(main())
