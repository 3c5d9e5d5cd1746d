// The interview room: clocks right to the second, the partner's presence, notices of what changed
// (a candidate joined, a fact was revealed, the step moved on), the optional beep at a step's
// budget end, keyboard shortcuts for the interviewer, the copy-link button and a connection
// warning. The server's data always wins: every fragment it sends carries exact times, and the
// browser only adds the time that has passed since.
(function () {
  "use strict";

  const cockpit = document.querySelector(".cockpit");
  if (!cockpit) return;
  const announcer = document.getElementById("room-announcer");
  const TICK_MS = 100;

  // --- the server's clock ----------------------------------------------------------------------
  // Fragments carry the server's time (data-server-now, ms) and the running step's start instant.
  // The browser's clock may be off: `offset` = server clock - browser clock. A fragment's server
  // time was taken after its request left and before its response arrived, which bounds the
  // offset from both sides; the bounds tighten with every fragment. Clocks kept by NTP agree,
  // so the offset is taken as 0 unless the bounds prove otherwise (then the nearest bound). The
  // time a page takes to render and travel therefore never shows as a lag.
  let lower = -Infinity;
  let upper = Infinity;
  const sampled = new WeakSet();
  const sentAt = new WeakMap();
  let exchange = null;  // {sent, received} of the htmx response being swapped in

  function bound(serverNow, sent, received) {
    const low = serverNow - received;
    const high = sent === null ? Infinity : serverNow - sent;
    lower = Math.max(lower, low);
    upper = Math.min(upper, high);
    // Bounds that contradict each other mean the browser's clock jumped: start again.
    if (lower > upper) {
      lower = low;
      upper = high;
    }
  }

  function sample(element, sent, received) {
    if (sampled.has(element) || !element.dataset.serverNow) return;
    sampled.add(element);
    bound(Number(element.dataset.serverNow), sent, received);
  }

  function serverNow() {
    return Date.now() + Math.min(Math.max(0, lower), upper);
  }

  // The page's own request, on Date.now()'s clock: how long ago it left and its answer began
  // to arrive, on the page's monotonic clock (performance.timeOrigin is not used: it can drift
  // away from Date.now() by a good part of a second).
  function pageExchange() {
    const entry = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    const now = Date.now();
    if (!entry || !entry.responseStart) return { sent: null, received: now };
    const ago = (moment) => performance.now() - moment;
    return { sent: now - ago(entry.requestStart), received: now - ago(entry.responseStart) };
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.xhr) sentAt.set(event.detail.xhr, Date.now());
  });
  // htmx fires beforeOnLoad as the response arrives, before it swaps anything.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    const sent = event.detail.xhr ? sentAt.get(event.detail.xhr) : undefined;
    exchange = { sent: sent === undefined ? null : sent, received: Date.now() };
  });
  document.addEventListener("htmx:afterSettle", function () { exchange = null; });

  function sampleSwapped() {
    // Outside an htmx response (another transport), the arrival alone still bounds the offset.
    const { sent, received } = exchange || { sent: null, received: Date.now() };
    document.querySelectorAll("[data-server-now]").forEach(function (el) { sample(el, sent, received); });
  }

  // --- clocks -----------------------------------------------------------------------------------
  function clock(seconds) {
    const total = Math.max(0, Math.floor(seconds));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  function showTimer(timer, ms) {
    const seconds = Math.floor(ms / 1000);
    const budget = Number(timer.dataset.budget);
    const over = seconds > budget;
    setText(timer.querySelector("[data-timer-clock]"), clock(seconds));
    setText(
      timer.querySelector("[data-timer-status]"),
      over ? `over by ${clock(seconds - budget)}` : `${clock(budget - seconds)} left`
    );
    timer.classList.toggle("overrun", over);
    timer.classList.toggle("low", !over && budget - seconds <= 60);
  }

  function showStepRow(row, ms) {
    const seconds = Math.floor(ms / 1000);
    const budget = Number(row.dataset.budget);
    setText(row.querySelector("[data-step-clock]"), clock(seconds));
    const overText = row.querySelector("[data-step-over]");
    const over = seconds > budget;
    row.classList.toggle("overrun", over);
    const wanted = over ? `over by ${clock(seconds - budget)}` : "";
    const strong = overText.querySelector("strong");
    if ((strong ? strong.textContent : "") === wanted) return;
    overText.replaceChildren();
    if (over) {
      const label = document.createElement("strong");
      label.textContent = wanted;
      overText.append(" — ", label);
    }
  }

  // The running stretch of the current step, added to every stored time shown for it; every
  // place that shows a step's time computes it from the same numbers in the same tick.
  function runningMs(flow) {
    const since = flow.dataset.runningSince;
    return since ? Math.max(0, serverNow() - Number(since)) : 0;
  }

  let lastStepMs = null;
  let lastStep = null;

  function tick() {
    const flow = document.getElementById("flow");
    if (!flow) return;
    const extra = runningMs(flow);
    let stepMs = null;
    flow.querySelectorAll("[data-timer]").forEach(function (timer) {
      const ms = Number(timer.dataset.storedMs) + extra;
      showTimer(timer, ms);
      if (timer.dataset.step) stepMs = ms;
    });
    const row = document.querySelector(`[data-step-row="${flow.dataset.currentStep}"]`);
    if (row) showStepRow(row, Number(row.dataset.storedMs) + extra);
    budgetCue(flow, stepMs);
    showPresence();
  }

  // --- the partner's presence -------------------------------------------------------------------
  function ago(ms) {
    const seconds = Math.floor(ms / 1000);
    if (seconds < 90) return `${seconds} s ago`;
    const minutes = Math.floor(seconds / 60);
    return minutes < 90 ? `${minutes} min ago` : "a while ago";
  }

  function showPresence() {
    const presence = document.getElementById("presence");
    const state = presence && presence.querySelector("[data-presence-state]");
    if (!state) return;
    const seen = presence.dataset.seen ? Number(presence.dataset.seen) : null;
    const since = seen === null ? null : serverNow() - seen;
    const here = since !== null && since < Number(presence.dataset.within);
    state.classList.toggle("here", here);
    setText(state, here ? "here now" : since === null ? "not seen yet" : `away, last seen ${ago(since)}`);
  }

  // --- the beep at a step's budget end (off until clicked: browsers require a click) ------------
  const soundButton = cockpit.querySelector("[data-sound]");
  let audio = null;

  function beep() {
    const start = audio.currentTime;
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    tone.frequency.value = 880;
    volume.gain.setValueAtTime(0.0001, start);
    volume.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
    volume.gain.exponentialRampToValueAtTime(0.0001, start + 0.35);
    tone.connect(volume).connect(audio.destination);
    tone.start(start);
    tone.stop(start + 0.4);
  }

  function budgetCue(flow, stepMs) {
    const step = flow.dataset.currentStep;
    const timer = flow.querySelector("[data-timer][data-step]");
    if (stepMs !== null && timer && step === lastStep && lastStepMs !== null) {
      const budgetMs = Number(timer.dataset.budget) * 1000;
      if (lastStepMs < budgetMs && stepMs >= budgetMs && soundButton.getAttribute("aria-pressed") === "true") {
        beep();
        soundButton.dataset.beeped = step;
      }
    }
    lastStep = step;
    lastStepMs = stepMs;
  }

  if (soundButton && (window.AudioContext || window.webkitAudioContext)) {
    soundButton.hidden = false;
    soundButton.addEventListener("click", function () {
      const on = soundButton.getAttribute("aria-pressed") !== "true";
      if (on && audio === null) audio = new (window.AudioContext || window.webkitAudioContext)();
      if (on && audio.state === "suspended") audio.resume();
      soundButton.setAttribute("aria-pressed", String(on));
      soundButton.querySelector("[data-sound-state]").textContent = on ? ": on" : ": off";
    });
  }

  // --- notices ----------------------------------------------------------------------------------
  function announce(text) {
    if (!announcer) return;
    announcer.textContent = "";
    // A fresh text node after a pause, so the same words twice are still read out.
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  const baseTitle = document.title;
  function flagTitle(text) {
    if (!document.hidden) return;
    document.title = `${text} · ${baseTitle}`;
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      document.title = baseTitle;
      tick();
    }
  });

  let joined = document.querySelector("#setup [data-joined]") !== null;
  function checkJoined() {
    const alert = document.querySelector("#setup [data-joined]");
    if (alert && !joined) {
      alert.classList.add("fresh");
      announce(`${alert.dataset.joined} joined.`);
      flagTitle(`${alert.dataset.joined} joined`);
    }
    joined = alert !== null;
  }

  function factIds() {
    return new Set(Array.from(document.querySelectorAll("#facts [data-fact]"), (el) => el.dataset.fact));
  }
  let knownFacts = factIds();
  let noticeTimer = null;

  function checkFacts() {
    const notice = document.getElementById("fact-notice");
    const now = factIds();
    const fresh = Array.from(document.querySelectorAll("#facts [data-fact]")).filter(
      (el) => !knownFacts.has(el.dataset.fact)
    );
    knownFacts = now;
    if (!notice || fresh.length === 0) return;
    fresh.forEach((el) => el.classList.add("fresh"));
    const question = fresh[fresh.length - 1].dataset.question || "";
    notice.replaceChildren();
    const link = document.createElement("a");
    link.href = "#facts";
    link.textContent = fresh.length === 1 ? "New fact revealed" : `${fresh.length} new facts revealed`;
    notice.append(link, question ? `: ${question}` : "");
    flagTitle("New fact");
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { notice.replaceChildren(); }, 30000);
  }

  // --- the interviewer's notes pane: highlight the words that matched checklist items -----------
  const WORD = /[\p{L}\p{N}]/u;

  function highlight() {
    const container = document.querySelector("#candidate-notes [data-evidence]");
    if (!container) return;
    let phrases;
    try {
      phrases = JSON.parse(container.dataset.evidence);
    } catch (error) {
      return;
    }
    phrases = phrases.map((p) => p.toLowerCase()).filter(Boolean).sort((a, b) => b.length - a.length);
    if (phrases.length === 0) return;
    const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(function (node) {
      const text = node.nodeValue;
      const lower = text.toLowerCase();
      if (lower.length !== text.length) return;
      const found = [];
      phrases.forEach(function (phrase) {
        for (let at = lower.indexOf(phrase); at !== -1; at = lower.indexOf(phrase, at + 1)) {
          const end = at + phrase.length;
          if (WORD.test(text.charAt(at - 1)) || WORD.test(text.charAt(end))) continue;
          found.push([at, end]);
        }
      });
      if (found.length === 0) return;
      found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
      const parts = document.createDocumentFragment();
      let position = 0;
      found.forEach(function ([start, end]) {
        if (start < position) return;
        const mark = document.createElement("mark");
        mark.textContent = text.slice(start, end);
        parts.append(text.slice(position, start), mark);
        position = end;
      });
      parts.append(text.slice(position));
      node.replaceWith(parts);
    });
  }

  // --- following the interview ------------------------------------------------------------------
  let currentStep = document.getElementById("flow")?.dataset.currentStep;

  function followFlow() {
    const flow = document.getElementById("flow");
    if (!flow) return;
    // The case changed before the start: the prompt, facts and checklist are another case's.
    if (flow.dataset.case !== cockpit.dataset.case) {
      window.location.reload();
      return;
    }
    // Messages shown with the page (an invite link renewed, say) are stale once the flow moves.
    document.querySelectorAll("main > .messages").forEach((el) => el.remove());
    const step = flow.dataset.currentStep;
    if (step === currentStep) return;
    const previous = document.querySelector(`details[data-note-step="${currentStep}"]`);
    currentStep = step;
    const name = flow.querySelector(".flow-step-name");
    if (name) announce(name.textContent.trim());
    // The candidate's editor follows the interview; the one just left closes unless in use.
    const editor = document.querySelector(`details[data-note-step="${step}"]`);
    if (!editor) return;
    editor.open = true;
    if (previous && previous !== editor && !previous.contains(document.activeElement)) {
      previous.open = false;
    }
    // Within its pane on a laptop; on a phone the page is not moved under the reader's eyes.
    const pane = editor.closest(".pane");
    const paneScrolls = pane && getComputedStyle(pane).overflowY !== "visible";
    if (paneScrolls && !editor.contains(document.activeElement)) {
      editor.scrollIntoView({ block: "nearest" });
    }
  }

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    // detail.target is the element swapped out; read the one now in the page.
    const id = event.detail.target && event.detail.target.id;
    sampleSwapped();
    if (id === "flow") followFlow();
    else if (id === "setup") checkJoined();
    else if (id === "facts") checkFacts();
    else if (id && id.startsWith("candidate-notes")) highlight();
    tick();
  });

  // Never replace a text field the user is typing in: the stream or a poll can bring an update
  // at any moment. The answer to a write sent from that field's own form is no such update: it
  // is what the user asked for (a hint logged with Enter keeps the focus in its field), and
  // holding it off would leave the hint unshown and the field full, inviting the hint twice.
  let answering = null; // the element whose request's answer is being swapped in
  document.addEventListener("htmx:beforeSwap", function (event) {
    answering = event.detail.requestConfig ? event.detail.requestConfig.elt : null;
  });
  // After the request too: an answer that is not swapped (a server error) has no afterSwap.
  ["htmx:afterSwap", "htmx:afterRequest"].forEach(function (name) {
    document.addEventListener(name, function () { answering = null; });
  });

  // The newest version of each section held off a field, by id: see the hint's step below.
  const heldOff = new Map();

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    const active = document.activeElement;
    const target = event.detail.target;
    if (!target) return;
    if (
      active && target.contains(active) &&
      active.matches("textarea, input[type=text]:not([readonly]), input:not([type])") &&
      !(answering && answering.contains(active))
    ) {
      event.detail.shouldSwap = false;
      heldOff.set(target.id, event.detail.fragment);
    } else {
      heldOff.delete(target.id);
      carryOverTyping(target, event.detail.fragment);
    }
  });

  // A section replaced whole takes along what was typed into its other fields and not yet sent
  // (a comment, while a hint from the same section is logged), unless the server's text for
  // that field changed meanwhile: then the new text wins, as it would on a reload.
  function carryOverTyping(old, fragment) {
    if (!fragment || !fragment.querySelector) return;
    old.querySelectorAll("textarea, input[type=text], input:not([type])").forEach(function (field) {
      if (!field.id || field.value === field.defaultValue) return;
      if (answering && answering.contains(field)) return; // sent: the answer shows what became of it
      const fresh = fragment.querySelector("#" + CSS.escape(field.id));
      if (fresh && fresh.defaultValue === field.defaultValue) fresh.value = field.value;
    });
  }

  // A hint belongs to the step it is given in. If the interview moved on while one was typed
  // (from the interviewer's other device, say), its section was held off the field above and
  // its form still logs for the old step: send nothing, bring in the current step's section
  // with the text in its field, and say so, rather than log the hint where nobody looks.
  document.addEventListener("htmx:confirm", function (event) {
    const form = event.detail.elt;
    const flow = document.getElementById("flow");
    const fresh = heldOff.get("step-tools");
    const old = document.getElementById("step-tools");
    if (!form.matches("[data-hint-step]") || !flow || !fresh || !old) return;
    const step = flow.dataset.currentStep;
    if (form.dataset.hintStep === step) return;
    event.preventDefault();
    const text = form.elements.text.value;
    heldOff.delete("step-tools");
    const section = fresh.firstElementChild;
    old.replaceWith(fresh);
    htmx.process(section);
    const moved = section.querySelector("[data-hint-step] [name=text]");
    if (moved) {
      moved.value = text;
      moved.focus();
    }
    const error = document.createElement("p");
    error.className = "form-errors";
    error.setAttribute("role", "alert");
    error.textContent = `The interview moved on to step ${step} while you typed, so this hint was ` +
      `not logged for step ${form.dataset.hintStep}. It is still in the box: press Enter to log ` +
      `it for step ${step}, or clear it.`;
    document.getElementById("room-error").replaceChildren(error);
  });

  // --- keyboard shortcuts for the interviewer ---------------------------------------------------
  // Keys typed into a field, or on the board (whose tools answer to r, e, t…), are not shortcuts.
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable], [data-board]") !== null;
  }

  function clickIfEnabled(element) {
    if (element && !element.disabled) element.click();
  }

  const markKeys = { c: "covered", p: "partial", m: "missed", o: "observed", x: "" };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (cockpit.dataset.role !== "interviewer") return;
    const key = event.key.toLowerCase();
    if (key === "n") {
      clickIfEnabled(document.getElementById("control-next"));
    } else if (key === "b") {
      clickIfEnabled(document.getElementById("control-previous"));
    } else {
      const item = document.activeElement && document.activeElement.closest("[data-item]");
      if (!item) return;
      if (key in markKeys) {
        clickIfEnabled(item.querySelector(`button[data-mark="${markKeys[key]}"]`));
      } else if (key === "h") {
        clickIfEnabled(item.querySelector("[data-after-hint]"));
      } else {
        return;
      }
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const input = document.querySelector(button.dataset.copy);
    input.select();
    navigator.clipboard.writeText(input.value).then(
      function () { button.textContent = "Copied"; },
      function () { button.textContent = "Select and copy the link"; }
    );
  });

  // Start, Pause and Resume replace the control they were pressed on; keep keyboard users in
  // the controls instead of dropping them at the top of the page.
  let focusWasInFlow = false;
  document.addEventListener("htmx:beforeRequest", function () {
    focusWasInFlow = Boolean(document.activeElement && document.activeElement.closest("#controls"));
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusWasInFlow || document.activeElement !== document.body) return;
    focusWasInFlow = false;
    const control = document.querySelector("#controls button:not([disabled])");
    if (control) control.focus();
  });

  function connection(ok) {
    const banner = document.getElementById("connection-status");
    if (banner) banner.hidden = ok;
  }
  document.addEventListener("htmx:sendError", function () { connection(false); });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) connection(true);
  });
  // On the push path the page may send no htmx request for minutes: a notes save (notes.js)
  // and a stream that opens again also tell whether the server can be reached.
  document.addEventListener("spar:connection", function (event) { connection(event.detail.ok); });
  document.addEventListener("htmx:sseOpen", function () { connection(true); });

  const first = pageExchange();
  document.querySelectorAll("[data-server-now]").forEach(function (el) {
    sample(el, first.sent, first.received);
  });
  highlight();
  tick();
  setInterval(tick, TICK_MS);
})();
