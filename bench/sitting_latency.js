// The in-page instruments of bench/sitting_latency.py, installed in every page before the
// page's own scripts (Playwright's add_init_script).
//
// A watch waits for a selector's text to appear and records when it did. Watches live in
// sessionStorage so that one survives a reload: the projector reloads to follow the floor,
// and the reloaded page checks the watch again while it is being parsed. Every time is
// Date.now(), the system clock, which every page of every browser context on this machine
// shares (performance.timeOrigin differs from page to page).
(() => {
  const WATCHES = "bench-watches";
  const CLICK = "bench-click";
  const watches = JSON.parse(sessionStorage.getItem(WATCHES) || "{}");
  const save = () => sessionStorage.setItem(WATCHES, JSON.stringify(watches));
  const squash = (text) => text.replace(/\s+/g, " ").trim();

  function matches(watch) {
    for (const node of document.querySelectorAll(watch.selector)) {
      const text = squash(node.textContent);
      if (watch.exact ? text === watch.text : text.includes(watch.text)) return true;
    }
    return false;
  }

  // Runs as a microtask after the DOM changed, before the next paint: the time a change
  // is in the document, not the time it is on the screen (at most a frame later).
  function check() {
    const now = Date.now();
    let changed = false;
    for (const watch of Object.values(watches)) {
      if (watch.seen === null && matches(watch)) {
        watch.seen = now;
        changed = true;
      }
    }
    if (changed) save();
  }

  new MutationObserver(check).observe(document, {
    childList: true,
    subtree: true,
    characterData: true,
  });

  // The action starts as its click is dispatched: a capturing listener on window runs
  // before any handler of the page (htmx, the live client).
  addEventListener("click", () => sessionStorage.setItem(CLICK, String(Date.now())), true);

  // Keep the timing of every request for `requests` (the default buffer of 250 entries
  // would fill during a run: the live client fetches parts after many snapshots).
  performance.setResourceTimingBufferSize(100000);

  window.__bench = {
    // Arms a watch; true if the text is already there (the benchmark then knows the
    // measurement would mean nothing).
    watch(id, selector, text, exact) {
      watches[id] = { selector, text, exact, seen: null };
      const early = matches(watches[id]);
      save();
      return early;
    },
    seen: (id) => (id in watches ? watches[id].seen : null),
    forgetClick: () => sessionStorage.removeItem(CLICK),
    lastClick: () => Number(sessionStorage.getItem(CLICK)) || null,
    // The page's requests whose URL contains `fragment`, started at `since` (a Date.now()
    // time) or later: when each started and ended, on the Date.now() clock.
    requests(fragment, since) {
      const shift = Date.now() - (performance.timeOrigin + performance.now());
      const at = (ms) => performance.timeOrigin + ms + shift;
      return performance
        .getEntriesByType("resource")
        .filter((e) => e.name.includes(fragment) && at(e.startTime) >= since - 1)
        .map((e) => ({ start: at(e.startTime), end: at(e.responseEnd) }));
    },
  };
})();
