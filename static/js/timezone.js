// Sends the browser's time zone once, for a member who has none yet (the page renders the
// hidden form only then), and reloads so that the page's times show in that zone. A zone the
// member chose is never replaced: the server keeps the first zone it gets.
(function () {
  "use strict";

  const form = document.querySelector("form[data-zone-guess]");
  if (form === null || window.sessionStorage.getItem("spar-zone-guessed")) return;
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  // Browsers name UTC in several ways; Spar lists it once.
  if (/^(Etc\/)?(UTC|UCT|GMT|Universal|Zulu)$/.test(zone)) zone = "UTC";
  if (!zone) return;
  window.sessionStorage.setItem("spar-zone-guessed", "1");
  form.elements.time_zone.value = zone;
  fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
    .then(function (response) {
      if (response.status === 204) window.location.reload();
    })
    .catch(function () {
      // Offline or refused: times stay in the site's zone, and the profile page can set one.
    });
})();
