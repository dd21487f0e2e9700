// A training run's pages in the admin (templates/admin/generator/trainingrun/). The add form shows the fields
// of what is trained; the change page's live panel asks status.json every 2 s while the run is unfinished and
// updates the figures, the loss chart (uPlot, static/vendor/) and the samples. The pages work without it.
(function () {
  "use strict";

  var POLL_MS = 2000;
  var RETRY_MS = 10000; // the server did not answer: ask again later

  // The add form: the style for a fine-tune, the short name for a new style or a single-style network.
  var kinds = document.querySelectorAll("input[name=kind]");
  if (kinds.length) {
    var showKind = function () {
      var checked = document.querySelector("input[name=kind]:checked");
      var kind = checked ? checked.value : "";
      document.querySelectorAll(".form-row.field-style_index").forEach(function (row) {
        row.hidden = kind !== "multistyle26";
      });
      document.querySelectorAll(".form-row.field-slot").forEach(function (row) {
        row.hidden = kind === "multistyle26";
      });
    };
    kinds.forEach(function (radio) { radio.addEventListener("change", showKind); });
    showKind();
  }

  var panel = document.getElementById("training-live");
  if (!panel) return;
  var first = JSON.parse(document.getElementById("training-data").textContent);
  var words = JSON.parse(document.getElementById("training-words").textContent);
  var part = function (name) { return panel.querySelector('[data-live="' + name + '"]'); };

  // -- the loss chart: log scale (the losses fall by orders of magnitude), sized from its box
  var SERIES = ["style", "content", "tv", "total"];
  var COLOURS = { style: "#d9480f", content: "#1c7ed6", tv: "#2b8a3e" }; // total: the text's own colour
  var box = document.getElementById("training-chart");
  var chart = null;

  var columns = function (losses) {
    var positive = function (value) { return value > 0 ? value : null; }; // a log scale has no 0
    return [losses.step].concat(SERIES.map(function (name) { return (losses[name] || []).map(positive); }));
  };
  var size = function () {
    var width = Math.max(200, box.clientWidth);
    return { width: width, height: width < 600 ? Math.round(width * 0.7) : 320 };
  };
  var draw = function (losses) {
    part("no-losses").hidden = losses.step.length > 0;
    if (!losses.step.length || !window.uPlot) return;
    if (chart) {
      chart.setData(columns(losses));
      return;
    }
    var ink = window.getComputedStyle(box).color;
    var faint = "rgba(128, 128, 128, 0.3)";
    var axis = function (label) {
      return { label: label, stroke: ink, grid: { stroke: faint, width: 1 }, ticks: { stroke: faint, width: 1 } };
    };
    var options = size();
    options.scales = { x: { time: false }, y: { distr: 3 } };
    options.axes = [axis(words.step), axis(words.loss)];
    options.cursor = { drag: { x: false, y: false } };
    options.series = [{ label: words.step }].concat(SERIES.map(function (name) {
      return {
        label: words[name],
        stroke: COLOURS[name] || ink,
        width: name === "total" ? 2 : 1.5,
        points: { show: false },
      };
    }));
    chart = new window.uPlot(options, columns(losses), box);
    if (window.ResizeObserver) {
      new window.ResizeObserver(function () {
        var wanted = size();
        if (wanted.width !== chart.width || wanted.height !== chart.height) chart.setSize(wanted);
      }).observe(box);
    }
  };

  // -- the samples: a row a step, step 0 first, the newest last
  var samples = part("samples");
  var sampleRow = function (sample) {
    var row = document.createElement("tr");
    row.dataset.step = sample.step;
    row.dataset.key = sample.pictures.join(" ");
    var head = document.createElement("th");
    head.scope = "row";
    head.textContent = sample.step;
    row.appendChild(head);
    sample.pictures.forEach(function (url, i) {
      var cell = document.createElement("td");
      var img = document.createElement("img");
      img.src = url;
      img.alt = words.sample.replace("%(step)s", sample.step).replace("%(photo)s", i + 1);
      var full = document.createElement("a");
      full.href = url;
      full.appendChild(img);
      cell.appendChild(full);
      row.appendChild(cell);
    });
    return row;
  };
  var showSamples = function (list) {
    if (!list.length) return;
    samples.querySelectorAll(".training-none-row").forEach(function (row) { row.remove(); });
    list.forEach(function (sample) {
      var fresh = sampleRow(sample);
      var rows = Array.prototype.slice.call(samples.querySelectorAll("tr[data-step]"));
      var same = rows.filter(function (row) { return Number(row.dataset.step) === sample.step; })[0];
      if (same) {
        if (same.dataset.key !== fresh.dataset.key) same.replaceWith(fresh);
        return;
      }
      var later = rows.filter(function (row) { return Number(row.dataset.step) > sample.step; })[0];
      samples.insertBefore(fresh, later || null);
    });
  };

  // -- the figures and the outcome
  var link = function (item) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = item.url;
    a.textContent = item.text;
    li.appendChild(a);
    return li;
  };
  var show = function (data) {
    Object.keys(data.text).forEach(function (name) {
      var element = part(name);
      if (element) element.textContent = data.text[name];
    });
    part("status").className = "training-status-" + data.status;
    var bar = part("bar");
    bar.value = data.step;
    if (data.steps) bar.max = data.steps;
    var error = part("error");
    error.textContent = data.error;
    error.hidden = !data.error;
    var outcome = part("outcome");
    outcome.replaceChildren.apply(outcome, [data.version, data.comparison].filter(Boolean).map(link));
    var cancel = part("cancel");
    if (cancel && data.finished) cancel.hidden = true;
    draw(data.losses);
    showSamples(data.samples);
  };

  var poll = function () {
    if (document.hidden) { // nobody looks: ask again when the page is shown
      document.addEventListener("visibilitychange", poll, { once: true });
      return;
    }
    window.fetch(panel.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (!data.finished) window.setTimeout(poll, POLL_MS);
      })
      .catch(function () { window.setTimeout(poll, RETRY_MS); });
  };

  show(first);
  if (!first.finished) window.setTimeout(poll, POLL_MS);
})();
