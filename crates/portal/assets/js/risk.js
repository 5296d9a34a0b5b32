// A risk page's world map, from its data island: [{country, name, hosts}].
(function () {
  "use strict";

  var rows = GW.island("risk-data");
  if (!rows) {
    return;
  }
  GW.choropleth(
    "chart-map",
    rows
      .filter(function (r) { return r.country && r.country !== "ZZ"; })
      .map(function (r) { return { country: r.country, value: r.hosts }; }),
    "hosts"
  );
})();
