// Multitude offline: the service worker, and the outbox of what a person did without a
// network (docs/offline.md). No build step, no dependencies.
//
// A position stated while the phone is offline is kept in
// IndexedDB with its request id and sent, through the API, when the connection returns;
// the server applies a request id once, so a position is never counted twice. Hand signals
// and requests to speak wait for the socket to come back. The person sees each item:
// "waiting for network", then "recorded" (or why it did not count).

const DB_NAME = "multitude-outbox";
const STORE = "items";
// A hand signal shows for seconds: one kept longer than this is dropped, not sent late.
const SIGNAL_KEEPS_MS = 10_000;
const RETRY_MS = 5_000;

if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}

function labels() {
  const node = document.getElementById("outbox-labels");
  return node ? JSON.parse(node.textContent) : {};
}

// --- IndexedDB, in four small promises -----------------------------------------------------

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "request_id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
    tx.onerror = () => reject(tx.error);
  });
}

const put = (item) => withStore("readwrite", (store) => store.put(item));
const drop = (id) => withStore("readwrite", (store) => store.delete(id));
const all = () => withStore("readonly", (store) => store.getAll());

export function newRequestId() {
  return `offline-${crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`}`;
}

// --- what the person sees -----------------------------------------------------------------

const shown = new Map(); // request_id -> {text, state}

function render() {
  const box = document.querySelector("[data-outbox]");
  if (!box) return;
  box.replaceChildren();
  for (const [id, entry] of shown) {
    const line = document.createElement("p");
    line.className = `outbox-item outbox-${entry.state}`;
    line.dataset.requestId = id;
    line.textContent = entry.text;
    box.append(line);
  }
  box.hidden = shown.size === 0;
}

function show(item, state, detail = "") {
  const words = labels();
  const what = item.label || "";
  const text = words[state]; // waiting, sending, recorded, refused, closed, expired
  shown.set(item.request_id, { state, text: `${text} ${what}${detail ? ` — ${detail}` : ""}` });
  render();
  if (state === "recorded" || state === "expired") {
    setTimeout(() => {
      shown.delete(item.request_id);
      render();
    }, 8000);
  }
}

function markOfflineCopy() {
  const meta = document.querySelector('meta[name="multitude-offline-copy"]');
  const banner = document.querySelector("[data-offline-banner]");
  if (!banner) return;
  const offline = Boolean(meta) || !navigator.onLine;
  banner.hidden = !offline;
  if (offline) {
    const words = labels();
    const when = meta && meta.content ? new Date(meta.content) : null;
    banner.textContent = when && !Number.isNaN(when.getTime())
      ? `${words.offline_copy} ${when.toLocaleString()}. ${words.offline_help}`
      : `${words.offline} ${words.offline_help}`;
  }
}

// --- positions: queued from the form, sent through the API --------------------------------

const POSITION_ACTION = /\/a\/[^/]+\/p\/(\d+)\/position\/$/;

document.addEventListener(
  "submit",
  (event) => {
    const form = event.target;
    const match = form.action && new URL(form.action, location.href).pathname.match(POSITION_ACTION);
    if (!match || event.submitter?.name === "back") return;
    if (navigator.onLine) return; // the ordinary way: the form is posted (and says what happened)
    const data = new FormData(form);
    const kind = data.get("kind");
    if (!kind) return;
    const words = labels();
    if (kind === "block" && !data.get("confirm") && !window.confirm(words.confirm_block)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation(); // before htmx sends it to a network that is not there
    const choice = form.querySelector(`input[name="kind"][value="${kind}"]`);
    const kindLabel = choice?.closest("label")?.querySelector(".choice-label")?.textContent?.trim() || kind;
    const title = document.querySelector("h1")?.textContent?.trim() || "";
    const item = {
      request_id: data.get("request_id") || newRequestId(),
      type: "position",
      proposal: Number(match[1]),
      kind,
      reason: data.get(`reason_${kind}`) || data.get("reason") || "",
      csrf: data.get("csrfmiddlewaretoken"),
      label: `${kindLabel} · “${title}”`,
      queued_at: Date.now(),
    };
    put(item).then(() => {
      show(item, "waiting");
      flush();
    });
  },
  true,
);

let flushing = false;

export async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    for (const item of await all()) {
      if (item.type === "position") await sendPosition(item);
    }
  } finally {
    flushing = false;
  }
}

async function sendPosition(item) {
  show(item, "sending");
  let response;
  try {
    response = await fetch(`/api/v1/proposals/${item.proposal}/positions/`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": item.csrf || "" },
      body: JSON.stringify({ kind: item.kind, reason: item.reason, request_id: item.request_id }),
    });
  } catch (error) {
    return show(item, "waiting"); // still no network: it stays in the outbox
  }
  if (response.status >= 500 || response.status === 429) return show(item, "waiting");
  await drop(item.request_id); // a definite answer: recorded, or refused for a reason
  if (response.ok) {
    show(item, "recorded");
    document.dispatchEvent(new CustomEvent("multitude:position-sent", { detail: item }));
    return;
  }
  const body = await response.json().catch(() => ({}));
  show(item, body.code === "call_not_open" ? "closed" : "refused", body.message || "");
}

// --- hand signals and requests to speak: they wait for the socket -------------------------

export async function queueSocketMessage(message, label, requestId = newRequestId()) {
  const item = { request_id: requestId, type: "socket", message, label, queued_at: Date.now() };
  await put(item);
  show(item, "waiting");
}

export async function drainSocketMessages(send) {
  for (const item of await all()) {
    if (item.type !== "socket") continue;
    await drop(item.request_id);
    if (item.message.type === "signal" && Date.now() - item.queued_at > SIGNAL_KEEPS_MS) {
      show(item, "expired");
      continue;
    }
    send({ ...item.message, request_id: item.request_id });
    show(item, "recorded");
  }
}

// --- when the connection returns ----------------------------------------------------------

window.addEventListener("online", () => {
  markOfflineCopy();
  flush();
});
window.addEventListener("offline", markOfflineCopy);
setInterval(() => {
  if (navigator.onLine) flush();
}, RETRY_MS);

document.addEventListener("submit", (event) => {
  // Logging out: the kept pages were this person's, and so is the outbox.
  if (new URL(event.target.action || location.href, location.href).pathname !== "/logout/") return;
  navigator.serviceWorker?.controller?.postMessage("forget-pages");
  indexedDB.deleteDatabase(DB_NAME);
});

document.addEventListener("htmx:afterSettle", () => {
  render(); // a boosted navigation brought a new, empty outbox box
  markOfflineCopy();
});

async function restore() {
  markOfflineCopy();
  for (const item of await all()) show(item, "waiting");
  if (navigator.onLine) flush();
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", restore);
else restore();
