// Multitude live client: applies server snapshots to the page, sends hand signals and
// stack requests, reconnects with backoff and falls back to periodic refresh.
// Protocol: docs/live-protocol.md. No build step, no dependencies.

const LIVE_REGIONS = ["[data-tally]", "[data-dissent-lists]", "[data-sitting]"];
let current = null;
let currentKey = null;

// Boot on load and again after every htmx swap (boosted links replace <main>).
function boot() {
  const root = document.querySelector("main[data-live-url]");
  const key = root ? `${root.dataset.liveUrl}#${root.dataset.proposalId || ""}` : null;
  if (key === currentKey) return current && current.refresh(root);
  if (current) current.stop();
  currentKey = key;
  current = root ? start(root) : null;
}
document.addEventListener("htmx:afterSettle", boot);
boot();

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-signal], [data-stack-action]");
  if (!button || !current) return;
  if (button.dataset.signal) current.send({ type: "signal", signal: button.dataset.signal });
  else current.send({ type: "stack", action: button.dataset.stackAction, kind: button.dataset.stackKind || "" });
});

function start(initialRoot) {
  let root = initialRoot;
  const labels = readLabels();
  const proposalId = Number(root.dataset.proposalId || 0);
  let socket = null;
  let attempts = 0;
  let lastSeq = -1;
  let fallbackTimer = null;
  let requestCounter = 0;
  let hadTemperature = Boolean(document.querySelector("#temperature"));
  let stopped = false;
  let lastFrame = null;

  let state = "offline";

  function setStatus(key) {
    state = key;
    // Look the node up each time: htmx swaps replace it.
    for (const node of document.querySelectorAll("[data-live-status]")) {
      node.textContent = labels.status[key] || key;
      node.dataset.state = key;
    }
  }

  function connect() {
    if (!("WebSocket" in window)) return fallBack();
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}${root.dataset.liveUrl}`);
    socket.addEventListener("open", () => {
      attempts = 0;
      lastSeq = -1; // a new connection starts from its first snapshot
      stopFallback();
      setStatus("live");
      showControls(true);
    });
    socket.addEventListener("message", (event) => onFrame(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      showControls(false);
      if (stopped) return;
      if (event.code === 4403) return setStatus("offline");
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    attempts += 1;
    setStatus("reconnecting");
    if (attempts > 6) fallBack();
    // Exponential backoff with full jitter, so a thousand phones do not return at once.
    const ceiling = Math.min(30000, 500 * 2 ** attempts);
    setTimeout(connect, ceiling / 2 + Math.random() * (ceiling / 2));
  }

  function fallBack() {
    setStatus("polling");
    if (fallbackTimer === null) fallbackTimer = setInterval(refreshFromServer, 15000);
  }

  function stopFallback() {
    if (fallbackTimer !== null) clearInterval(fallbackTimer);
    fallbackTimer = null;
  }

  async function refreshFromServer(selectors = LIVE_REGIONS, url = location.href) {
    // Fetch the page (or a fragment) and take over the given regions, matched by id when
    // they have one (console sections), else by the selector itself.
    const response = await fetch(url, { headers: { "X-Requested-With": "live-refresh" } });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const selector of selectors) {
      for (const current of document.querySelectorAll(selector)) {
        const fresh = current.id ? page.getElementById(current.id) : page.querySelector(selector);
        if (fresh && !current.contains(document.activeElement)) current.replaceWith(fresh);
      }
    }
  }

  let lastLogHead = null;
  let lastShape = null;

  function followLogAndConsole(frame) {
    const logRegion = document.querySelector("[data-log-region]");
    if (logRegion && lastLogHead !== null && frame.log_head !== lastLogHead) {
      refreshFromServer(["[data-log]"], logRegion.dataset.logUrl);
    }
    lastLogHead = frame.log_head;
    if (!document.querySelector("[data-console-live]")) return;
    // The console's controls depend on the shape of the state, not on counts: refetch them
    // when another facilitator (or a participant) changes that shape.
    const m = frame.meeting;
    const shape = JSON.stringify([
      m && [m.state, m.current_proposal, m.progressive_stack, m.speaker && m.speaker.id, m.stack.map((e) => [e.id, e.priority])],
      frame.proposals.map((p) => [p.id, p.phase, p.revision, p.temperature === null]),
      frame.log_head,
    ]);
    if (lastShape !== null && shape !== lastShape) refreshFromServer(["[data-console-live]"]);
    lastShape = shape;
  }

  function onFrame(frame) {
    if (frame.type === "snapshot") {
      if (frame.seq < lastSeq) return; // an older snapshot overtaken by a newer one
      lastSeq = frame.seq;
      lastFrame = frame;
      applySnapshot(frame);
      followLogAndConsole(frame);
    } else if (frame.type === "error") {
      feedback(frame.message);
    } else if (frame.type === "ack") {
      feedback(labels.status.sent);
    }
  }

  function applySnapshot(frame) {
    const projector = document.querySelector("[data-projector]");
    if (projector) {
      const onFloor = frame.meeting ? frame.meeting.current_proposal || 0 : 0;
      if (onFloor !== proposalId) return location.reload(); // the screen follows the floor
      const stamp = projector.dataset.joinCodeStamp;
      if (stamp && frame.join_code_stamp && stamp !== frame.join_code_stamp) {
        return location.reload(); // the join code rotated: show the new one
      }
    }
    applySitting(frame.meeting);
    const proposal = frame.proposals.find((p) => p.id === proposalId);
    if (proposal) applyProposal(proposal);
    const current = frame.meeting && frame.proposals.find((p) => p.id === frame.meeting.current_proposal);
    if (current && current.id !== proposalId) applyCurrent(current);
    for (const item of frame.proposals) {
      for (const badge of document.querySelectorAll(`[data-agenda-phase="${item.id}"]`)) {
        badge.textContent = labels.phases[item.phase] || item.phase;
      }
    }
  }

  function followPhase(p) {
    // A new phase or revision changes what the page offers (the position form, the text,
    // the temperature buttons): take those parts from the server, once per change.
    if (!root.isConnected || p.id !== proposalId) return;
    const phase = root.dataset.proposalPhase;
    const revision = Number(root.dataset.proposalRevision || 0);
    if (phase === p.phase && revision === p.revision && Boolean(p.temperature) === hadTemperature) return;
    root.dataset.proposalPhase = p.phase;
    root.dataset.proposalRevision = String(p.revision);
    hadTemperature = Boolean(p.temperature);
    refreshFromServer(["#positions", "#temperature-region", "[data-proposal-text]", "[data-decision-region]"]);
  }

  function applyProposal(p) {
    followPhase(p);
    for (const kind of ["agree", "stand_aside", "block"]) {
      setText(`[data-count="${kind}"]`, p.tally[kind]);
    }
    drawTallyBar(p.tally);
    setText("[data-phase]", labels.phases[p.phase] || p.phase);
    if (p.provisional_outcome) {
      setText(`[data-provisional-outcome="${p.id}"]`, labels.outcomes[p.provisional_outcome] || p.provisional_outcome);
    }
    renderDissent("block", p.blocks, p.revision);
    renderDissent("stand_aside", p.stand_asides, p.revision);
    if (p.temperature) {
      for (const reading of ["up", "so_so", "down"]) {
        setText(`[data-temperature="${reading}"]`, p.temperature[reading]);
      }
    }
  }

  function applyCurrent(p) {
    // Pages that follow whatever is on the floor (console, projector).
    if (!document.querySelector("[data-follows-floor]")) return;
    applyProposal(p);
  }

  function renderDissent(kind, entries, revision) {
    // Mirrors proposals/includes/dissent_item.html: the stale mark and the line breaks.
    const list = document.querySelector(`[data-dissent="${kind}"]`);
    if (!list) return;
    list.replaceChildren(
      ...entries.map((entry) => {
        const item = element("li", `position position-${kind}`);
        item.append(element("strong", "", entry.member));
        if (entry.revision < revision) {
          item.append(" ", element("span", "stale", `(${labels.status.stale})`));
        }
        if (entry.reason) {
          const quote = element("blockquote", "", "");
          entry.reason.split("\n").forEach((line, index) => {
            if (index) quote.append(document.createElement("br"));
            quote.append(line);
          });
          item.append(quote);
        }
        return item;
      }),
    );
    const empty = document.querySelector(`[data-dissent-empty="${kind}"]`);
    if (empty) empty.hidden = entries.length > 0;
  }

  function applySitting(meeting) {
    const panel = document.querySelector("[data-sitting]");
    if (!panel) return;
    panel.hidden = !meeting;
    if (!meeting) return;
    setText("[data-speaker]", meeting.speaker ? meeting.speaker.member : labels.status.nobody);
    const remaining = meeting.timer && meeting.timer.remaining;
    setText("[data-timer]", remaining === null || remaining === undefined ? "–" : `${remaining}s`);
    const stack = document.querySelector("[data-stack]");
    if (stack) {
      stack.replaceChildren(
        ...meeting.stack.map((entry) => {
          const item = element("li", "", entry.member + " ");
          item.append(element("span", "badge", labels.stack[entry.kind] || entry.kind));
          return item;
        }),
      );
    }
    const empty = document.querySelector("[data-stack-empty]");
    if (empty) empty.hidden = meeting.stack.length > 0;
    for (const [signal, count] of Object.entries(meeting.signals)) {
      setText(`[data-signal-count="${signal}"]`, count);
    }
  }

  function send(message) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return feedback(labels.status.reconnecting);
    requestCounter += 1;
    socket.send(JSON.stringify({ ...message, request_id: `web-${Date.now()}-${requestCounter}` }));
  }

  function showControls(visible) {
    for (const controls of document.querySelectorAll("[data-live-controls]")) {
      controls.hidden = !visible || !root.hasAttribute("data-can-act");
    }
  }

  function feedback(text) {
    for (const node of document.querySelectorAll("[data-live-feedback]")) node.textContent = text;
  }

  function stop() {
    stopped = true;
    stopFallback();
    if (socket) socket.close();
  }

  function refresh(newRoot) {
    root = newRoot;
    // The same page was swapped in again (after a form post): show the state we hold.
    setStatus(state);
    showControls(Boolean(socket && socket.readyState === WebSocket.OPEN));
    if (lastFrame) applySnapshot(lastFrame);
  }

  connect();
  return { send, stop, refresh };
}

function drawTallyBar(tally) {
  // SVG attributes, not inline styles: the Content-Security-Policy forbids those.
  const bar = document.querySelector("[data-tally-bar]");
  if (!bar) return;
  const total = tally.agree + tally.stand_aside + tally.block;
  let x = 0;
  for (const kind of ["agree", "stand_aside", "block"]) {
    const width = total ? (100 * tally[kind]) / total : 0;
    const rect = bar.querySelector(`[data-bar="${kind}"]`);
    rect.setAttribute("x", `${x}%`);
    rect.setAttribute("width", `${width}%`);
    x += width;
  }
}

function setText(selector, value) {
  for (const node of document.querySelectorAll(selector)) node.textContent = String(value);
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function readLabels() {
  const node = document.getElementById("live-labels");
  const fallback = { status: {}, phases: {}, stack: {}, outcomes: {} };
  return node ? { ...fallback, ...JSON.parse(node.textContent) } : fallback;
}
