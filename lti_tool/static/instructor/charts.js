// Draws the item-analysis charts with the vendored Chart.js; every chart repeats a table on the
// page, so without JavaScript nothing is lost.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var histogram = document.getElementById("histogram-chart");
  if (histogram) {
    new Chart(histogram, {
      type: "bar",
      data: { labels: data.histogram.labels,
              datasets: [{ label: "Attempts", data: data.histogram.values, backgroundColor: "#2f6fdb" }] },
      options: { animation: false, plugins: { legend: { display: false } },
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  var steps = document.getElementById("steps-chart");
  if (steps) {
    new Chart(steps, {
      type: "bar",
      data: { labels: data.steps.labels,
              datasets: [{ label: "Facility index (%)", data: data.steps.facility, backgroundColor: "#2f6fdb" },
                         { label: "Discrimination index (%)", data: data.steps.discrimination, backgroundColor: "#e07b00" }] },
      options: { animation: false, scales: { y: { min: -100, max: 100 } } }
    });
  }
}());
