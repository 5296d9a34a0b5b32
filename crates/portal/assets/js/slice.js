// A port or AS page's charts, from its data island (the same JSON as /api/v1/ports/... or
// /api/v1/asns/...).
(function () {
  "use strict";

  var data = GW.island("slice-data");
  if (!data || !data.from || !data.totals.packets) {
    return;
  }
  GW.classSeries("chart-series", data.series);
  if (data.top_ports && data.top_ports.length) {
    GW.topPorts("chart-ports", data.top_ports);
  }
  var countries = data.countries.slice(0, 15).reverse();
  GW.chart("chart-countries", {
    color: ["#2e7d4f"],
    grid: { left: 120, right: 24, top: 8, bottom: 24 },
    xAxis: { type: "value", axisLabel: { formatter: GW.short } },
    yAxis: {
      type: "category",
      data: countries.map(function (c) { return (c.country || "??") + " " + c.name; })
    },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    series: [{ name: "packets", type: "bar", data: countries.map(function (c) { return c.packets; }) }]
  });
})();
