// Artstudio's small enhancements; every page works without them.
(function () {
  "use strict";

  // The language select submits itself.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Forms (and buttons) that destroy something ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });

  // Whatever needs this script to work shows only when it runs.
  document.querySelectorAll("[data-js-only]").forEach(function (element) { element.hidden = false; });

  var typing = function (event) {
    var target = event.target;
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && target.type !== "checkbox";
  };

  // The gallery's selection: click a box, shift-click a range, select the page; arrows, Space, Ctrl+A, Esc.
  // Listeners sit on the document, so the cards the search by meaning swaps in later are selectable too.
  var selectionForm = document.getElementById("selection-form");
  if (selectionForm) {
    var allBoxes = function () { return Array.prototype.slice.call(document.querySelectorAll("input.select-box")); };
    var count = document.getElementById("selection-count");
    var last = null;
    var update = function () {
      var boxes = allBoxes();
      var n = boxes.filter(function (box) { return box.checked; }).length;
      boxes.forEach(function (box) { box.closest(".gallery-item").classList.toggle("is-selected", box.checked); });
      selectionForm.classList.toggle("has-selection", n > 0);
      selectionForm.querySelectorAll("button[name=action]").forEach(function (button) { button.disabled = n === 0; });
      if (count) count.textContent = n ? (selectionForm.dataset.selected || "# selected").replace("#", n) : (selectionForm.dataset.none || "");
    };
    var setAll = function (checked) { allBoxes().forEach(function (box) { box.checked = checked; }); update(); };
    document.addEventListener("click", function (event) {
      var box = event.target;
      if (!box.matches || !box.matches("input.select-box")) return;
      var boxes = allBoxes();
      var index = boxes.indexOf(box), from = boxes.indexOf(last);
      if (event.shiftKey && from >= 0) {
        for (var i = Math.min(from, index); i <= Math.max(from, index); i++) boxes[i].checked = box.checked;
      }
      last = box;
      update();
    });
    document.addEventListener("keydown", function (event) {
      var box = event.target;
      if (!box.matches || !box.matches("input.select-box")) return;
      var grid = box.closest("ul.gallery");
      var boxes = Array.prototype.slice.call(grid.querySelectorAll("input.select-box"));
      var columns = Math.max(1, Math.round(grid.clientWidth / box.closest(".gallery-item").offsetWidth));
      var step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns }[event.key];
      if (step === undefined) return;
      var next = boxes[boxes.indexOf(box) + step];
      if (next) { event.preventDefault(); next.focus(); }
    });
    var all = document.getElementById("select-all");
    var none = document.getElementById("select-none");
    if (all) all.addEventListener("click", function () { setAll(true); });
    if (none) none.addEventListener("click", function () { setAll(false); });
    document.addEventListener("keydown", function (event) {
      if (typing(event)) return;
      if ((event.ctrlKey || event.metaKey) && event.key === "a") { event.preventDefault(); setAll(true); }
      if (event.key === "Escape") setAll(false);
    });
    selectionForm.addEventListener("submit", function (event) {
      if (!allBoxes().some(function (box) { return box.checked; })) {
        event.preventDefault();
        window.alert(selectionForm.dataset.empty || "Select one or more pictures first.");
      }
    });
    document.body.addEventListener("htmx:afterSwap", update);
    update();
  }

  // The artwork page: arrows go to the previous and next picture of the view, f stars, Delete deletes.
  var artworkImage = document.getElementById("artwork-image");
  if (artworkImage && document.getElementById("star-form")) {
    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      var link = { ArrowLeft: "artwork-previous", ArrowRight: "artwork-next" }[event.key];
      if (link && document.getElementById(link)) { window.location = document.getElementById(link).href; return; }
      if (event.key === "f") { document.getElementById("star-form").requestSubmit(); return; }
      if (event.key === "Delete") document.getElementById("artwork-delete-form").requestSubmit();
    });
  }

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
