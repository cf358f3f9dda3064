// The Export menu of a list page: its links carry the list's current filters and ordering. The server
// writes them for the page as loaded (with the list's defaults, say the email list's view=pending); the
// filters then change the list and the address through htmx without reloading the header, so each link is
// rewritten from the new address whenever htmx pushes one.
(function () {
  "use strict";
  var NOT_FILTERS = ["limit", "cursor", "part", "format", "lookup"];

  function query(format) {
    var params = new URLSearchParams(window.location.search);
    NOT_FILTERS.forEach(function (name) { params.delete(name); });
    var kept = new URLSearchParams();
    params.forEach(function (value, name) { if (value.trim() !== "") { kept.append(name, value); } });
    kept.set("format", format);
    return kept.toString();
  }

  function refresh(menu) {
    var base = menu.getAttribute("data-export-base");
    menu.querySelectorAll("a[data-export-format]").forEach(function (link) {
      link.setAttribute("href", base + "?" + query(link.getAttribute("data-export-format")));
    });
  }

  function refreshAll() { document.querySelectorAll(".export-menu").forEach(refresh); }

  document.addEventListener("htmx:pushedIntoHistory", refreshAll);
  document.addEventListener("htmx:replacedInHistory", refreshAll);
  // Escape closes the menu, and a click elsewhere too.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll(".export-menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
  // A click elsewhere closes the menu, and so does choosing a download (the page stays as it is).
  document.addEventListener("click", function (event) {
    document.querySelectorAll(".export-menu[open]").forEach(function (menu) {
      var chosen = event.target.closest && event.target.closest("a[data-export-format]");
      if (!menu.contains(event.target) || chosen) { menu.removeAttribute("open"); }
    });
  });
})();
