// Multitude's service worker (docs/offline.md). Rendered by core.views.service_worker.
//
// - Static files (hashed names): from the cache first, the network fills it.
// - Pages: from the network first; each page a person opened is kept, and shown from the
//   cache (marked as an offline copy) when the network is gone.
// - Nothing else is touched: the API, the admin, the socket, and every write go to the
//   network as they are (a write made offline waits in the page's outbox, js/offline.js).
const VERSION = "{{ version }}";
const STATIC_CACHE = `multitude-static-${VERSION}`;
const PAGES_CACHE = "multitude-pages";
const PRECACHE = {{ precache|safe }};
const STATIC_PREFIX = {{ static_prefix|safe }};
const OFFLINE_URL = {{ offline_url|safe }};
const NOT_CACHED = ["/api/", "/admin/", "/ws/", "/sw.js", "/login/", "/logout/", "/healthz"];
// A page slower than this is answered from the cache when a copy exists (a network that
// takes the request and never answers is as dead as none).
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(STATIC_CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("multitude-static-") && key !== STATIC_CACHE)
          .map((key) => caches.delete(key)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  // Logging out: this phone forgets the pages it kept for that person.
  if (event.data === "forget-pages") event.waitUntil(caches.delete(PAGES_CACHE));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (NOT_CACHED.some((prefix) => url.pathname.startsWith(prefix))) return;
  if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(staticFirst(request));
  } else if (request.mode === "navigate" || isPagePart(request, url)) {
    event.respondWith(networkFirst(request, url));
  }
});

function isPagePart(request, url) {
  return url.searchParams.has("part") || request.headers.get("HX-Request") === "true";
}

async function staticFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(STATIC_CACHE)).put(request, response.clone());
  return response;
}

async function networkFirst(request, url) {
  const cache = await caches.open(PAGES_CACHE);
  // A live part or an htmx swap is the page itself too: one copy per address.
  const key = pageKey(url);
  const isPart = url.searchParams.has("part");
  const cached = isPart ? null : await cache.match(key);
  const network = fetch(request);
  try {
    // With a copy to show, a network that does not answer in time counts as none; without
    // one, a slow answer is still better than "offline".
    const response = await (cached ? withTimeout(network, NETWORK_TIMEOUT_MS) : network);
    const isHtml = (response.headers.get("Content-Type") || "").startsWith("text/html");
    if (response.ok && isHtml && !isPart && request.mode === "navigate") {
      await cache.put(key, response.clone());
    }
    return response;
  } catch (error) {
    if (isPart) return Response.error(); // the page keeps what it shows
    if (cached) return offlineCopy(cached);
    return (await caches.match(OFFLINE_URL)) || Response.error();
  }
}

function pageKey(url) {
  const copy = new URL(url);
  copy.searchParams.delete("part");
  copy.hash = "";
  return copy.toString();
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); },
                 (error) => { clearTimeout(timer); reject(error); });
  });
}

// The kept copy, saying when it was kept: the page tells the person it is not live.
async function offlineCopy(cached) {
  const when = cached.headers.get("Date") || "";
  const html = (await cached.text()).replace(
    "</head>",
    `<meta name="multitude-offline-copy" content="${when.replace(/"/g, "")}"></head>`,
  );
  return new Response(html, { status: 200, headers: cached.headers });
}
