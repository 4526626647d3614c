// Multitude live client: applies server snapshots to the page, sends hand signals and
// stack requests, reconnects with backoff and falls back to periodic refresh.
// Protocol: docs/live-protocol.md. No build step, no dependencies.

let current = null;
let currentKey = null;

// Boot on load and again after every htmx swap (boosted links replace <main>).
function boot() {
  const root = document.querySelector("main[data-live-url]");
  const key = root ? `${root.dataset.liveUrl}#${root.dataset.proposalId || ""}` : null;
  if (key === currentKey) return current && current.refresh();
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

function start(root) {
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

  async function refreshFromServer() {
    // Without a socket: fetch the page and take over its live regions.
    const response = await fetch(location.href, { headers: { "X-Requested-With": "live-refresh" } });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const selector of ["[data-tally]", "[data-dissent-lists]", "[data-sitting]"]) {
      const fresh = page.querySelector(selector);
      const current = document.querySelector(selector);
      if (fresh && current) current.replaceWith(fresh);
    }
  }

  function onFrame(frame) {
    if (frame.type === "snapshot") {
      if (frame.seq < lastSeq) return; // an older snapshot overtaken by a newer one
      lastSeq = frame.seq;
      lastFrame = frame;
      applySnapshot(frame);
    } else if (frame.type === "error") {
      feedback(frame.message);
    } else if (frame.type === "ack") {
      feedback(labels.status.sent);
    }
  }

  function applySnapshot(frame) {
    applySitting(frame.meeting);
    const proposal = frame.proposals.find((p) => p.id === proposalId);
    if (proposal) applyProposal(proposal);
    for (const item of frame.proposals) {
      for (const badge of document.querySelectorAll(`[data-agenda-phase="${item.id}"]`)) {
        badge.textContent = labels.phases[item.phase] || item.phase;
      }
    }
  }

  function applyProposal(p) {
    for (const kind of ["agree", "stand_aside", "block"]) {
      setText(`[data-count="${kind}"]`, p.tally[kind]);
    }
    setText("[data-phase]", labels.phases[p.phase] || p.phase);
    renderDissent("block", p.blocks);
    renderDissent("stand_aside", p.stand_asides);
    if (p.temperature) {
      for (const reading of ["up", "so_so", "down"]) {
        setText(`[data-temperature="${reading}"]`, p.temperature[reading]);
      }
    }
  }

  function renderDissent(kind, entries) {
    const list = document.querySelector(`[data-dissent="${kind}"]`);
    if (!list) return;
    list.replaceChildren(
      ...entries.map((entry) => {
        const item = element("li", `position position-${kind}`);
        item.append(element("strong", "", entry.member));
        if (entry.reason) item.append(element("blockquote", "", entry.reason));
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

  function refresh() {
    // The same page was swapped in again (after a form post): show the state we hold.
    setStatus(state);
    showControls(Boolean(socket && socket.readyState === WebSocket.OPEN));
    if (lastFrame) applySnapshot(lastFrame);
  }

  connect();
  return { send, stop, refresh };
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
  const fallback = { status: {}, phases: {}, stack: {} };
  return node ? { ...fallback, ...JSON.parse(node.textContent) } : fallback;
}
