// Artstudio's small enhancements; every page works without them.
(function () {
  "use strict";

  // The language select submits itself.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Forms that destroy something ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // Range inputs show their value.
  document.querySelectorAll("input[type=range][data-output]").forEach(function (input) {
    var output = document.getElementById(input.dataset.output);
    var show = function () { if (output) output.textContent = input.value; };
    input.addEventListener("input", show);
    show();
  });

  // File inputs: drag and drop onto their zone, and a preview of the chosen picture.
  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    var zone = input.closest(".dropzone");
    var preview = document.getElementById(input.dataset.preview);
    var show = function () {
      var file = input.files && input.files[0];
      if (!preview) return;
      if (file && file.type.indexOf("image/") === 0) {
        if (preview.src) URL.revokeObjectURL(preview.src);
        preview.src = URL.createObjectURL(file);
        preview.hidden = false;
      } else {
        preview.hidden = true;
      }
    };
    input.addEventListener("change", show);
    if (!zone) return;
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("is-dragging"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("is-dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
  });

  // The studio shows either the preset grid or the painting upload.
  var studio = document.getElementById("studio-form");
  if (studio) {
    var sync = function () {
      var checked = studio.querySelector("input[name=style_source]:checked");
      studio.dataset.source = checked ? checked.value : "preset";
    };
    studio.querySelectorAll("input[name=style_source]").forEach(function (radio) {
      radio.addEventListener("change", sync);
    });
    sync();

    // A style the assistant's panel suggests is picked in the form below, keeping the chosen photo.
    document.addEventListener("click", function (event) {
      var link = event.target.closest("#assistant-panel a.style-suggestion[data-slug]");
      var radio = link && document.getElementById("preset-" + link.dataset.slug);
      if (!radio) return;  // a style the grid does not show: the link opens the studio on it
      event.preventDefault();
      radio.checked = true;
      var preset = document.getElementById("style-source-preset");
      if (preset) preset.checked = true;
      sync();
      radio.closest(".preset").scrollIntoView({ behavior: "smooth", block: "center" });
      radio.focus({ preventScroll: true });
    });
  }
})();
