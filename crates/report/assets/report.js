// Draws a report's charts from its JSON data island (#report-data) with the vendored ECharts.
// Animation is off so that a print or a PDF taken right after load shows finished charts.
(function () {
  'use strict';
  const report = JSON.parse(document.getElementById('report-data').textContent);
  const print = document.body.classList.contains('print');
  const base = { animation: false, tooltip: { trigger: 'axis' }, grid: { left: 70, right: 20, top: 40, bottom: 40 } };

  function draw(id, option) {
    const el = document.getElementById(id);
    if (!el) return;
    const chart = echarts.init(el, null, { renderer: 'canvas' });
    chart.setOption(Object.assign({}, base, option));
    if (!print) window.addEventListener('resize', () => chart.resize());
  }

  function rankedBars(rows, title) {
    return {
      legend: { top: 0 },
      xAxis: { type: 'category', data: rows.map(r => r.key), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: 'value', name: 'packets' },
      series: [
        { name: title, type: 'bar', data: rows.map(r => r.packets) },
        { name: report.previous_period, type: 'bar', data: rows.map(r => r.previous_packets) },
      ],
    };
  }

  draw('chart-daily', {
    legend: { top: 0 },
    xAxis: { type: 'category', data: report.daily.map(d => d.day) },
    yAxis: { type: 'value', name: 'packets' },
    series: [
      { name: 'all', type: 'line', showSymbol: false, data: report.daily.map(d => d.packets) },
      { name: 'scan', type: 'line', showSymbol: false, data: report.daily.map(d => d.scan_packets) },
      { name: 'backscatter', type: 'line', showSymbol: false, data: report.daily.map(d => d.backscatter_packets) },
    ],
  });
  draw('chart-ports', rankedBars(report.top_ports, report.period));
  draw('chart-countries', rankedBars(report.top_countries, report.period));
  draw('chart-dos', {
    xAxis: { type: 'category', data: report.dos.by_country.map(r => r.key) },
    yAxis: { type: 'value', name: 'attacks' },
    series: [{ name: 'attacks', type: 'bar', data: report.dos.by_country.map(r => r.attacks) }],
  });
  draw('chart-movers', {
    grid: { left: 160, right: 30, top: 20, bottom: 30 },
    xAxis: { type: 'value', name: 'hosts' },
    yAxis: { type: 'category', inverse: true, data: report.movers.map(m => m.risk + ' ' + m.country) },
    series: [{
      name: 'change in hosts', type: 'bar',
      data: report.movers.map(m => ({ value: m.delta, itemStyle: { color: m.delta > 0 ? '#c0392b' : '#27ae60' } })),
    }],
  });
})();
