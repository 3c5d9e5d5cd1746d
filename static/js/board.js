// Loads the whiteboard only when it is shown. A [data-board] element names the bundle's entry in
// data-bundle-url; nothing of the bundle (about 450 KB gzipped) is fetched until the element
// becomes visible or a `spar:board-open` event reaches it (or the document), e.g. from the tab
// that reveals it. The bundle then mounts Excalidraw with the element's other data attributes.
(function () {
  "use strict";

  function load(element) {
    if (element.dataset.boardState) return;
    element.dataset.boardState = "loading";
    import(element.dataset.bundleUrl)
      .then(function (bundle) {
        bundle.mountBoard(element);
        element.dataset.boardState = "mounted";
      })
      .catch(function () {
        // Offline or a failed deploy: say so, and try again the next time it is opened.
        delete element.dataset.boardState;
        element.textContent = "The board could not be loaded. Open it again to retry.";
      });
  }

  function visible(element) {
    return element.getClientRects().length > 0;
  }

  const observer =
    "IntersectionObserver" in window
      ? new IntersectionObserver(function (entries) {
          entries.forEach(function (entry) {
            if (entry.isIntersecting) load(entry.target);
          });
        })
      : null;

  function watch(root) {
    root.querySelectorAll("[data-board]").forEach(function (element) {
      if (observer) observer.observe(element);
      else if (visible(element)) load(element);
    });
  }

  // Captured on the document, so the event may be dispatched on the board, on something around
  // it, or on the document itself, with or without `bubbles`.
  document.addEventListener(
    "spar:board-open",
    function (event) {
      const target = event.target instanceof Element ? event.target : document;
      const own = target.closest ? target.closest("[data-board]") : null;
      if (own) load(own);
      else target.querySelectorAll("[data-board]").forEach(load);
    },
    true,
  );
  // htmx may bring a board in later (a swapped-in pane).
  document.addEventListener("htmx:load", function (event) {
    watch(event.target);
  });
  watch(document);
})();
