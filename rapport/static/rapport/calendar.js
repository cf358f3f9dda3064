// Calendar: a click on an empty day or hour opens a new event there; dragging an event moves it.
// Plain script, no build step. Every action also has a link or form for keyboards and no-JS use.
(function () {
  "use strict";

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || target.closest("a, button, input, select, label, .cal-entry")) return;
    var cell = target.closest("[data-create-url]");
    if (cell) window.location.href = cell.getAttribute("data-create-url");
  });

  // Day and week views open at the start of the working day rather than at midnight.
  function scrollToMorning() {
    document.querySelectorAll(".cal-scroll").forEach(function (box) {
      var slot = box.querySelector(".cal-hour-label:nth-child(8)");
      if (slot && box.scrollTop === 0) box.scrollTop = slot.offsetTop;
    });
  }
  document.addEventListener("DOMContentLoaded", scrollToMorning);
  document.addEventListener("htmx:afterSettle", scrollToMorning);

  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var entry = event.target instanceof Element && event.target.closest(".cal-entry[data-move-url]");
    if (!entry) return;
    dragged = entry;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", entry.getAttribute("href") || "");
  });

  function dropTarget(element) {
    return element instanceof Element ? element.closest(".cal-slot[data-date], [data-date]") : null;
  }

  document.addEventListener("dragover", function (event) {
    if (dragged && dropTarget(event.target)) event.preventDefault();
  });

  document.addEventListener("drop", function (event) {
    var target = dropTarget(event.target);
    if (!dragged || !target) return;
    event.preventDefault();
    var body = new URLSearchParams();
    body.set("date", target.getAttribute("data-date"));
    if (target.getAttribute("data-time")) body.set("time", target.getAttribute("data-time"));
    body.set("version", dragged.getAttribute("data-version") || "");
    if (dragged.getAttribute("data-occurrence")) body.set("occurrence", dragged.getAttribute("data-occurrence"));
    var url = dragged.getAttribute("data-move-url");
    dragged = null;
    fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "X-Requested-With": "fetch"}
    }).then(function (response) {
      if (response.ok) { window.location.reload(); return; }
      return response.text().then(function (text) { window.alert(text || response.statusText); });
    });
  });
})();
