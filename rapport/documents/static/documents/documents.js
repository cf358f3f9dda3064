// Files panel: drop files anywhere on the panel to upload them. Plain script, no build step.
// The panel's file input and Upload button do the same without JavaScript; a drop puts the dropped
// files into that input and submits its form (through htmx when it is there).
(function () {
  "use strict";
  if (window.rapportDocumentsDrop) return;  // the panel is loaded again after each upload
  window.rapportDocumentsDrop = true;

  function panel(target) {
    return target instanceof Element ? target.closest(".files-panel[data-dropzone]") : null;
  }

  function carriesFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  document.addEventListener("dragover", function (event) {
    var zone = panel(event.target);
    if (!zone || !carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("drop-active");
  });

  document.addEventListener("dragleave", function (event) {
    var zone = panel(event.target);
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("drop-active");
  });

  document.addEventListener("drop", function (event) {
    var zone = panel(event.target);
    if (!zone || !carriesFiles(event)) return;
    event.preventDefault();
    zone.classList.remove("drop-active");
    var form = zone.querySelector("form.files-upload");
    var input = form && form.querySelector("input[type=file]");
    if (!input || !event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    zone.classList.add("uploading");
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  });
})();
