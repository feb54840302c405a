// Draws the KPI dashboard's daily trend charts from the JSON the page carries
// in <script type="application/json" id="kpi-chart-data"> (json_script: no
// inline script under the strict CSP). Each chart has its numbers in a table
// beside it, so nothing is lost without JavaScript or for screen readers.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("kpi-chart-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var primary = "#0a58ca";
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    window.Chart.defaults.animation = reduced ? false : window.Chart.defaults.animation;
    window.Chart.defaults.maintainAspectRatio = false;

    document.querySelectorAll("canvas[data-kpi-chart]").forEach(function (canvas) {
      var chart = data[canvas.dataset.kpiChart];
      if (!chart) {
        return;
      }
      new window.Chart(canvas, {
        type: "line",
        data: {
          labels: chart.labels,
          datasets: [
            {
              label: chart.label + " (" + chart.unit + ")",
              data: chart.values,
              borderColor: primary,
              backgroundColor: primary,
              pointRadius: 2,
              // A day with nothing to measure is a gap, not a zero.
              spanGaps: false,
            },
          ],
        },
        options: {
          plugins: { legend: { display: false } },
          scales: { x: { ticks: { maxTicksLimit: 8 } } },
        },
      });
      canvas.dataset.drawn = "true";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
