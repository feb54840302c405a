// Draws the results page's charts from the JSON that the page carries in
// <script type="application/json" id="chart-data"> (json_script: no inline
// script, strict CSP). Every chart has its numbers in a table beside it, so
// nothing is lost without JavaScript, for screen readers or on paper.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("chart-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var primary = "#0a58ca";
    var colours = { detractor: "#b02a37", passive: "#997404", promoter: "#146c43" };
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    window.Chart.defaults.animation = reduced ? false : window.Chart.defaults.animation;
    window.Chart.defaults.maintainAspectRatio = false;

    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var name = canvas.dataset.chart;
      var chart = data[name];
      if (!chart) {
        return;
      }
      if (name === "trend") {
        new window.Chart(canvas, {
          type: "line",
          data: {
            labels: chart.labels,
            datasets: chart.series.map(function (series, index) {
              return {
                label: series.label,
                data: series.values,
                borderColor: index === 0 ? primary : colours.promoter,
                backgroundColor: index === 0 ? primary : colours.promoter,
                yAxisID: series.axis === "nps" ? "nps" : "score",
                spanGaps: true,
              };
            }),
          },
          options: {
            scales: {
              score: { type: "linear", position: "left", min: 1, max: 5 },
              nps: { type: "linear", position: "right", min: -100, max: 100, grid: { drawOnChartArea: false } },
            },
          },
        });
        return;
      }
      var background = name === "nps" ? [colours.detractor, colours.passive, colours.promoter] : primary;
      new window.Chart(canvas, {
        type: "bar",
        data: { labels: chart.labels, datasets: [{ label: chart.label, data: chart.values, backgroundColor: background }] },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
