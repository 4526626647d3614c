// Multitude live client. The socket says *what* changed (a snapshot of the assembly's live
// state); the page then fetches the parts it shows that changed, rendered on the server from
// the page's own template (`?part=<name>`, Django's {% partialdef %}), and swaps them in.
// Only plain numbers (counts, the timer, hand signals) are written directly from the
// snapshot. Protocol: docs/live-protocol.md. No build step, no dependencies.

import { drainSocketMessages, queueSocketMessage } from "./offline.js";

let current = null;
let currentKey = null;

// Boot on load and again after every htmx swap (boosted links replace <main>).
function boot() {
  const root = document.querySelector("main[data-live-url]");
  const key = root ? `${root.dataset.liveUrl}#${location.pathname}` : null;
  if (key === currentKey) return current && current.refresh(root);
  if (current) current.stop();
  currentKey = key;
  current = root ? start(root) : null;
}
document.addEventListener("htmx:afterSettle", boot);
boot();

// After a form of the page is sent (and the page swapped in), come back to the section the
// form was in rather than to the top: the person sees what their act changed.
let returnTo = null;
document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt.closest ? event.detail.elt.closest("form") : null;
  const section = form && form.method.toLowerCase() === "post" ? form.closest("section[id]") : null;
  returnTo = section ? section.id : null;
});
document.addEventListener("htmx:afterSettle", () => {
  if (returnTo) document.getElementById(returnTo)?.scrollIntoView({ block: "start" });
  returnTo = null;
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-signal], [data-stack-action]");
  if (!button || !current) return;
  const label = button.textContent.trim();
  if (button.dataset.signal) current.send({ type: "signal", signal: button.dataset.signal }, label);
  else current.send({ type: "stack", action: button.dataset.stackAction, kind: button.dataset.stackKind || "" }, label);
});

// What each part of a page depends on, read from a snapshot. A part is fetched again when
// its key changes. `p` is the page's proposal (or, on pages that follow the floor, the one
// on the floor), `m` the sitting in session.
const PART_KEYS = {
  "floor-notice": (f, p, m) => (m ? m.current_proposal || 0 : 0),
  header: (f, p) => p && [p.phase, p.revision, p.closes_at],
  decision: (f, p) => p && [p.phase, p.outcome],
  text: (f, p) => p && p.revision,
  sitting: (f, p, m) => m && [m.id, m.speaker && m.speaker.id, m.stack.map((e) => [e.id, e.kind, e.priority])],
  temperature: (f, p) => p && [p.phase, Boolean(p.temperature)],
  positions: (f, p) => p && [p.phase, p.revision],
  dissent: (f, p) => p && [p.revision, p.blocks, p.stand_asides],
  questions: (f, p) => p && [p.discussion.question, p.phase],
  concerns: (f, p) => p && [p.discussion.concern, p.phase],
  amendments: (f, p) => p && [p.discussion.amendment, p.phase, p.revision],
  revisions: (f, p) => p && p.revision,
  meeting: (f, p, m) => [m && m.id, m && m.current_proposal, f.proposals.map((x) => [x.id, x.phase])],
  proposals: (f) => f.proposals.map((x) => [x.id, x.phase, x.title]),
  decisions: (f) => f.proposals.map((x) => [x.id, x.outcome]),
  "console-sitting": (f, p, m) => [m && m.id, m && m.state, m && m.facilitation && m.facilitation.facilitators],
  facilitation: (f, p, m) => m && m.facilitation && [m.facilitation.facilitators, m.facilitation.away, m.facilitation.consent && m.facilitation.consent.id],
  "console-agenda": (f, p, m) => [m && m.current_proposal, f.proposals.map((x) => [x.id, x.phase, x.title])],
  "console-floor": (f, p, m) => [m && m.current_proposal, p && [p.phase, p.revision, Boolean(p.temperature), p.outcome, p.blocks, p.stand_asides]],
  "console-stack": (f, p, m) => m && [m.progressive_stack, m.speaker && m.speaker.id, m.stack.map((e) => [e.id, e.kind, e.priority])],
  "console-people": (f) => [f.people, f.log_head],
  "projector-main": (f, p, m) => [m && m.current_proposal, p && [p.phase, p.revision, p.outcome, p.blocks, p.stand_asides]],
  "projector-floor": (f, p, m) => m && [m.speaker && m.speaker.id, m.stack.map((e) => e.id)],
  log: (f) => f.log_head,
  hall: (f, p, m) => [p && p.hall, p && p.outcome, m && m.presence],
};

function start(initialRoot) {
  let root = initialRoot;
  const labels = readLabels();
  const proposalId = Number(root.dataset.proposalId || 0);
  let socket = null;
  let attempts = 0;
  let lastSeq = -1;
  let fallbackTimer = null;
  let requestCounter = 0;
  let stopped = false;
  let lastFrame = null;
  let state = "offline";
  let reconnectTimer = null;
  let everOpen = false; // once live, the controls stay: offline, what they do waits
  let lastHeard = 0; // when this connection was opened or last brought anything
  let heartbeatMs = 10000; // how often the server beats (each snapshot says; 10 s until then)
  const unanswered = new Map(); // request id -> position sent on this connection, not answered
  const keys = {}; // part name -> key of the state it shows
  const parts = partFetcher(() => applyNumbers(lastFrame));
  const timer = countdown();

  function setStatus(key) {
    state = key;
    for (const node of document.querySelectorAll("[data-live-status]")) {
      node.textContent = labels.status[key] || key;
      node.dataset.state = key;
    }
  }

  function connect() {
    if (!("WebSocket" in window)) return fallBack();
    clearTimeout(reconnectTimer);
    if (socket && socket.readyState <= WebSocket.OPEN) return; // one connection at a time
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}${root.dataset.liveUrl}`);
    socket = ws;
    lastHeard = Date.now();
    ws.addEventListener("open", () => {
      attempts = 0;
      lastHeard = Date.now();
      lastSeq = -1; // a new connection starts from its first snapshot
      everOpen = true;
      stopFallback();
      setStatus("live");
      showControls(true);
      // What was asked while the connection was down goes now, with its own request id.
      drainSocketMessages((message) => ws.send(JSON.stringify(message)));
    });
    ws.addEventListener("message", (event) => {
      if (ws !== socket) return; // a connection given up for silent, still delivering
      lastHeard = Date.now();
      onFrame(JSON.parse(event.data));
    });
    ws.addEventListener("close", (event) => {
      if (ws !== socket) return; // an earlier connection, already replaced
      showControls(false);
      if (stopped) return;
      if (event.code === 4403) return setStatus("offline");
      requeueUnanswered();
      scheduleReconnect();
    });
  }

  function watchForSilence() {
    // A host that died without a word, or a network cut that sent no reset, leaves the
    // socket "open" (or its handshake pending) for minutes: silence for three heartbeats
    // means it is lost.
    if (!socket || socket.readyState > WebSocket.OPEN || stopped) return;
    if (Date.now() - lastHeard < 3 * heartbeatMs + 2000) return;
    const lost = socket;
    socket = null;
    lost.close();
    showControls(false);
    requeueUnanswered();
    scheduleReconnect();
  }
  setInterval(watchForSilence, 2000);

  function requeueUnanswered() {
    // Positions sent on a lost connection before their answer go again on the next one,
    // with the same request id: the server records each request id once.
    for (const [requestId, item] of unanswered) queueSocketMessage(item.message, item.label, requestId);
    unanswered.clear();
  }

  function scheduleReconnect() {
    attempts += 1;
    setStatus("reconnecting");
    if (attempts > 6) fallBack();
    // Exponential backoff with full jitter, so a thousand phones do not return at once.
    const ceiling = Math.min(30000, 500 * 2 ** attempts);
    reconnectTimer = setTimeout(connect, ceiling / 2 + Math.random() * (ceiling / 2));
  }

  function fallBack() {
    // Without a socket every part is fetched again now and then.
    setStatus("polling");
    if (fallbackTimer === null) fallbackTimer = setInterval(() => parts.refreshAll(), 15000);
  }

  function stopFallback() {
    if (fallbackTimer !== null) clearInterval(fallbackTimer);
    fallbackTimer = null;
  }

  function onFrame(frame) {
    if (frame.type === "snapshot") {
      if (frame.seq < lastSeq) return; // an older snapshot overtaken by a newer one
      lastSeq = frame.seq;
      if (frame.heartbeat) heartbeatMs = frame.heartbeat * 1000;
      // "behind": the server hears only its own changes for a while (docs/live-protocol.md).
      setStatus(frame.status === "behind" ? "behind" : "live");
      const first = lastFrame === null;
      lastFrame = frame;
      // The history monitor (monitor.js) checks every new signed tree head a snapshot carries.
      document.dispatchEvent(new CustomEvent("multitude:snapshot", { detail: frame }));
      if (followsFloorAway(frame)) return;
      applyNumbers(frame);
      // A snapshot published before the page (or its last swap) was rendered shows nothing
      // the page lacks: its keys are noted, nothing is fetched. The first snapshot newer than
      // the page may carry changes made in between: every part is fetched once.
      const newer = frame.seq > renderedSeq();
      followParts(frame, first || !newer);
      if (first && newer) parts.refreshAll();
    } else if (frame.type === "mine") {
      // This member's position changed (another tab, another device): show it here too.
      parts.refresh("positions");
      parts.refresh("temperature");
    } else if (frame.type === "error") {
      unanswered.delete(frame.request_id);
      feedback(frame.message);
    } else if (frame.type === "ack") {
      unanswered.delete(frame.request_id);
      feedback(labels.status.sent);
    }
  }

  function followsFloorAway(frame) {
    // The projector shows whatever is on the floor: a new proposal is a new screen.
    const projector = document.querySelector("[data-projector]");
    if (!projector) return false;
    const onFloor = frame.meeting ? frame.meeting.current_proposal || 0 : 0;
    const stamp = projector.dataset.joinCodeStamp;
    if (onFloor !== proposalId || (stamp && frame.join_code_stamp && stamp !== frame.join_code_stamp)) {
      location.reload();
      return true;
    }
    return false;
  }

  function shownProposal(frame) {
    const id = proposalId || (frame.meeting && frame.meeting.current_proposal);
    return frame.proposals.find((p) => p.id === id) || null;
  }

  function renderedSeq() {
    // The sequence the server had when it rendered the page or the console block swapped in.
    return Math.max(0, ...[...document.querySelectorAll("[data-live-seq]")].map((n) => Number(n.dataset.liveSeq || 0)));
  }

  function followParts(frame, onlyNote) {
    const proposal = shownProposal(frame);
    for (const node of document.querySelectorAll("[data-part]")) {
      const name = node.dataset.part;
      const keyOf = PART_KEYS[name];
      if (!keyOf) continue;
      const key = JSON.stringify(keyOf(frame, proposal, frame.meeting) ?? null);
      if (!onlyNote && name in keys && keys[name] !== key) parts.refresh(name);
      keys[name] = key;
    }
  }

  function applyNumbers(frame) {
    if (!frame) return;
    const proposal = shownProposal(frame);
    if (proposal) {
      for (const kind of ["agree", "stand_aside", "block"]) setText(`[data-count="${kind}"]`, proposal.tally[kind]);
      drawTallyBar(proposal.tally);
      if (proposal.provisional_outcome) {
        setText("[data-provisional-outcome]", labels.outcomes[proposal.provisional_outcome] || proposal.provisional_outcome);
      }
      if (proposal.temperature) {
        for (const reading of ["up", "so_so", "down"]) setText(`[data-temperature="${reading}"]`, proposal.temperature[reading]);
      }
    }
    for (const item of frame.proposals) {
      for (const badge of document.querySelectorAll(`[data-agenda-phase="${item.id}"]`)) {
        badge.textContent = labels.phases[item.phase] || item.phase;
      }
    }
    const meeting = frame.meeting;
    if (!meeting) return timer.set(null);
    if (meeting.presence) setText("[data-present]", meeting.presence.present);
    setText("[data-speaker]", meeting.speaker ? meeting.speaker.member : labels.status.nobody);
    for (const [signal, count] of Object.entries(meeting.signals)) setText(`[data-signal-count="${signal}"]`, count);
    timer.set(meeting.timer);
  }

  function send(message, label = "") {
    if (!socket || socket.readyState !== WebSocket.OPEN) return queueSocketMessage(message, label);
    requestCounter += 1;
    const requestId = `web-${Date.now()}-${requestCounter}`;
    if (message.type === "position") unanswered.set(requestId, { message, label });
    socket.send(JSON.stringify({ ...message, request_id: requestId }));
  }

  function showControls(visible) {
    for (const controls of document.querySelectorAll("[data-live-controls]")) {
      controls.hidden = !(visible || everOpen) || !root.hasAttribute("data-can-act");
    }
  }

  function feedback(text) {
    for (const node of document.querySelectorAll("[data-live-feedback]")) node.textContent = text;
  }

  function stop() {
    stopped = true;
    stopFallback();
    timer.set(null);
    if (socket) socket.close();
  }

  function refresh(newRoot) {
    // The same page was swapped in again (after a form post): show the state we hold,
    // and take the parts' keys from it again (the server rendered them just now).
    root = newRoot;
    setStatus(state);
    showControls(Boolean(socket && socket.readyState === WebSocket.OPEN));
    if (lastFrame) {
      applyNumbers(lastFrame);
      followParts(lastFrame, true);
    }
  }

  // A position kept offline was recorded: the page shows it (the socket says so too, later).
  document.addEventListener("multitude:position-sent", () => stopped || parts.refresh("positions"));

  document.addEventListener("multitude:part-swapped", () => {
    setStatus(state);
    showControls(Boolean(socket && socket.readyState === WebSocket.OPEN));
  });

  // The phone says it lost its network: do not wait for the socket to time out (a dead
  // mobile network can keep it "open" for minutes); come back as soon as it returns.
  window.addEventListener("offline", () => {
    if (!stopped && socket && socket.readyState <= WebSocket.OPEN) socket.close();
  });
  window.addEventListener("online", () => {
    if (stopped || (socket && socket.readyState <= WebSocket.OPEN)) return;
    attempts = 0;
    connect();
  });

  connect();
  return { send, stop, refresh };
}

// Fetches parts of the page and swaps them in, one request per part at a time. A part the
// person is using (focus inside, or a field they have typed in) is left alone until they
// leave it, so a live update never takes away what someone is writing.
function partFetcher(afterSwap) {
  const busy = new Set();
  const again = new Set();
  const waiting = new Set();

  function url(name) {
    const params = new URLSearchParams(location.search);
    params.set("part", name);
    return `${location.pathname}?${params}`;
  }

  async function refresh(name) {
    if (!document.querySelector(`[data-part="${name}"]`)) return;
    if (busy.has(name)) return again.add(name);
    busy.add(name);
    try {
      const response = await fetch(url(name), { headers: { "X-Requested-With": "live-refresh" } });
      if (response.ok) swap(name, await response.text());
    } catch (error) {
      // Offline for a moment: the next snapshot or poll asks again.
    } finally {
      busy.delete(name);
      if (again.delete(name)) refresh(name);
    }
  }

  function swap(name, html) {
    const old = document.querySelector(`[data-part="${name}"]`);
    const fresh = new DOMParser().parseFromString(html, "text/html").querySelector(`[data-part="${name}"]`);
    if (!old || !fresh) return;
    if (inUse(old)) return waitUntilLeft(name, old);
    const node = document.importNode(fresh, true);
    old.replaceWith(node);
    if (window.htmx) window.htmx.process(node); // boosted forms and links inside work again
    afterSwap();
    document.dispatchEvent(new CustomEvent("multitude:part-swapped", { detail: { name } }));
  }

  function waitUntilLeft(name, node) {
    if (waiting.has(name)) return;
    waiting.add(name);
    const retry = () => {
      setTimeout(() => {
        if (node.isConnected && inUse(node)) return;
        node.removeEventListener("focusout", retry);
        node.removeEventListener("submit", retry);
        waiting.delete(name);
        refresh(name);
      }, 50);
    };
    node.addEventListener("focusout", retry);
    node.addEventListener("submit", retry);
  }

  function refreshAll() {
    for (const node of document.querySelectorAll("[data-part]")) refresh(node.dataset.part);
  }

  return { refresh, refreshAll };
}

function inUse(node) {
  // A confirmation or a refused form the server showed stays until the person acts on it.
  if (node.querySelector("[data-keep]")) return true;
  if (node.contains(document.activeElement) && document.activeElement !== document.body) return true;
  const typed = "textarea, input:not([type=hidden]):not([type=radio]):not([type=checkbox]):not([type=submit])";
  for (const field of node.querySelectorAll(typed)) {
    if (field.value !== field.defaultValue) return true;
  }
  for (const select of node.querySelectorAll("select")) {
    const initial = [...select.options].find((option) => option.defaultSelected) || select.options[0];
    if (initial && select.value !== initial.value) return true;
  }
  return false;
}

// The speaker's timer counts down between snapshots from the server's "remaining" (not
// the device's clock), and says so when time is up: a mark on the page and, on the
// console, a short tone.
function countdown() {
  let deadline = null;
  let ticking = null;
  let rang = false;

  function set(timerState) {
    const remaining = timerState ? timerState.remaining : null;
    if (remaining === null || remaining === undefined) {
      deadline = null;
      rang = false;
      stopTicking();
      return draw(null);
    }
    const next = Date.now() + remaining * 1000;
    // Keep the local deadline unless the server's differs by more than a second.
    if (deadline === null || Math.abs(next - deadline) > 1000) deadline = next;
    if (remaining > 0) rang = false;
    if (ticking === null) ticking = setInterval(tick, 250);
    tick();
  }

  function tick() {
    if (deadline === null) return;
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    draw(left);
    if (left === 0) {
      stopTicking();
      if (!rang) {
        rang = true;
        if (document.querySelector("[data-timer-sound]")) beep();
      }
    }
  }

  function stopTicking() {
    if (ticking !== null) clearInterval(ticking);
    ticking = null;
  }

  function draw(left) {
    for (const node of document.querySelectorAll("[data-timer]")) {
      node.textContent = left === null ? "–" : formatSeconds(left);
      node.classList.toggle("timer-up", left === 0);
      node.closest("[data-timer-box]")?.classList.toggle("timer-up", left === 0);
    }
  }

  return { set };
}

// A question to the members present shows the time left to object, counted from what the
// server said when the part was rendered (not the device's clock, which may be wrong).
function countQuestionDeadlines() {
  const now = Date.now();
  for (const node of document.querySelectorAll("[data-seconds-left]")) {
    if (!node.dataset.deadlineLocal) {
      node.dataset.deadlineLocal = String(now + Number(node.dataset.secondsLeft) * 1000);
    }
    const left = Math.max(0, Math.ceil((Number(node.dataset.deadlineLocal) - now) / 1000));
    node.textContent = formatSeconds(left);
  }
}
setInterval(countQuestionDeadlines, 500);
document.addEventListener("DOMContentLoaded", countQuestionDeadlines);

function formatSeconds(total) {
  const minutes = Math.floor(total / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return `${minutes}:${seconds}`;
}

function beep() {
  try {
    const Context = window.AudioContext || window.webkitAudioContext;
    const audio = new Context();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 660;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.8);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.8);
  } catch (error) {
    // No sound available: the mark on the page remains.
  }
}

function drawTallyBar(tally) {
  // SVG attributes, not inline styles: the Content-Security-Policy forbids those.
  for (const bar of document.querySelectorAll("[data-tally-bar]")) {
    const total = tally.agree + tally.stand_aside + tally.block;
    let x = 0;
    for (const kind of ["agree", "stand_aside", "block"]) {
      const width = total ? (100 * tally[kind]) / total : 0;
      const rect = bar.querySelector(`[data-bar="${kind}"]`);
      if (!rect) continue;
      rect.setAttribute("x", `${x}%`);
      rect.setAttribute("width", `${width}%`);
      x += width;
    }
  }
}

function setText(selector, value) {
  for (const node of document.querySelectorAll(selector)) node.textContent = String(value);
}

function readLabels() {
  const node = document.getElementById("live-labels");
  const fallback = { status: {}, phases: {}, stack: {}, outcomes: {} };
  return node ? { ...fallback, ...JSON.parse(node.textContent) } : fallback;
}
