// The service report's charts (service/templates/service/reports.html): Chart.js fed by the JSON in the
// data-chart attribute of #service-report-data. Not an inline script (the CSP forbids them) nor json_script
// (HTMX removes <script> elements from swapped fragments). Redrawn when the filter's HTMX swap brings new
// figures. Each chart has a table with the same figures below it.
(function () {
  "use strict";

  var charts = [];
  var drawnFrom = null; // the data element the current charts come from

  function locale() {
    return document.documentElement.lang || undefined;
  }

  function make(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    var old = window.Chart.getChart(canvas);
    if (old) old.destroy();
    config.options = Object.assign(
      {
        locale: locale(),
        responsive: true,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
      },
      config.options || {}
    );
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      config.options.animation = false;
    }
    charts.push(new window.Chart(canvas, config));
  }

  function draw() {
    var source = document.getElementById("service-report-data");
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
    var text = data.text || {};
    make("chart-volume", {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: text.created, data: data.created },
          { label: text.resolved, data: data.resolved },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    make("chart-sla", {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{ label: text.sla_kept_percent, data: data.sla_kept_percent, spanGaps: true, tension: 0.2 }],
      },
      options: { scales: { y: { min: 0, max: 100 } } },
    });
    make("chart-times", {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: text.first_response_hours, data: data.first_response_hours, spanGaps: true, tension: 0.2 },
          { label: text.resolution_hours, data: data.resolution_hours, spanGaps: true, tension: 0.2 },
        ],
      },
      options: { scales: { y: { beginAtZero: true } } },
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  // The filter swaps #report-results (and the form, out of band): htmx:load fires on the new content once it
  // is in the document (the swapped-out target, where htmx:afterSettle fires, is detached by then).
  document.addEventListener("htmx:load", draw);

  // Enter in the product picker's search box searches; it must not submit the filter.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("input[data-no-submit]")) {
      event.preventDefault();
    }
  });
})();
