/* «Panel»: the dashboard — charts drawn with Chart.js (served locally) and a CSV per table. */
import { $, api, clear, el, table } from "./ui.js";

var COLORS = ["#1f5fa8", "#d9822b", "#2e8b57", "#b03a48", "#7a4fb5", "#5b6770"];
var charts = [];

// How each table is drawn: which columns are series, over which label column.
var CHARTS = {
  tickets_by_channel: { type: "bar", stacked: true },
  tickets_by_priority: { type: "bar", stacked: true },
  tickets_by_tier: { type: "bar", stacked: true },
  updates: { type: "bar", series: [1, 2] },
  assistant: { type: "line", series: [3] },
  handoffs: { type: "bar" },
  waits: { type: "bar", series: [2, 3] },
  satisfaction: { type: "bar", series: [1] },
  misunderstood: { type: "bar", horizontal: true },
};
var SUMMARY = [
  ["tickets", "Tiquetes", ""],
  ["updates_on_time_pct", "Actualizaciones a tiempo", " %"],
  ["breaches", "Incumplimientos", ""],
  ["solved_without_person_pct", "Conversaciones sin persona", " %"],
  ["handoffs", "Traspasos a una persona", ""],
  ["satisfaction_avg", "Satisfacción media (1–5)", ""],
];

export function wirePanel() {
  $("panel-days").addEventListener("change", loadPanel);
}

export function loadPanel() {
  var days = $("panel-days").value;
  api("GET", "/admin/stats?days=" + encodeURIComponent(days)).then(
    function (data) {
      render(data, days);
    },
    function (err) {
      clear($("panel-tables"));
      $("panel-tables").appendChild(el("p", "form-error", err.message));
    }
  );
}

function render(data, days) {
  var summary = $("panel-summary");
  clear(summary);
  for (var i = 0; i < SUMMARY.length; i++) {
    var value = data.summary[SUMMARY[i][0]];
    var box = el("div", "summary-item");
    box.setAttribute("data-figure", SUMMARY[i][0]);
    box.appendChild(el("dt", null, SUMMARY[i][1]));
    box.appendChild(el("dd", null, value === null || value === undefined ? "—" : value + SUMMARY[i][2]));
    summary.appendChild(box);
  }
  charts.forEach(function (chart) {
    chart.destroy();
  });
  charts = [];
  var box2 = $("panel-tables");
  clear(box2);
  Object.keys(CHARTS).forEach(function (name) {
    var t = data.tables[name];
    if (!t) return;
    var section = el("section", "card panel-table");
    section.setAttribute("data-table", name);
    section.appendChild(el("h2", null, t.title));
    var link = el("a", "button button-quiet csv-link", "Exportar CSV");
    link.href = "/api/v1/admin/stats/" + name + ".csv?days=" + encodeURIComponent(days);
    link.setAttribute("download", "promptlink-" + name + ".csv");
    section.appendChild(link);
    var holder = el("div", "chart-box");
    var canvas = el("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Gráfico: " + t.title);
    holder.appendChild(canvas);
    section.appendChild(holder);
    var details = el("details");
    details.appendChild(el("summary", null, "Ver la tabla"));
    var tableNode = el("table", "data-table");
    table(tableNode, t.columns, t.rows);
    details.appendChild(tableNode);
    section.appendChild(details);
    box2.appendChild(section);
    draw(canvas, t, CHARTS[name]);
  });
}

function draw(canvas, t, how) {
  if (typeof window.Chart !== "function") return;
  var series = how.series;
  if (!series) {
    series = [];
    for (var c = 1; c < t.columns.length; c++) series.push(c);
  }
  var datasets = series.map(function (col, i) {
    return {
      label: t.columns[col],
      data: t.rows.map(function (row) {
        return row[col];
      }),
      backgroundColor: COLORS[i % COLORS.length],
      borderColor: COLORS[i % COLORS.length],
    };
  });
  var chart = new window.Chart(canvas, {
    type: how.type,
    data: {
      labels: t.rows.map(function (row) {
        return String(row[0]).slice(0, 60);
      }),
      datasets: datasets,
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: how.horizontal ? "y" : "x",
      scales: { x: { stacked: !!how.stacked }, y: { stacked: !!how.stacked, beginAtZero: true } },
      plugins: { legend: { display: datasets.length > 1 } },
    },
  });
  charts.push(chart);
}
