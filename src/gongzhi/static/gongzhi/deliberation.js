// The consultation pages' behaviour. The Content-Security-Policy forbids inline script:
// data comes from <script type="application/json"> blocks (json_script) and elements
// ask for behaviour through data- attributes.

(() => {
  // The funding pie: the same numbers as the table beside it, which stays the way to
  // read them (the chart is drawn only when ECharts loaded).
  const element = document.querySelector("[data-funding-chart]");
  const source = document.getElementById("funding-chart-data");
  if (!element || !source || typeof window.echarts === "undefined") {
    return;
  }
  const chart = JSON.parse(source.textContent);
  const font = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif';
  const pie = window.echarts.init(element, null, { renderer: "canvas" });
  pie.setOption({
    animation: false,
    textStyle: { fontFamily: font },
    color: ["#0b5cad", "#1e7b34", "#9a6700", "#b3261e", "#6b4fa0"],
    tooltip: {
      trigger: "item",
      valueFormatter: (v) => `${Number(v).toLocaleString("zh-CN", { minimumFractionDigits: 2 })} 元`,
    },
    series: [
      {
        name: chart.title,
        type: "pie",
        radius: ["35%", "65%"],
        data: chart.data.map((d) => ({ name: d.name, value: Number(d.value) })),
        label: { formatter: "{b}\n{d}%" },
        // Slices differ by a decal pattern too, not by colour alone.
        itemStyle: { borderColor: "#fff", borderWidth: 2 },
      },
    ],
    aria: { enabled: true, decal: { show: true } },
  });
  window.addEventListener("resize", () => pie.resize());
})();
