// Multitude history monitor. The browser keeps the newest signed tree head it has seen of
// each assembly (localStorage) and, on every visit and every live update that carries a new
// head, asks the server to prove that the history still extends it: a consistency proof from
// the kept head to the new one, and an inclusion proof of the newest decision, both checked
// here with WebCrypto (SHA-256, and Ed25519 where the browser has it). A failure shows a
// warning with the evidence to download and reports it to the assembly's public log.
// Formats: docs/history-verification.md. No build step, no dependencies.

const STORE = "multitude.treeHead.";
const encoder = new TextEncoder();

let monitor = null;
let visited = null;

function boot() {
  const banner = document.querySelector("[data-history-warning]");
  const slug = banner ? banner.dataset.slug : null;
  if (!slug) return;
  if (!monitor || monitor.slug !== slug) monitor = createMonitor(banner);
  else monitor.rebind(banner);
  // A visit is a new page; the swaps of live parts within a page are not (they come with
  // every tally change, and the snapshots that cause them carry the head anyway).
  if (visited === location.pathname) return;
  visited = location.pathname;
  monitor.check();
}

document.addEventListener("htmx:afterSettle", boot);
// live.js hands every snapshot on; one that carries a head we have not checked starts a check.
document.addEventListener("multitude:snapshot", (event) => {
  const head = event.detail && event.detail.tree_head;
  if (monitor && head) monitor.seen(head);
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button || !navigator.clipboard) return;
  navigator.clipboard.writeText(button.dataset.copy);
});
boot();

function createMonitor(initialBanner) {
  let banner = initialBanner;
  const slug = banner.dataset.slug;
  const api = banner.dataset.api;
  let running = null;
  let again = false;
  let failed = null;

  function stored() {
    try {
      return JSON.parse(localStorage.getItem(STORE + slug) || "null");
    } catch {
      return null;
    }
  }

  function keep(head) {
    try {
      localStorage.setItem(STORE + slug, JSON.stringify(head));
    } catch {
      // Storage full or refused (private mode): the check still ran, nothing is kept.
    }
  }

  async function getJSON(path) {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    return { status: response.status, body };
  }

  async function check() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await checkOnce();
        } catch (error) {
          // A network fault proves nothing either way: try again at the next visit or update.
          console.warn("history monitor:", error);
        }
      } while (again);
      running = null;
    })();
    return running;
  }

  let lastSeen = null;

  function seen(head) {
    // Snapshots come often (every second while hand signals fade): check each new head once.
    const key = `${head.tree_size}:${head.root_hash}`;
    const kept = stored();
    if (key === lastSeen || (kept && `${kept.tree_size}:${kept.root_hash}` === key)) return;
    lastSeen = key;
    check();
  }

  async function checkOnce() {
    const kept = stored();
    const answer = await getJSON(`${api}tree-head/`);
    if (answer.status === 404 && answer.body && answer.body.code === "no_tree_head") {
      if (kept && kept.tree_size > 0) return fail("gone", kept, null, {});
      return;
    }
    if (answer.status !== 200 || !answer.body) return; // the server is away: no evidence
    const current = answer.body;
    if (current.assembly !== slug) return fail("signature", kept, current, {});
    const signature = await verifySignature(current);
    if (signature === false) return fail("signature", kept, current, {});
    if (current.decisions > current.tree_size) return fail("unsigned", kept, current, {});
    const evidence = {};
    if (kept) {
      if (kept.tree_size > current.tree_size) return fail("shortened", kept, current, evidence);
      if (kept.tree_size === current.tree_size && kept.root_hash !== current.root_hash) {
        return fail("rewritten", kept, current, evidence);
      }
      if (kept.tree_size > 0 && kept.tree_size < current.tree_size) {
        const proof = await getJSON(`${api}proofs/consistency/?first=${kept.tree_size}&second=${current.tree_size}`);
        evidence.consistency = proof.body;
        const valid =
          proof.status === 200 &&
          (await verifyConsistency(kept.tree_size, current.tree_size, kept.root_hash, current.root_hash, proof.body.proof));
        if (!valid) return fail("rewritten", kept, current, evidence);
      }
    }
    if (current.tree_size > 0) {
      // The newest decision's audit path covers every other leaf: the decisions the server
      // holds now must still hash to the signed root.
      const inclusion = await getJSON(`${api}proofs/inclusion/?sequence=${current.tree_size}&tree_size=${current.tree_size}`);
      evidence.inclusion = inclusion.body;
      const valid = inclusion.status === 200 && (await verifyInclusionOf(inclusion.body, current));
      if (!valid) return fail(kept ? "rewritten" : "mismatch", kept, current, evidence);
    }
    if (failed) return; // a failure seen earlier on this page stays on screen
    keep({
      format: current.format,
      assembly: current.assembly,
      tree_size: current.tree_size,
      root_hash: current.root_hash,
      timestamp: current.timestamp,
      key_id: current.key_id,
      signature: current.signature,
    });
  }

  function fail(reason, kept, current, evidence) {
    failed = {
      format: "multitude-monitor-evidence",
      reason,
      assembly: slug,
      checked_at: new Date().toISOString(),
      kept_head: kept,
      new_head: current,
      ...evidence,
    };
    show();
    report(kept && kept.tree_size > 0 ? kept : current);
  }

  function show() {
    if (!failed || !banner) return;
    for (const node of banner.querySelectorAll("[data-reason]")) node.hidden = node.dataset.reason !== failed.reason;
    const link = banner.querySelector("[data-history-evidence]");
    link.href = "data:application/json;charset=utf-8," + encodeURIComponent(JSON.stringify(failed, null, 2));
    link.download = `${slug}-history-evidence.json`;
    banner.hidden = false;
  }

  async function report(head) {
    if (!head || !("canReport" in banner.dataset)) return;
    const response = await fetch(`${api}history-reports/`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": banner.dataset.csrf },
      body: JSON.stringify({ head }),
    }).catch(() => null);
    const status = banner.querySelector("[data-history-reported]");
    if (response && (response.status === 201 || response.status === 200) && status) status.hidden = false;
  }

  function rebind(next) {
    banner = next;
    show();
  }

  return { slug, check, seen, rebind };
}

// --- Hashing and proofs: RFC 9162 §2.1, as proposals/merkle.py --------------------------

async function sha256(...parts) {
  const total = parts.reduce((n, part) => n + part.length, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    data.set(part, offset);
    offset += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);
const leafHash = (leaf) => sha256(LEAF, leaf);
const nodeHash = (left, right) => sha256(NODE, left, right);

function fromHex(hex) {
  if (typeof hex !== "string" || !/^([0-9a-f]{2})*$/.test(hex)) throw new Error("not hex");
  return Uint8Array.from(hex.match(/../g) || [], (byte) => parseInt(byte, 16));
}

function toHex(bytes) {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

// JSON with sorted keys and no spaces, UTF-8: Python's json.dumps(sort_keys=True,
// separators=(",", ":"), ensure_ascii=False) for the strings, integers and nulls of a record.
function canonicalJSON(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJSON(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

async function verifyInclusionOf(proof, head) {
  try {
    if (proof.leaf_index !== head.tree_size - 1 || proof.tree_size !== head.tree_size) return false;
    const leaf = encoder.encode(canonicalJSON({ digest: proof.leaf.digest, record: proof.leaf.record }));
    const hash = await leafHash(leaf);
    if (toHex(hash) !== proof.leaf_hash) return false;
    const root = await rootFromInclusion(proof.leaf_index, proof.tree_size, hash, proof.audit_path.map(fromHex));
    return root !== null && toHex(root) === head.root_hash;
  } catch {
    return false;
  }
}

async function rootFromInclusion(index, size, hash, path) {
  // §2.1.3.2
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = hash;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

async function verifyConsistency(first, second, firstRoot, secondRoot, hexProof) {
  // §2.1.4.2, for 0 < first < second
  try {
    const proof = hexProof.map(fromHex);
    if (proof.length === 0) return false;
    if ((first & (first - 1)) === 0) proof.unshift(fromHex(firstRoot));
    let fn = first - 1;
    let sn = second - 1;
    while (fn % 2 === 1) {
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    let fr = proof[0];
    let sr = proof[0];
    for (const c of proof.slice(1)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && toHex(fr) === firstRoot && toHex(sr) === secondRoot;
  } catch {
    return false;
  }
}

// --- The head's signature: Ed25519 over the documented bytes --------------------------------

let publicKey = null;

async function verifySignature(head) {
  // true, false, or null when this browser's WebCrypto has no Ed25519 (then unchecked).
  try {
    if (publicKey === null) {
      const answer = await fetch("/api/v1/history/public-key/", { headers: { Accept: "application/json" } });
      publicKey = await answer.json();
    }
    if (publicKey.key_id !== head.key_id) return false;
    let key;
    try {
      key = await crypto.subtle.importKey("raw", fromBase64(publicKey.public_key), { name: "Ed25519" }, false, ["verify"]);
    } catch {
      return null;
    }
    const fields = {
      assembly: head.assembly,
      key_id: head.key_id,
      root_hash: head.root_hash,
      timestamp: head.timestamp,
      tree_size: head.tree_size,
    };
    const message = encoder.encode("multitude-tree-head:v1\n" + canonicalJSON(fields));
    return await crypto.subtle.verify({ name: "Ed25519" }, key, fromBase64(head.signature), message);
  } catch {
    return false;
  }
}
