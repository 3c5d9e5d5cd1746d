// The interview room: local timers between server updates, keyboard shortcuts for the
// interviewer, the copy-link button and a connection warning. Server state always wins:
// every htmx swap brings fresh data-elapsed values, and the timers restart from them.
(function () {
  "use strict";

  const seenAt = new WeakMap();

  function clock(seconds) {
    const total = Math.max(0, Math.floor(seconds));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll(".timers").forEach(function (group) {
      const running = group.dataset.running === "true";
      group.querySelectorAll("[data-timer]").forEach(function (timer) {
        if (!seenAt.has(timer)) seenAt.set(timer, now);
        if (!running) return;
        const elapsed = Number(timer.dataset.elapsed) + (now - seenAt.get(timer)) / 1000;
        const budget = Number(timer.dataset.budget);
        const over = elapsed - budget;
        timer.querySelector("[data-timer-clock]").textContent = clock(elapsed);
        const status = timer.querySelector("[data-timer-status]");
        if (over > 0) {
          status.textContent = `over by ${clock(over)}`;
          timer.classList.add("overrun");
        } else if (!timer.classList.contains("timer-total")) {
          status.textContent = `${clock(-over)} left`;
        }
      });
    });
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function clickIfEnabled(element) {
    if (element && !element.disabled) element.click();
  }

  const markKeys = { c: "covered", p: "partial", m: "missed", o: "observed", x: "" };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (document.querySelector(".room[data-role=interviewer]") === null) return;
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

  // The candidate's notes follow the interview: open the current step's editor.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    const swapped = event.detail.target;
    if (!swapped || swapped.id !== "flow") return;
    // detail.target is the element swapped out (old step); read the one now in the page.
    const flow = document.getElementById("flow");
    const editor = document.querySelector(`details[data-note-step="${flow.dataset.currentStep}"]`);
    if (editor) editor.open = true;
  });

  // Never replace a text field the user is typing in: a poll can arrive at any moment.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    const active = document.activeElement;
    const target = event.detail.target;
    if (active && target && target.contains(active) && active.matches("textarea, input[type=text], input:not([type])")) {
      event.detail.shouldSwap = false;
    }
  });

  // Start, Pause and Resume replace the control they were pressed on; keep keyboard users in
  // the controls instead of dropping them at the top of the page.
  let focusWasInFlow = false;
  document.addEventListener("htmx:beforeRequest", function () {
    focusWasInFlow = Boolean(document.activeElement && document.activeElement.closest("#flow"));
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusWasInFlow || document.activeElement !== document.body) return;
    focusWasInFlow = false;
    const control = document.querySelector("#flow .controls button:not([disabled])");
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

  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();
