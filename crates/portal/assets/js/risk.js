// A risk page's world map and trend chart, from its data island:
// {map: [{country, name, hosts, share, density}], trend: {periods: [..], series: [{country, name, hosts: [..]}]}}.
// The map shows hosts, share of the world or density as chosen; a country clicked opens its page.
(function () {
  "use strict";

  var data = GW.island("risk-data");
  if (!data) {
    return;
  }
  var metrics = {
    hosts: { unit: "hosts", value: function (r) { return r.hosts; }, continuous: false },
    share: { unit: "% of the world's hosts", value: function (r) { return r.share * 100; }, continuous: true },
    density: { unit: "hosts per million IPv4 addresses", value: function (r) { return r.density; }, continuous: true }
  };
  function draw(metric) {
    var m = metrics[metric] || metrics.hosts;
    GW.choropleth(
      "chart-map",
      data.map
        .filter(function (r) { return r.country && r.country !== "ZZ" && m.value(r) != null; })
        .map(function (r) { return { country: r.country, value: m.value(r) }; }),
      m.unit,
      function (code) { window.location.href = "/countries/" + code; },
      m.continuous
    );
  }
  var select = document.getElementById("map-metric");
  if (select) {
    select.addEventListener("change", function () { draw(select.value); });
  }
  draw(select ? select.value : "hosts");

  var trend = data.trend;
  if (trend && trend.series.length && document.getElementById("chart-trend")) {
    GW.chart("chart-trend", {
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 50, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: trend.periods },
      yAxis: { type: "value", name: "hosts", minInterval: 1 },
      series: trend.series.map(function (s) {
        return { name: s.name, type: "line", showSymbol: true, data: s.hosts };
      })
    });
  }
})();
