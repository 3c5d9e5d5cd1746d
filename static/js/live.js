// How the room hears about changes: a server-sent event stream (htmx's SSE extension swaps each
// update in), and the poll when the stream is not available. A page is never silently stale:
// if no event (not even a heartbeat) gets through for a while, or the stream keeps dropping,
// the page polls every 2 seconds and says "live updates delayed" until the stream is healthy.
// The page's version (#poller's data-version) is what it shows; updates it already has, for
// example from the answer to its own write, are not swapped in again.
(function () {
  "use strict";

  const POLL_MS = 2000;
  const FIRST_EVENT_MS = 5000; // a new stream's first heartbeat comes at once; a proxy may hold it
  const BROKEN_MS = 5000; // an error that a reconnect does not mend within this is an outage
  const DROPS = 3; // this many drops of a working stream in DROP_WINDOW_MS: it keeps dropping
  const DROP_WINDOW_MS = 30000;
  // At the end of the interview the page waits this long at most for the notes' last save
  // (notes.js) before it leaves: a dead network must not keep the candidate in the room.
  const LEAVE_WAIT_MS = 2000;
  const REOPEN_MAX_MS = 60000; // the longest wait between reopenings of a silent stream

  const live = document.getElementById("live");
  if (!live) return;
  const streamUrl = live.getAttribute("data-sse-connect");
  const heartbeatMs = Number(live.dataset.heartbeatMs) || 10000;
  const startedAt = Date.now();
  let lastEventAt = 0;
  let heardSinceError = false;
  let brokenSince = null;
  let drops = [];
  let polling = null;
  // Set when a write got no answer (see htmx:afterRequest below) until a poll has brought what
  // changed: meanwhile updates are held, so that the page stays at the version it had then.
  let recoveringSince = null;
  let recoveryPoll = null; // only a poll sent after the write failed can bring its change

  function pageVersion() {
    const poller = document.getElementById("poller");
    return poller ? Number(poller.dataset.version) : 0;
  }

  function poll() {
    if (leaving) return;
    const poller = document.getElementById("poller");
    if (poller) htmx.trigger(poller, "spar:poll");
  }

  function setPolling(on) {
    if (on && polling === null) {
      polling = setInterval(poll, POLL_MS);
      poll();
    } else if (!on && polling !== null) {
      clearInterval(polling);
      polling = null;
    }
  }

  function delayed(on) {
    const status = document.getElementById("live-status");
    if (status) status.hidden = !on;
    live.dataset.state = on ? "delayed" : "live";
    setPolling(on);
  }

  // The interview has ended (the stream's `finished` event, or a poll's HX-Redirect): notes.js
  // sends what the candidate has not saved yet, and the page leaves once that is answered. A
  // save cut off by leaving at once would lose the last words, kept only in this browser.
  let leaving = false;
  function leave(url) {
    if (leaving) return;
    leaving = true;
    setPolling(false);
    const wait = [];
    document.dispatchEvent(new CustomEvent("spar:leaving", { detail: { wait: wait } }));
    const capped = new Promise(function (resolve) { setTimeout(resolve, LEAVE_WAIT_MS); });
    Promise.race([Promise.allSettled(wait), capped]).then(function () {
      window.location.assign(url);
    });
  }

  // A room brought back from the back/forward cache shows what it showed when it was left, with
  // its stream and its polling stopped: load it afresh instead.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) window.location.reload();
  });

  function ownPath(url) { return typeof url === "string" && /^\/[^/]/.test(url); }

  document.addEventListener("htmx:beforeOnLoad", function (event) {
    const url = event.detail.xhr.getResponseHeader("HX-Redirect");
    if (!ownPath(url)) return; // htmx's own handling, if any
    event.preventDefault();
    leave(url);
  });

  if (!streamUrl || typeof EventSource === "undefined") {
    // This server does not stream (or this browser cannot listen): the poll is the live path.
    live.dataset.state = "polling";
    setPolling(true);
    return;
  }

  const silence = heartbeatMs * 2.5;
  let source = null; // the EventSource the extension listens to now
  let sourceSince = 0;
  let reopenAfter = silence; // grows while reopened streams stay silent too

  function heard() {
    lastEventAt = Date.now();
    heardSinceError = true;
    brokenSince = null;
    reopenAfter = silence;
  }

  function healthy() {
    const now = Date.now();
    drops = drops.filter(function (at) { return now - at < DROP_WINDOW_MS; });
    if (drops.length >= DROPS) return false;
    if (brokenSince !== null && now - brokenSince > BROKEN_MS) return false;
    if (recoveringSince !== null && now - recoveringSince > BROKEN_MS) return false;
    if (lastEventAt === 0) return now - startedAt < FIRST_EVENT_MS;
    return now - lastEventAt < heartbeatMs * 2.5;
  }

  // Every EventSource the extension opens (it opens a new one after a failed reconnect) reports
  // its heartbeats here, and the end of the interview.
  const create = htmx.createEventSource;
  htmx.createEventSource = function (url) {
    const created = create(url);
    source = created;
    sourceSince = Date.now();
    created.addEventListener("heartbeat", heard);
    created.addEventListener("update", heard);
    created.addEventListener("finished", function (event) {
      created.close();
      if (ownPath(event.data)) leave(event.data);
    });
    return created;
  };

  // The extension reconnects only after an error that closed the EventSource, and the browser
  // only after one it noticed: a connection lost without a word (a laptop's sleep, a change of
  // network, a proxy holding the stream) leaves the source open, silent for good. Close it and
  // hand it to the extension as failed: it opens a new one from #live's data-sse-connect, whose
  // ?v= is the version the page shows (a new EventSource sends no Last-Event-ID). A closed
  // source is already being reconnected (or the interview has ended).
  function reopenIfSilent() {
    if (source === null || source.readyState === EventSource.CLOSED || leaving) return;
    if (Date.now() - Math.max(lastEventAt, sourceSince) < reopenAfter) return;
    // Doubling, with jitter: the pages that a server's restart left silent come back apart.
    reopenAfter = Math.min(reopenAfter * (1.6 + Math.random() * 0.8), REOPEN_MAX_MS);
    syncStreamUrl();
    source.close();
    source.dispatchEvent(new Event("error"));
  }

  live.addEventListener("htmx:sseError", function () {
    // A stream that worked and then failed dropped; one that never got going is just broken.
    if (heardSinceError) drops.push(Date.now());
    heardSinceError = false;
    if (brokenSince === null) brokenSince = Date.now();
  });

  // While this page's own write is on its way, an update may already carry that write and
  // replace the form that sent it, and the write's answer would then find no place to go: hold
  // the updates until the answer has been swapped in, then apply them in order. Each carries
  // only what changed since the one before, so every one of them is needed.
  const writes = new Set();
  let held = [];

  function apply(message) {
    if (Number(message.lastEventId) <= pageVersion()) return;
    htmx.swap(live, message.data, { swapStyle: "none", swapDelay: 0, settleDelay: 0 }, { contextElement: live });
  }

  let pollRequest = null; // the poll on its way, if any
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.requestConfig.verb === "post") {
      writes.add(event.detail.xhr);
    } else if (event.detail.elt.id === "poller") {
      pollRequest = event.detail.xhr;
      if (recoveringSince !== null) recoveryPoll = event.detail.xhr;
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    const xhr = event.detail.xhr;
    const failed = xhr.status === 0 || xhr.status >= 500;
    writes.delete(xhr);
    if (xhr === pollRequest) pollRequest = null;
    if (event.detail.requestConfig.verb === "post" && failed) {
      // A write whose answer never came (a dropped connection, a server error) may have been
      // committed all the same, and the stream does not send a page its own change: ask the
      // server what changed since the version this page shows (once the write's request has
      // ended: the poll and the writes take turns, see the room's hx-sync). Until that poll
      // is answered, updates wait: one would move the page past the change it lacks.
      if (recoveringSince === null) recoveringSince = Date.now();
      setTimeout(poll, 0);
    } else if (xhr === recoveryPoll) {
      recoveryPoll = null;
      if (failed) setTimeout(poll, POLL_MS);
      else recoveringSince = null;
    }
    if (writes.size === 0 && recoveringSince === null && held.length > 0) {
      const messages = held;
      held = [];
      messages.forEach(apply);
    }
  });

  // An update that replaces #poller (the page's version) while a poll is on its way: that
  // poll would be answered for an element no longer in the page, whose parts have nowhere to
  // go, and the stream carries the same changes. Drop it.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    const target = event.detail.target;
    if (target && target.id === "poller" && pollRequest !== null) pollRequest.abort();
  });

  live.addEventListener("htmx:sseBeforeMessage", function (event) {
    if (writes.size > 0 || recoveringSince !== null) {
      held.push(event.detail);
      event.preventDefault();
    } else if (Number(event.detail.lastEventId) <= pageVersion()) {
      event.preventDefault();
    }
  });

  // Writes tell the server which version the page shows, so that the answer carries exactly
  // the parts that changed since, and which page this is, so that its stream does not send the
  // page's own change again when the answer has brought it.
  const pageId = live.dataset.page || "";
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "post") return;
    event.detail.headers["X-Spar-Version"] = String(pageVersion());
    if (pageId) event.detail.headers["X-Spar-Page"] = pageId;
  });

  // A write answered outside htmx (the notes' autosave) brought the page to this version. (A
  // poll meanwhile still asks from the version in its URL: it brings the page nothing new.)
  document.addEventListener("spar:version", function (event) {
    const poller = document.getElementById("poller");
    const version = Number(event.detail);
    if (poller && version > pageVersion()) poller.dataset.version = String(version);
  });

  let urlVersion = pageVersion();
  // A new EventSource after a failed reconnect starts from the version the page has now.
  function syncStreamUrl() {
    const version = pageVersion();
    if (version !== urlVersion) {
      urlVersion = version;
      const url = new URL(streamUrl, window.location.href);
      url.searchParams.set("v", String(version));
      live.setAttribute("data-sse-connect", url.pathname + url.search);
    }
  }

  setInterval(function () {
    syncStreamUrl();
    reopenIfSilent();
    if (lastEventAt === 0 && Date.now() - startedAt < FIRST_EVENT_MS) return; // still opening
    delayed(!healthy());
  }, 1000);
})();
