// Shared by the portal's pages: reading a page's data island, setting up ECharts charts (CSP
// friendly: tooltips are drawn on the canvas, no inline styles), and the world map, built from
// world-atlas (countries keyed by ISO 3166-1 numeric codes) with the features renamed to the
// alpha-2 codes Greenwatch stores.
(function () {
  "use strict";

  var GW = {};
  var charts = [];
  var world = null;

  GW.colors = {
    scan: "#2e7d4f",
    backscatter: "#c0392b",
    spoofed: "#8e6bbf",
    other: "#7f8c8d"
  };
  GW.green = ["#e8f3ec", "#a9d4b7", "#5fae7c", "#2e7d4f", "#14502d", "#072b17"];

  // The JSON of a <script type="application/json"> element.
  GW.island = function (id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  };

  GW.fmt = function (n) {
    return Number(n).toLocaleString("en-US");
  };

  // 1234567 -> "1.2M"
  GW.short = function (n) {
    var units = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(n) >= units[i][0]) {
        var v = n / units[i][0];
        return (v >= 100 ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, "")) + units[i][1];
      }
    }
    return String(n);
  };

  // Initialises a chart in element `id` with `option`; returns it (null without the element).
  GW.chart = function (id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) {
      return null;
    }
    var chart = echarts.init(el);
    option.animation = false;
    option.useUTC = true;
    option.textStyle = { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" };
    option.tooltip = Object.assign({ renderMode: "richText", confine: true }, option.tooltip || {});
    chart.setOption(option);
    charts.push(chart);
    el.setAttribute("data-rendered", "true");
    return chart;
  };

  // Packets per hour, one line per traffic class (`series`: [{class, points: [{bucket, packets}]}]).
  GW.classSeries = function (id, series) {
    return GW.chart(id, {
      color: series.map(function (s) { return GW.colors[s.class]; }),
      legend: { top: 0 },
      grid: { left: 56, right: 24, top: 36, bottom: 64 },
      xAxis: {
        type: "time",
        axisLabel: { hideOverlap: true, formatter: { day: "{d} {MMM}", hour: "{HH}:{mm}", minute: "{HH}:{mm}" } }
      },
      yAxis: { type: "value", name: "packets / hour", axisLabel: { formatter: GW.short } },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 10 }],
      tooltip: { trigger: "axis" },
      series: series.map(function (s) {
        return {
          name: s.class,
          type: "line",
          showSymbol: false,
          lineStyle: { width: 1.5 },
          data: s.points.map(function (p) { return [p.bucket, p.packets]; })
        };
      })
    });
  };

  // "23/tcp".
  GW.portLabel = function (p) {
    return p.port + "/" + p.protocol;
  };

  // Scan packets per destination port, as horizontal bars (`ports`: [{port, protocol, packets}]).
  GW.topPorts = function (id, ports) {
    return GW.chart(id, {
      grid: { left: 80, right: 24, top: 8, bottom: 28 },
      xAxis: { type: "value", axisLabel: { formatter: GW.short } },
      yAxis: {
        type: "category",
        inverse: true,
        data: ports.map(GW.portLabel)
      },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      series: [{
        name: "scan packets",
        type: "bar",
        itemStyle: { color: GW.colors.scan },
        data: ports.map(function (r) { return r.packets; })
      }]
    });
  };

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });

  // world-atlas rings that cross the antimeridian (Russia, Fiji) are drawn across the whole
  // map by a flat projection: their points just west of it move to its east side (clamped at
  // 180 degrees, a sliver of Chukotka and Fiji at this scale).
  function unwrapAntimeridian(geometry) {
    if (!geometry) {
      return;
    }
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    polygons.forEach(function (polygon) {
      polygon.forEach(function (ring) {
        var crosses = ring.some(function (p, i) {
          return i > 0 && Math.abs(p[0] - ring[i - 1][0]) > 180;
        });
        if (crosses) {
          ring.forEach(function (p) {
            if (p[0] < -150) {
              p[0] = Math.min(p[0] + 360, 180);
            }
          });
        }
      });
    });
  }

  // Registers the "world" map once; resolves to the country table (alpha-2 -> {numeric, name}).
  GW.world = function (el) {
    if (!world) {
      world = Promise.all([
        fetch(el.getAttribute("data-world")).then(function (r) { return r.json(); }),
        fetch(el.getAttribute("data-codes")).then(function (r) { return r.json(); })
      ]).then(function (loaded) {
        var topology = loaded[0];
        var codes = loaded[1];
        var alpha2 = {};
        Object.keys(codes).forEach(function (a) { alpha2[codes[a].numeric] = a; });
        var geo = topojson.feature(topology, topology.objects.countries);
        geo.features = geo.features.filter(function (f) { return f.id !== "010"; }); // Antarctica
        geo.features.forEach(function (f) {
          unwrapAntimeridian(f.geometry);
          var code = alpha2[f.id];
          f.properties = {
            name: code || "?" + (f.properties.name || ""),
            label: code ? codes[code].name : f.properties.name
          };
        });
        echarts.registerMap("world", geo);
        return codes;
      });
    }
    return world;
  };

  // Decades covering 1..max, for a choropleth legend of skewed counts.
  function decades(max) {
    var pieces = [];
    for (var low = 1; low <= Math.max(max, 1); low *= 10) {
      pieces.push({ gte: low, lt: low * 10, label: GW.short(low) + " – " + GW.short(low * 10) });
    }
    return pieces;
  }

  // A world choropleth in element `id` of `points` ([{country, value}]), `unit` naming the value;
  // `onClick`, when given, is called with the alpha-2 code of a country clicked. Counts get a
  // legend in decades; `continuous` values (shares, densities) a gradient from 0 to the largest.
  GW.choropleth = function (id, points, unit, onClick, continuous) {
    var el = document.getElementById(id);
    if (!el) {
      return;
    }
    GW.world(el).then(function (codes) {
      var max = points.reduce(function (m, p) { return Math.max(m, p.value); }, 0);
      var pieces = decades(max);
      var last = GW.green.length - 1;
      var colors = pieces.map(function (_, i) {
        return GW.green[pieces.length === 1 ? last : Math.round(i * last / (pieces.length - 1))];
      });
      var legend = continuous
        ? { type: "continuous", min: 0, max: max || 1, left: 10, bottom: 10, calculable: false,
            inRange: { color: [GW.green[0], GW.green[last]] }, textStyle: { fontSize: 11 } }
        : null;
      var chart = GW.chart(id, {
        tooltip: {
          trigger: "item",
          formatter: function (p) {
            var name = codes[p.name] ? codes[p.name].name : p.name.replace(/^\?/, "");
            var value = isNaN(p.value) ? "no data" : GW.fmt(p.value) + " " + unit;
            return name + "\n" + value;
          }
        },
        visualMap: legend || {
          type: "piecewise",
          pieces: pieces,
          left: 10,
          bottom: 10,
          itemWidth: 14,
          itemHeight: 10,
          inRange: { color: colors },
          textStyle: { fontSize: 11 }
        },
        series: [{
          type: "map",
          map: "world",
          roam: true,
          top: 10,
          bottom: 10,
          selectedMode: false,
          data: points.map(function (p) { return { name: p.country, value: p.value }; }),
          itemStyle: { areaColor: "#eef1ee", borderColor: "#aab4ac", borderWidth: 0.5 },
          emphasis: { label: { show: false }, itemStyle: { areaColor: "#f4c542" } }
        }]
      });
      if (chart && onClick) {
        chart.on("click", function (p) {
          if (codes[p.name]) {
            onClick(p.name);
          }
        });
      }
    }).catch(function (e) {
      el.textContent = "The world map could not be loaded: " + e;
    });
  };

  window.GW = GW;
})();
