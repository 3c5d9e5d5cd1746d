// Sends the browser's time zone once, for a member who has none yet (the page renders the
// hidden form only then), and reloads so that the page's times show in that zone — unless the
// member has started using the page, whose input a reload would throw away: then a notice offers
// the reload instead. A zone the member chose is never replaced: the server keeps the first
// zone it gets.
(function () {
  "use strict";

  let touched = false;
  ["input", "change", "focusin", "pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, function () { touched = true; }, true);
  });

  function offerReload(zone) {
    const notice = document.createElement("p");
    notice.className = "notice";
    notice.setAttribute("role", "status");
    notice.textContent = `Your time zone is now ${zone}. `;
    const link = document.createElement("a");
    link.href = window.location.href;
    link.textContent = "Reload to see this page's times in it.";
    notice.append(link);
    const main = document.getElementById("main");
    if (main) main.prepend(notice);
  }

  const form = document.querySelector("form[data-zone-guess]");
  if (form === null || window.sessionStorage.getItem("spar-zone-guessed")) return;
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  // Browsers name UTC in several ways; Spar lists it once. A browser that does not know its
  // zone says "Etc/Unknown": nothing to send then.
  if (/^(Etc\/)?(UTC|UCT|GMT|Universal|Zulu)$/.test(zone)) zone = "UTC";
  if (!zone || zone === "Etc/Unknown") return;
  window.sessionStorage.setItem("spar-zone-guessed", "1");
  form.elements.time_zone.value = zone;
  fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
    .then(function (response) {
      if (response.status !== 204) return;
      if (touched) offerReload(zone);
      else window.location.reload();
    })
    .catch(function () {
      // Offline or refused: times stay in the site's zone, and the profile page can set one.
    });
})();
