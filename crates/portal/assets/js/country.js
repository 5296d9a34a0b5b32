// A country page's charts, from its data island (the same JSON as /api/v1/countries/{cc}).
(function () {
  "use strict";

  var data = GW.island("country-data");
  if (!data) {
    return;
  }

  if (data.from && data.series.length) {
    GW.classSeries("chart-series", data.series);
    GW.topPorts("chart-ports", data.top_ports);
  }

  // Hosts per risk, one bar per country (the world row is in the table: it dwarfs the bars).
  if (data.risks.length) {
    var countries = data.risks[0].rows.filter(function (c) { return c.country !== "WORLD"; });
    GW.chart("chart-risks", {
      color: ["#2e7d4f", "#3b6ea5", "#c0392b", "#8e6bbf"],
      legend: { top: 0 },
      grid: { left: 56, right: 24, top: 36, bottom: 64 },
      xAxis: {
        type: "category",
        data: data.risks.map(function (r) { return r.risk; }),
        axisLabel: { interval: 0, rotate: data.risks.length > 4 ? 30 : 0 }
      },
      yAxis: { type: "value", name: "hosts", axisLabel: { formatter: GW.short } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      series: countries.map(function (c, i) {
        return {
          name: c.country + " " + c.name,
          type: "bar",
          data: data.risks.map(function (r) { return r.rows[i].hosts; })
        };
      })
    });
  }
})();
