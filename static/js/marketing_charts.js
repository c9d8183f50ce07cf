// The charts of the lead conversion and needs analysis pages (marketing/templates/marketing/conversion.html,
// needs.html): Chart.js fed by the JSON in the data-chart attribute of #marketing-chart-data, one entry per
// canvas id: {type, labels, datasets, percent, stacked, horizontal}. Not an inline script (the CSP forbids them)
// nor json_script (HTMX removes <script> elements from swapped fragments). Redrawn when the filter's HTMX swap
// brings new figures. Each chart has a table with the same figures below it.
(function () {
  "use strict";

  var charts = [];
  var drawnFrom = null; // the data element the current charts come from

  function options(spec) {
    var value = { beginAtZero: true };
    if (spec.percent) {
      value.min = 0;
      value.max = 100;
    }
    var category = {};
    if (spec.stacked) {
      value.stacked = true;
      category.stacked = true;
    }
    var result = {
      locale: document.documentElement.lang || undefined,
      responsive: true,
      indexAxis: spec.horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
      scales: spec.horizontal ? { x: value, y: category } : { x: category, y: value },
    };
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      result.animation = false;
    }
    return result;
  }

  function draw() {
    var source = document.getElementById("marketing-chart-data");
    if (!source || source === drawnFrom || typeof window.Chart === "undefined") return;
    var data;
    try {
      data = JSON.parse(source.dataset.chart || "{}");
    } catch (error) {
      return;
    }
    drawnFrom = source;
    charts.forEach(function (chart) {
      chart.destroy();
    });
    charts = [];
    Object.keys(data).forEach(function (id) {
      var canvas = document.getElementById(id);
      if (!canvas) return;
      var spec = data[id];
      var old = window.Chart.getChart(canvas);
      if (old) old.destroy();
      var datasets = spec.datasets.map(function (dataset) {
        return Object.assign({ spanGaps: true, tension: 0.2 }, dataset);
      });
      charts.push(
        new window.Chart(canvas, {
          type: spec.type,
          data: { labels: spec.labels, datasets: datasets },
          options: options(spec),
        })
      );
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  // The filter swaps the results (and the form, out of band): htmx:load fires on the new content once it is in
  // the document.
  document.addEventListener("htmx:load", draw);
})();
