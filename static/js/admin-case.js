// The case admin: keys and the slug follow their title until typed by hand, and a page with
// errors moves the focus to the list of them. Delegated events also cover inline rows that the
// admin adds after the page has loaded.
(function () {
  "use strict";

  function slugify(text, limit) {
    var words = text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").match(/[a-z0-9]+/g);
    return (words || []).join("-").slice(0, limit).replace(/-+$/, "");
  }

  // The field a title fills in: the case's slug, or the key in the same case-item row.
  function targetOf(title) {
    if (title.id === "id_title") {
      return document.getElementById("id_slug");
    }
    var match = /^(id_extra_items-(?:\d+|__prefix__))-title$/.exec(title.id);
    return match ? document.getElementById(match[1] + "-key") : null;
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field.tagName !== "INPUT") {
      return;
    }
    var target = targetOf(field);
    if (target) {
      // Only while the field is empty or still shows what we filled in: never over a typed key.
      if (target.value === "" || target.dataset.filled === target.value) {
        target.value = slugify(field.value, Number(target.getAttribute("maxlength")) || 80);
        target.dataset.filled = target.value;
      }
    } else if (field.id === "id_slug" || /-key$/.test(field.id)) {
      delete field.dataset.filled;
    }
  });

  // A row added with "Add another" is a copy of the template row, whose inputs are labelled for
  // a "new fact"; number them like the others ("Question, fact 5").
  document.addEventListener("formset:added", function (event) {
    var row = event.target;
    var index = /-(\d+)$/.exec(row.id || "");
    if (!index) {
      return;
    }
    row.querySelectorAll("[aria-label]").forEach(function (input) {
      input.setAttribute(
        "aria-label",
        input.getAttribute("aria-label").replace(/, new (.+)$/, ", $1 " + (Number(index[1]) + 1))
      );
    });
  });

  // On "load", after the admin's own change_form.js (loaded async) has put the focus in the first
  // field of an add page: with errors, the list of them is where to start.
  window.addEventListener("load", function () {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
  });
})();
