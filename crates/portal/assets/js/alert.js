// An alert's charts, from its data island (the `evidence.series` of /api/v1/alerts/{id}):
// per affected series, the observed values over the expected band (lower to upper bound of
// the prediction interval) and the expected line.
(function () {
  "use strict";

  var series = GW.island("alert-data");
  if (!series) {
    return;
  }
  series.forEach(function (s, i) {
    var points = s.chart;
    var at = function (p) { return p.bucket; };
    var band = function (p) { return p.lower == null || p.upper == null ? null : p.upper - p.lower; };
    GW.chart("chart-series-" + i, {
      color: ["#b42318", "#2e7d4f", "#a9d4b7"],
      // The legend has the top 40 px to itself; the grid's labels stay inside the grid.
      legend: { data: ["observed", "expected"], top: 0, left: "center" },
      grid: { left: 16, right: 24, top: 48, bottom: 16, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "time" },
      yAxis: { type: "value", axisLabel: { formatter: GW.short } },
      series: [
        { name: "observed", type: "line", showSymbol: false, z: 3,
          data: points.map(function (p) { return [at(p), p.observed]; }) },
        { name: "expected", type: "line", showSymbol: false, lineStyle: { type: "dashed" },
          data: points.map(function (p) { return [at(p), p.expected]; }) },
        // The band: an invisible base at the lower bound with the interval's width stacked on it.
        { name: "lower", type: "line", stack: "band", symbol: "none", lineStyle: { opacity: 0 },
          tooltip: { show: false },
          data: points.map(function (p) { return [at(p), p.lower]; }) },
        { name: "interval", type: "line", stack: "band", symbol: "none", lineStyle: { opacity: 0 },
          areaStyle: { color: "#a9d4b7", opacity: 0.5 }, tooltip: { show: false },
          data: points.map(function (p) { return [at(p), band(p)]; }) }
      ]
    });
  });
})();
