// Logging out leaves none of Spar's drafts on this computer for the next person who uses it:
// the notes kept in localStorage until the server confirmed them, and this tab's id.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    if (!event.target.matches("form[data-logout]")) return;
    for (let i = localStorage.length - 1; i >= 0; i -= 1) {
      const key = localStorage.key(i);
      if (key && key.startsWith("spar:")) localStorage.removeItem(key);
    }
    sessionStorage.removeItem("spar:tab");
  });
})();
