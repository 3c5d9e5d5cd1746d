// The room's notes and board, as two tabs of one pane: notes first, the board one click or
// Alt+B away. A change drawn on the other screen arrives as a new #board-signal (an out-of-band
// swap of the room's live update); it is passed on to the board as `spar:board-changed`, and the
// Board tab shows a dot until it is opened.
(function () {
  "use strict";

  const root = document.querySelector("[data-work-tabs]");
  if (!root) return;
  const tabs = Array.from(root.querySelectorAll("[data-work-tab]"));
  const dot = root.querySelector("[data-board-dot]");
  const board = root.querySelector("[data-board]");

  function panelOf(tab) {
    return document.getElementById(tab.getAttribute("aria-controls"));
  }

  function select(tab, focus) {
    tabs.forEach(function (other) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      panelOf(other).hidden = !selected;
    });
    if (focus) tab.focus();
    if (tab.dataset.workTab === "board") {
      if (dot) dot.hidden = true;
      if (board) board.dispatchEvent(new CustomEvent("spar:board-open", { bubbles: true }));
    }
  }

  root.addEventListener("click", function (event) {
    const tab = event.target.closest("[data-work-tab]");
    if (tab) select(tab, false);
  });

  // The tab pattern's keys: arrows move between the tabs, Home and End to the ends.
  root.addEventListener("keydown", function (event) {
    const index = tabs.indexOf(event.target);
    if (index < 0) return;
    const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: tabs.length - 1 - index };
    if (!(event.key in moves)) return;
    event.preventDefault();
    select(tabs[(index + moves[event.key] + tabs.length) % tabs.length], true);
  });

  // Alt+B from anywhere in the room, the notes' textarea included: between notes and board.
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.key.toLowerCase() !== "b") return;
    const current = tabs.find(function (tab) { return tab.getAttribute("aria-selected") === "true"; });
    select(current === tabs[0] ? tabs[1] : tabs[0], true);
    event.preventDefault();
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "board-signal") return;
    // The signal carries the session's stamp, not the board's own version: no version is passed
    // on, so a mounted board fetches and merges (an unchanged board answers with nothing new).
    if (board) board.dispatchEvent(new CustomEvent("spar:board-changed", { detail: {} }));
    const boardTab = tabs.find(function (tab) { return tab.dataset.workTab === "board"; });
    if (dot && boardTab && boardTab.getAttribute("aria-selected") !== "true") dot.hidden = false;
  });
})();
