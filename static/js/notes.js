// Candidate notes: autosave while typing, with nothing ever lost. Unsaved text lives in
// localStorage until the server acknowledges that very text, so a reload, a crash or a lost
// connection keeps it; a save based on an outdated version comes back as 409 and both texts are
// shown. Each tab keeps its own draft (its id lives in sessionStorage, which survives a reload
// of that tab), so one tab's saves never overwrite another tab's refused text; a draft left by a
// tab that is gone is offered to the next tab that opens the notes.
(function () {
  "use strict";

  const DEBOUNCE_MS = 300;
  const MAX_RETRY_MS = 30000;
  const ALIVE_PREFIX = "spar:tab-alive:";
  const ALIVE_EVERY_MS = 5000;
  const GONE_AFTER_MS = 15000;  // a tab that has not said it is alive for this long is gone
  // Chromium refuses a keepalive request whose body (with the page's other keepalive requests
  // on their way) passes 64 KiB; a longer text goes without it, which only a page that is
  // closed before the answer comes loses.
  const KEEPALIVE_MAX_BYTES = 60000;
  const SENT_KEPT = 20; // texts remembered per base version (see ownLostSave)

  // Set when the page is about to go (the interview ended, or the page is hidden): saves are
  // then sent with keepalive, so that they reach the server even if the page is gone first.
  let leaving = false;
  window.addEventListener("pageshow", function () { leaving = false; });

  function currentTab() {
    let id = sessionStorage.getItem("spar:tab");
    if (!id) {
      id = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
      sessionStorage.setItem("spar:tab", id);
    }
    return id;
  }

  const tab = currentTab();
  function alive() { localStorage.setItem(ALIVE_PREFIX + tab, String(Date.now())); }
  alive();
  setInterval(alive, ALIVE_EVERY_MS);

  // As live.js does for htmx writes: the version of the room this page shows, and its id, so
  // that the server can tell whether the save's answer brings the page up to date.
  function roomHeaders() {
    const headers = { Accept: "application/json" };
    const poller = document.getElementById("poller");
    const live = document.getElementById("live");
    if (poller) headers["X-Spar-Version"] = poller.dataset.version;
    if (live && live.dataset.page) headers["X-Spar-Page"] = live.dataset.page;
    return headers;
  }

  function read(key) {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (error) { return null; }
  }

  // Drafts of this step that tabs now gone left behind, newest first.
  function leftBehind(prefix) {
    const now = Date.now();
    const found = [];
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (!key || !key.startsWith(prefix) || key === prefix + tab) continue;
      const seen = Number(localStorage.getItem(ALIVE_PREFIX + key.slice(prefix.length)) || 0);
      const draft = read(key);
      if (draft && now - seen > GONE_AFTER_MS) found.push({ key: key, draft: draft });
    }
    return found.sort(function (a, b) { return (b.draft.at || 0) - (a.draft.at || 0); });
  }

  function setup(form) {
    const prefix = `spar:notes:${form.dataset.session}:${form.dataset.step}:`;
    const key = prefix + tab;
    const textarea = form.querySelector("textarea");
    const status = form.querySelector("[data-save-status]");
    const versionInput = form.querySelector("input[name=base_version]");
    const conflict = form.querySelector("[data-conflict]");
    const preview = form.parentElement.querySelector("[data-note-preview]");
    const state = {
      version: Number(form.dataset.version),
      saving: false,
      again: false,
      timer: null,
      retryMs: 2000,
      inConflict: false,
      serverVersion: null,
      inFlight: Promise.resolve(),
      // The texts this page sent, by the version each was based on: a save whose answer was
      // lost may have been kept all the same (see the 409 below).
      sent: new Map(),
    };

    function say(text) { status.textContent = text; }

    function remember() {
      const draft = { text: textarea.value, base: state.version, at: Date.now() };
      localStorage.setItem(key, JSON.stringify(draft));
    }

    // The server acknowledged `sentText`: this tab's draft goes only if it is that very text.
    function forget(sentText) {
      const draft = read(key);
      if (draft && draft.text === sentText) localStorage.removeItem(key);
      else if (draft) remember();
    }

    function schedule(delay) {
      clearTimeout(state.timer);
      state.timer = setTimeout(save, delay);
    }

    function showConflict(serverText, serverVersion, mine) {
      state.inConflict = true;
      state.serverVersion = serverVersion;
      conflict.querySelector("[data-conflict-server]").textContent = serverText;
      conflict.querySelector("[data-conflict-mine]").textContent = mine;
      conflict.hidden = false;
      say("Not saved: these notes changed elsewhere. Choose a version below.");
    }

    function sentFrom(base, text) {
      if (!state.sent.has(base)) state.sent.set(base, new Set());
      const texts = state.sent.get(base);
      texts.add(text);
      // Offline, every retry sends a longer text from the same base: the last few will do.
      if (texts.size > SENT_KEPT) texts.delete(texts.values().next().value);
    }

    function acknowledged(version) {
      state.version = version;
      versionInput.value = String(version);
      state.sent.forEach(function (texts, base) { if (base < version) state.sent.delete(base); });
    }

    // Settles when this save, and any save asked for while it was on its way, have their answer.
    function save() {
      if (state.inConflict) return Promise.resolve();
      if (state.saving) { state.again = true; return state.inFlight; }
      const sent = textarea.value;
      const base = state.version;
      state.saving = true;
      say("Saving…");
      sentFrom(base, sent);
      const body = new FormData(form);
      body.set("text", sent);
      body.set("base_version", String(base));
      const keepalive = leaving && new TextEncoder().encode(sent).length < KEEPALIVE_MAX_BYTES;
      state.inFlight = fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: roomHeaders(),
        keepalive: keepalive,
      })
        .then(function (response) {
          return response.json().then(
            function (data) { return { status: response.status, data: data }; },
            function () { return { status: response.status, data: {} }; }
          );
        })
        .then(function (result) {
          reached(true);
          if (result.status === 200) {
            acknowledged(result.data.version);
            state.retryMs = 2000;
            forget(sent);
            say(`Saved at ${result.data.saved_at}`);
            if (preview && typeof result.data.preview === "string") preview.innerHTML = result.data.preview;
            if (typeof result.data.page_version === "number") {
              // The save brought the page to this version: live.js moves the page's version,
              // and the stream does not send the page its own save.
              document.dispatchEvent(new CustomEvent("spar:version", { detail: result.data.page_version }));
            }
          } else if (result.status === 409 && ownLostSave(result.data)) {
            // An earlier save of this page was kept but its answer never came (a dropped
            // connection, a proxy's 502): the server has this page's own text, not another's.
            // Take its version and send what is typed now from there, without asking.
            acknowledged(result.data.server_version);
            forget(result.data.server_text);
            if (textarea.value !== result.data.server_text) state.again = true;
            else say("Saved.");
          } else if (result.status === 409 && "server_text" in result.data) {
            showConflict(result.data.server_text, result.data.server_version, sent);
          } else if (result.status === 400 || result.status === 409) {
            say(result.data.error || "Not saved. Your text is kept in this browser.");
          } else if (result.status === 429 && result.data.error) {
            say(result.data.error);
            retry();
          } else {
            say(`Not saved (error ${result.status}); your text is kept in this browser — retrying.`);
            retry();
          }
        })
        .catch(function () {
          reached(false);
          say("Offline — your text is kept in this browser; retrying.");
          retry();
        })
        .finally(function () {
          state.saving = false;
          if (state.again) { state.again = false; return save(); }
          return undefined;
        });
      return state.inFlight;
    }

    // A save from version v makes the notes v + 1: the server's text at v + 1 is this page's
    // own if this page sent that text from v.
    function ownLostSave(data) {
      if (!("server_text" in data) || typeof data.server_version !== "number") return false;
      if (data.server_version <= state.version) return false;
      const texts = state.sent.get(data.server_version - 1);
      return texts !== undefined && texts.has(data.server_text);
    }

    // The page is going: send at once what is not saved yet (waiting for the save on its way,
    // if there is one); settles when the server has answered, or the request has failed.
    function flush() {
      clearTimeout(state.timer);
      // Without waiting for a promise when nothing is on its way: on pagehide, now is the time.
      return state.saving ? state.inFlight.then(saveUnsaved) : saveUnsaved();
    }

    function saveUnsaved() {
      clearTimeout(state.timer);  // a failed save's retry: it is sent now instead
      if (state.inConflict || read(key) === null) return Promise.resolve();
      return save();
    }

    // Whether the server answered: the room's connection banner listens (room.js).
    function reached(ok) {
      document.dispatchEvent(new CustomEvent("spar:connection", { detail: { ok: ok } }));
    }

    function retry() {
      schedule(state.retryMs);
      state.retryMs = Math.min(state.retryMs * 2, MAX_RETRY_MS);
    }

    textarea.addEventListener("input", function () {
      remember();
      if (state.inConflict) return;
      say("Unsaved changes…");
      schedule(DEBOUNCE_MS);
    });

    // Leaving the field saves at once, if a save is still waiting for the debounce.
    let lastInput = 0;
    textarea.addEventListener("input", function () { lastInput = Date.now(); });
    textarea.addEventListener("blur", function () {
      if (state.inConflict || Date.now() - lastInput >= DEBOUNCE_MS) return;
      clearTimeout(state.timer);
      save();
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(state.timer);
      save();
    });

    conflict.addEventListener("click", function (event) {
      const choice = event.target.closest("[data-conflict-use]");
      if (!choice) return;
      state.inConflict = false;
      conflict.hidden = true;
      state.version = state.serverVersion;
      versionInput.value = String(state.version);
      if (choice.dataset.conflictUse === "server") {
        textarea.value = conflict.querySelector("[data-conflict-server]").textContent;
        localStorage.removeItem(key);
        say("Kept the version saved elsewhere.");
      } else {
        remember();
        save();
      }
    });

    window.addEventListener("online", function () {
      if (localStorage.getItem(key) === null) return;
      clearTimeout(state.timer);  // the pending offline retry would save the same text again
      save();
    });

    // This tab's own draft, left by a reload or a lost connection; else one a closed tab left.
    let draft = read(key);
    if (!draft) {
      const orphan = leftBehind(prefix).find(function (o) { return o.draft.text !== textarea.value; });
      if (orphan) {
        draft = orphan.draft;
        localStorage.setItem(key, JSON.stringify(draft));
        localStorage.removeItem(orphan.key);
      }
    }
    leftBehind(prefix).forEach(function (o) {
      if (o.draft.text === textarea.value) localStorage.removeItem(o.key);  // saved after all
    });
    if (draft && draft.text !== textarea.value) {
      const serverText = textarea.value;
      textarea.value = draft.text;
      form.closest("details").open = true;
      if (draft.base === state.version) {
        say("Restored text that was not saved yet; saving…");
        save();
      } else {
        showConflict(serverText, state.version, draft.text);
      }
    } else if (draft) {
      localStorage.removeItem(key);
    }
    return flush;
  }

  const flushes = Array.from(document.querySelectorAll("form[data-notes]")).map(setup);

  function flushAll() {
    leaving = true;
    return flushes.map(function (flush) { return flush(); });
  }

  // The interview has ended and live.js is about to leave the room: the server still takes the
  // last words for a while (services.NOTES_GRACE_SECONDS), and live.js waits for these saves.
  document.addEventListener("spar:leaving", function (event) {
    event.detail.wait.push.apply(event.detail.wait, flushAll());
  });
  // Any other way out of the page (a link, closing the tab): the draft stays in this browser
  // anyway, but a keepalive save gets the text to the server now.
  window.addEventListener("pagehide", flushAll);
})();
