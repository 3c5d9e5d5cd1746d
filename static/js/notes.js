// Candidate notes: autosave while typing, with nothing ever lost. Unsaved text lives in
// localStorage until the server acknowledges it, so a reload, a crash or a lost connection
// keeps it; a save based on an outdated version comes back as 409 and both texts are shown.
(function () {
  "use strict";

  const DEBOUNCE_MS = 300;
  const MAX_RETRY_MS = 30000;

  function setup(form) {
    const key = `spar:notes:${form.dataset.session}:${form.dataset.step}`;
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
    };

    function say(text) { status.textContent = text; }

    function remember() {
      localStorage.setItem(key, JSON.stringify({ text: textarea.value, base: state.version }));
    }

    function forget(sentText) {
      const draft = JSON.parse(localStorage.getItem(key) || "null");
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

    function save() {
      if (state.inConflict) return;
      if (state.saving) { state.again = true; return; }
      const sent = textarea.value;
      state.saving = true;
      say("Saving…");
      const body = new FormData(form);
      body.set("text", sent);
      body.set("base_version", String(state.version));
      fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(
            function (data) { return { status: response.status, data: data }; },
            function () { return { status: response.status, data: {} }; }
          );
        })
        .then(function (result) {
          if (result.status === 200) {
            state.version = result.data.version;
            versionInput.value = String(state.version);
            state.retryMs = 2000;
            forget(sent);
            say(`Saved at ${result.data.saved_at}`);
            if (preview && typeof result.data.preview === "string") preview.innerHTML = result.data.preview;
          } else if (result.status === 409 && "server_text" in result.data) {
            showConflict(result.data.server_text, result.data.server_version, sent);
          } else if (result.status === 400 || result.status === 409) {
            say(result.data.error || "Not saved. Your text is kept in this browser.");
          } else {
            say(`Not saved (error ${result.status}); your text is kept in this browser — retrying.`);
            retry();
          }
        })
        .catch(function () {
          say("Offline — your text is kept in this browser; retrying.");
          retry();
        })
        .finally(function () {
          state.saving = false;
          if (state.again) { state.again = false; save(); }
        });
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

    // A draft left by a reload, a crash or a lost connection.
    const draft = JSON.parse(localStorage.getItem(key) || "null");
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
  }

  document.querySelectorAll("form[data-notes]").forEach(setup);
})();
