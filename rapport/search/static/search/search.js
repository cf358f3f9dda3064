/* The top bar's search box: "/" focuses it, suggestions (swapped in by htmx) are a listbox that the
   arrow keys move through, Enter opens the chosen one (or the results page), Escape closes them. */
(function () {
  "use strict";

  function box() { return document.getElementById("global-search"); }
  function list() { return document.getElementById("global-search-suggestions"); }
  function options() { return Array.prototype.slice.call(list().querySelectorAll('[role="option"]')); }

  function typingInField(target) {
    if (!target || target === document.body) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function setActive(option) {
    var input = box();
    options().forEach(function (each) { each.setAttribute("aria-selected", each === option ? "true" : "false"); });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function active() { return list().querySelector('[role="option"][aria-selected="true"]'); }

  function open(show) {
    var input = box();
    var panel = list();
    var hasContent = panel.textContent.trim() !== "";
    var visible = show && hasContent;
    panel.hidden = !visible;
    input.setAttribute("aria-expanded", visible ? "true" : "false");
    if (!visible) setActive(null);
  }

  function announce() {
    var status = document.getElementById("global-search-status");
    if (!status) return;
    var message = list().querySelector("[data-search-status]");
    var note = list().querySelector(".search-suggest-note");
    status.textContent = message ? message.textContent : (note ? note.textContent : "");
  }

  document.addEventListener("keydown", function (event) {
    var input = box();
    if (!input) return;
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typingInField(event.target)) {
      event.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (event.target !== input) return;
    var all = options();
    var current = active();
    var index = current ? all.indexOf(current) : -1;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) return;
      event.preventDefault();
      open(true);
      var next = event.key === "ArrowDown" ? index + 1 : index - 1;
      if (next >= all.length) next = 0;
      if (next < 0) next = all.length - 1;
      setActive(all[next]);
    } else if (event.key === "Enter" && current && !list().hidden) {
      event.preventDefault();
      window.location.assign(current.href);
    } else if (event.key === "Escape") {
      if (!list().hidden) {
        event.preventDefault();
        open(false);
      }
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "global-search-suggestions") {
      open(document.activeElement === box());
      announce();
    }
  });

  document.addEventListener("focusin", function (event) {
    var form = box() && box().form;
    if (!form) return;
    if (event.target === box()) {
      open(true);
    } else if (!form.contains(event.target)) {
      open(false);
    }
  });

  document.addEventListener("click", function (event) {
    var form = box() && box().form;
    if (form && !form.contains(event.target)) open(false);
  });

  document.addEventListener("input", function (event) {
    if (event.target === box() && event.target.value.trim() === "") {
      list().innerHTML = "";
      open(false);
    }
  });
})();
