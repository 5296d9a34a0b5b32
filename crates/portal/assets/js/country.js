// A country page's charts, from its data island (the same JSON as /api/v1/countries/{cc}).
(function () {
  "use strict";

  var data = GW.island("country-data");
  if (!data) {
    return;
  }

  if (data.from && data.series.length) {
    GW.chart("chart-series", {
      color: data.series.map(function (s) { return GW.colors[s.class]; }),
      legend: { top: 0 },
      grid: { left: 56, right: 24, top: 36, bottom: 64 },
      xAxis: {
        type: "time",
        axisLabel: { hideOverlap: true, formatter: { day: "{d} {MMM}", hour: "{HH}:{mm}", minute: "{HH}:{mm}" } }
      },
      yAxis: { type: "value", name: "packets / hour", axisLabel: { formatter: GW.short } },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 10 }],
      tooltip: { trigger: "axis" },
      series: data.series.map(function (s) {
        return {
          name: s.class,
          type: "line",
          showSymbol: false,
          lineStyle: { width: 1.5 },
          data: s.points.map(function (p) { return [p.bucket, p.packets]; })
        };
      })
    });

    GW.chart("chart-ports", {
      grid: { left: 80, right: 24, top: 8, bottom: 28 },
      xAxis: { type: "value", axisLabel: { formatter: GW.short } },
      yAxis: {
        type: "category",
        inverse: true,
        data: data.top_ports.map(function (p) { return p.port + "/" + p.protocol; })
      },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      series: [{
        name: "scan packets",
        type: "bar",
        itemStyle: { color: GW.colors.scan },
        data: data.top_ports.map(function (r) { return r.packets; })
      }]
    });
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
