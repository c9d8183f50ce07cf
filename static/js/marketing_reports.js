// The campaign report's charts (marketing/templates/marketing/campaign_report.html): Chart.js fed by the JSON in
// the data-chart attribute of #campaign-report-data. Not an inline script (the CSP forbids them) nor json_script
// (HTMX removes <script> elements from swapped fragments). Redrawn when a recompute's HTMX swap brings new
// figures. Each chart has a table with the same figures below it.
(function () {
  "use strict";

  var charts = [];
  var drawnFrom = null;

  function make(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    var old = window.Chart.getChart(canvas);
    if (old) old.destroy();
    config.options = Object.assign(
      { locale: document.documentElement.lang || undefined, responsive: true, plugins: { legend: { position: "bottom" } } },
      config.options || {}
    );
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      config.options.animation = false;
    }
    charts.push(new window.Chart(canvas, config));
  }

  function draw() {
    var source = document.getElementById("campaign-report-data");
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
    make("chart-funnel", {
      type: "bar",
      data: { labels: data.funnel.labels, datasets: [{ label: text.funnel, data: data.funnel.values }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    make("chart-segments", {
      type: "bar",
      data: {
        labels: data.segments.labels,
        datasets: [
          { label: text.revenue, data: data.segments.revenue },
          { label: text.cost, data: data.segments.cost },
        ],
      },
      options: { scales: { y: { beginAtZero: true } } },
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:load", draw);
})();
