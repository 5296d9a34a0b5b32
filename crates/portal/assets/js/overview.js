// The overview's charts, from the page's data island (the same JSON as /api/v1/overview).
(function () {
  "use strict";

  var data = GW.island("overview-data");
  if (!data || !data.from) {
    return;
  }

  GW.classSeries("chart-series", data.series);
  GW.topPorts("chart-ports", data.top_ports);

  // The source countries of all traffic, or of one class (scanners and DoS victims are
  // different populations), as the select chooses.
  function countriesOf(cls) {
    if (!cls) {
      return data.countries;
    }
    var found = (data.countries_by_class || []).filter(function (c) { return c.class === cls; })[0];
    return found ? found.countries : [];
  }
  function drawCountries(cls) {
    var rows = countriesOf(cls);
    var top = rows.slice(0, 20);
    GW.chart("chart-countries", {
      grid: { left: 150, right: 24, top: 8, bottom: 28 },
      xAxis: { type: "value", axisLabel: { formatter: GW.short } },
      yAxis: {
        type: "category",
        inverse: true,
        data: top.map(function (r) {
          var name = r.name.length > 18 ? r.name.slice(0, 17) + "…" : r.name;
          return (r.country || "--") + "  " + name;
        })
      },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      series: [{
        name: "packets",
        type: "bar",
        itemStyle: { color: "#3b6ea5" },
        data: top.map(function (r) { return r.packets; })
      }]
    });
    GW.choropleth(
      "chart-map",
      rows
        .filter(function (r) { return r.country; })
        .map(function (r) { return { country: r.country, value: r.packets }; }),
      cls ? cls + " packets" : "packets",
      function (code) {
        window.location.href = "/countries/" + encodeURIComponent(code) + window.location.search;
      }
    );
  }
  var classSelect = document.getElementById("country-class");
  if (classSelect) {
    classSelect.addEventListener("change", function () { drawCountries(classSelect.value); });
  }
  drawCountries(classSelect ? classSelect.value : "");

  var hours = [];
  for (var h = 0; h < 24; h++) {
    hours.push((h < 10 ? "0" : "") + h);
  }
  var cells = [];
  var max = 0;
  data.heatmap.packets.forEach(function (row, i) {
    row.forEach(function (n, hour) {
      cells.push([hour, i, n]);
      max = Math.max(max, n);
    });
  });
  GW.chart("chart-heatmap", {
    grid: { left: 80, right: 96, top: 8, bottom: 44 },
    xAxis: {
      type: "category",
      data: hours,
      name: "hour of day (UTC)",
      nameLocation: "middle",
      nameGap: 26,
      splitArea: { show: true }
    },
    yAxis: { type: "category", inverse: true, data: data.heatmap.ports.map(GW.portLabel), splitArea: { show: true } },
    visualMap: {
      min: 0,
      max: Math.max(max, 1),
      calculable: true,
      orient: "vertical",
      right: 0,
      top: "middle",
      itemHeight: 180,
      formatter: function (v) { return GW.short(Math.round(v)); },
      inRange: { color: ["#f4f8f5", "#5fae7c", "#14502d"] }
    },
    tooltip: {
      formatter: function (p) {
        return data.heatmap.ports[p.value[1]].port + "/" + data.heatmap.ports[p.value[1]].protocol +
          " at " + hours[p.value[0]] + ":00 UTC\n" + GW.fmt(p.value[2]) + " scan packets";
      }
    },
    series: [{ type: "heatmap", data: cells, emphasis: { itemStyle: { borderColor: "#222", borderWidth: 1 } } }]
  });
})();
