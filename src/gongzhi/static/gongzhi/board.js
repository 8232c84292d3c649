// The board's charts (Apache ECharts). The numbers come from the page's
// <script type="application/json" id="board-charts"> block, and each chart has a table
// with the same numbers beside it, so nothing here is the only way to read a figure.
// Lines differ by marker shape and dash as well as colour.

(() => {
  const source = document.getElementById("board-charts");
  if (!source || typeof window.echarts === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const font = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif';
  const shapes = ["circle", "rect", "triangle", "diamond"];
  const dashes = ["solid", "dashed", "dotted", "solid"];
  const colours = ["#0b5cad", "#1e7b34", "#9a6700", "#b3261e"];
  const charts = [];

  function draw(name, option) {
    const element = document.querySelector(`[data-chart="${name}"]`);
    if (!element) {
      return;
    }
    const chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({ textStyle: { fontFamily: font }, animation: false, ...option });
    charts.push(chart);
  }

  const trend = data.trend;
  draw("trend", {
    color: colours,
    tooltip: { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "—" : `${v}%`) },
    legend: { top: 0, itemWidth: 28 },
    grid: { left: 40, right: 16, top: 48, bottom: 28 },
    xAxis: { type: "category", data: trend.weeks, boundaryGap: false },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: trend.series.map((s, i) => ({
      name: s.name,
      type: "line",
      data: s.data,
      symbol: shapes[i % shapes.length],
      symbolSize: 8,
      connectNulls: false,
      lineStyle: { type: dashes[i % dashes.length], width: 2 },
    })),
  });

  function bars(name, figures) {
    if (!figures.counts.length) {
      return;
    }
    draw(name, {
      color: ["#0b5cad"],
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 32, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: figures.labels, inverse: true },
      series: [
        { type: "bar", data: figures.counts, barMaxWidth: 28, label: { show: true, position: "right" } },
      ],
    });
  }
  bars("categories", data.categories);
  bars("buildings", data.buildings);

  window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
})();
