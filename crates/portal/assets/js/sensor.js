// A sensor page's charts, from its data island (the same JSON as /api/v1/sensors/{org}/{name}).
(function () {
  "use strict";

  var data = GW.island("sensor-data");
  if (!data || !data.packets) {
    return;
  }
  GW.classSeries("chart-series", data.series);
  GW.topPorts("chart-ports", data.top_ports);
})();
