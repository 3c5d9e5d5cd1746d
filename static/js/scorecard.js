// After the interview: the self-assessment one step at a time, the way to the next round when
// the partner swaps roles, and every item on paper when the scorecard is printed.
(function () {
  "use strict";

  // --- the self-assessment, step by step ---------------------------------------------------------
  const steps = Array.from(document.querySelectorAll("[data-sa-step]"));

  function answered(fieldset) {
    const checked = fieldset.querySelector("input[type=radio]:checked");
    return checked !== null && checked.value !== "";
  }

  function count(section) {
    const expected = Array.from(section.querySelectorAll("fieldset[data-expected]"));
    const done = expected.filter(answered).length;
    const link = document.querySelector(`[data-sa-link="${section.dataset.saStep}"]`);
    if (!link) return;
    link.querySelector("[data-sa-count]").textContent = `${done} of ${expected.length}`;
    link.classList.toggle("complete", expected.length > 0 && done === expected.length);
  }

  function show(number, moveFocus) {
    steps.forEach(function (section) {
      section.hidden = section.dataset.saStep !== number;
    });
    document.querySelectorAll("[data-sa-link]").forEach(function (link) {
      if (link.dataset.saLink === number) link.setAttribute("aria-current", "step");
      else link.removeAttribute("aria-current");
    });
    if (moveFocus) {
      const heading = document.querySelector(`[data-sa-step="${number}"] h2`);
      heading.focus();
      heading.scrollIntoView({ block: "start" });
    }
  }

  function firstToShow() {
    const withError = steps.find((section) => section.querySelector(".field-error"));
    if (withError) return withError.dataset.saStep;
    const target = window.location.hash && document.querySelector(window.location.hash);
    const holder = target && target.closest && target.closest("[data-sa-step]");
    if (holder) return holder.dataset.saStep;
    const open = steps.find((section) =>
      Array.from(section.querySelectorAll("fieldset[data-expected]")).some((f) => !answered(f))
    );
    return (open || steps[0]).dataset.saStep;
  }

  if (steps.length > 1) {
    steps.forEach(function (section) {
      section.querySelector("[data-sa-nav]").hidden = false;
      section.addEventListener("change", function () { count(section); });
    });
    document.addEventListener("click", function (event) {
      const control = event.target.closest("[data-sa-go], [data-sa-link]");
      if (!control) return;
      event.preventDefault();
      show(control.dataset.saGo || control.dataset.saLink, true);
    });
    show(firstToShow(), false);
  }

  // --- the next round ----------------------------------------------------------------------------
  // On the scorecard the page goes to the new room by itself after a few seconds, unless asked
  // to stay; on the self-assessment it only offers the link.
  const FOLLOW_SECONDS = 8;

  function offerNextRound() {
    const box = document.querySelector(".next-round-wrap[data-follow]");
    const link = box && box.querySelector("[data-next-round]");
    if (!link || box.querySelector("[data-stay]")) return;
    let left = FOLLOW_SECONDS;
    const note = document.createElement("span");
    note.className = "follow-note";
    const stay = document.createElement("button");
    stay.type = "button";
    stay.className = "secondary";
    stay.dataset.stay = "";
    stay.textContent = "Stay on this page";
    const say = () => { note.textContent = `Opening it in ${left} s.`; };
    say();
    link.parentElement.append(note, stay);
    const timer = setInterval(function () {
      left -= 1;
      if (left > 0) { say(); return; }
      clearInterval(timer);
      window.location.assign(link.href);
    }, 1000);
    stay.addEventListener("click", function () {
      clearInterval(timer);
      note.textContent = "";
      stay.remove();
    });
  }

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "next-round") offerNextRound();
  });

  // While no next round exists, ask the finished session's poll every 2 s whether the partner
  // swapped roles (the room's poller waits to be asked; in the room, live.js asks).
  setInterval(function () {
    const poller = document.getElementById("poller");
    if (poller && window.htmx) window.htmx.trigger(poller, "spar:poll");
  }, 2000);

  // --- printing ----------------------------------------------------------------------------------
  // Items nobody marked are folded away on screen; a printed scorecard lists every item.
  let opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.from(document.querySelectorAll("details.unmarked-items:not([open])"));
    opened.forEach((details) => { details.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach((details) => { details.open = false; });
    opened = [];
  });
})();
