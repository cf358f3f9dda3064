// Pipeline board: drag a deal's card to another column to move it to that stage.
// Plain script, no build step. Each card also has a small form (a stage and "Move") that works
// without JavaScript and from the keyboard; a drop posts the same thing through htmx.
(function () {
  "use strict";

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  function column(element) {
    return element instanceof Element ? element.closest(".board-column[data-stage]") : null;
  }

  function clearTargets() {
    document.querySelectorAll(".board-column.drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  }

  var dragged = null;

  document.addEventListener("dragstart", function (event) {
    var card = event.target instanceof Element && event.target.closest(".deal-card[data-move-url]");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-move-url"));
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (event) {
    var target = column(event.target);
    if (!dragged || !target) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!target.classList.contains("drop-target")) {
      clearTargets();
      target.classList.add("drop-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var target = column(event.target);
    if (!dragged || !target) return;
    event.preventDefault();
    clearTargets();
    var card = dragged;
    card.classList.remove("dragging");
    dragged = null;
    var stage = target.getAttribute("data-stage");
    if (stage === card.getAttribute("data-stage")) return;
    var form = card.querySelector("form.deal-move");
    var next = form ? form.querySelector("input[name=next]").value : window.location.pathname + window.location.search;
    target.querySelector(".board-cards").appendChild(card);  // shown in place at once; the answer redraws the board
    card.classList.add("moving");
    var values = {stage: stage, version: card.getAttribute("data-version") || "", next: next};
    if (window.htmx) {
      // A refused move (403, 500, no network) swaps nothing: then the page is drawn again from the server,
      // so the card does not stay where it was dropped.
      var redraw = function () { if (document.body.contains(card)) window.location.reload(); };
      window.htmx.ajax("POST", card.getAttribute("data-move-url"), {
        target: "#board", swap: "outerHTML", values: values, headers: {"X-CSRFToken": csrfToken()}
      }).then(redraw, redraw);
    } else if (form) {  // htmx did not load: the card's own form, as without JavaScript
      form.querySelector("select[name=stage]").value = stage;
      form.submit();
    }
  });
})();
