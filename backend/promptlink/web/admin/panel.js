/* «Panel»: the dashboard — charts drawn with Chart.js (served locally) and a CSV per table.
 *
 * Series names come from the backend (Spanish column headings); numbers are formatted one way
 * everywhere (Spanish: decimal comma, one decimal); priorities use the console's colours
 * (--p1 … --p4 in console.css), so P1 is the same red here as in the ticket lists. */
import { $, api, clear, el, table } from "./ui.js";

// Series colours for channels, tiers and the rest: distinct, and none is a priority's red.
var COLORS = ["#0b5cab", "#2e8b57", "#7a4fb5", "#d9822b", "#5b6770", "#0f766e"];
var LABEL_LINE = 28; // characters per line of a category label (longer labels wrap)
var LABEL_LINES = 2; // lines per label at most (then «…»; the tooltip shows the whole text)
var charts = [];

/* How each table is drawn: the columns that are series (default: all but the first), which
 * columns hold decimals (the rest are counts), whether the value axis counts things. */
var CHARTS = {
  tickets_by_channel: { type: "bar", stacked: true, counts: true },
  tickets_by_priority: { type: "bar", stacked: true, counts: true, priorities: true },
  tickets_by_tier: { type: "bar", stacked: true, counts: true },
  updates: { type: "bar", series: [1, 2], decimals: [3], counts: true },
  assistant: { type: "bar", series: [1, 2], decimals: [3], counts: true },
  handoffs: { type: "bar", counts: true },
  waits: { type: "bar", series: [2, 3, 4], decimals: [2, 3, 4] },
  satisfaction: { type: "bar", series: [1], decimals: [2], counts: true },
  misunderstood: { type: "bar", horizontal: true, counts: true, wide: true },
};
var SUMMARY = [
  ["tickets", "Tiquetes", "", false],
  ["updates_on_time_pct", "Actualizaciones a tiempo", " %", true],
  ["breaches", "Incumplimientos", "", false],
  ["solved_without_person_pct", "Conversaciones resueltas sin persona", " %", true],
  ["handoffs", "Traspasos a una persona", "", false],
  ["satisfaction_avg", "Satisfacción media (1–5)", "", true],
];

var dayFormat = new Intl.DateTimeFormat("es-ES", { day: "numeric", month: "short", timeZone: "UTC" });
var integerFormat = new Intl.NumberFormat("es-ES", { maximumFractionDigits: 0 });
var decimalFormat = new Intl.NumberFormat("es-ES", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** A number as the dashboard writes it: counts whole, other figures with one decimal (comma). */
export function formatNumber(value, decimal) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value !== "number") return String(value);
  return decimal || !Number.isInteger(value) ? decimalFormat.format(value) : integerFormat.format(value);
}

/** A category label in lines of at most LABEL_LINE characters (LABEL_LINES lines, then «…»). */
export function wrapLabel(text) {
  var words = String(text).split(/\s+/);
  var lines = [];
  var line = "";
  for (var i = 0; i < words.length; i++) {
    var word = words[i];
    while (word.length > LABEL_LINE) {
      if (line) lines.push(line);
      lines.push(word.slice(0, LABEL_LINE));
      word = word.slice(LABEL_LINE);
      line = "";
    }
    if (!line) line = word;
    else if ((line + " " + word).length <= LABEL_LINE) line += " " + word;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  if (lines.length > LABEL_LINES) {
    lines = lines.slice(0, LABEL_LINES);
    var last = lines[LABEL_LINES - 1];
    lines[LABEL_LINES - 1] = (last.length >= LABEL_LINE ? last.slice(0, LABEL_LINE - 1) : last) + "…";
  }
  return lines.length > 1 ? lines : lines[0] || "";
}

/** A category label on a chart: a day (ISO date) as «5 nov», anything else as it is. */
function categoryLabel(value) {
  var text = String(value);
  return /^\d{4}-\d{2}-\d{2}$/.test(text) ? dayFormat.format(new Date(text + "T00:00:00Z")) : text;
}

function priorityColor(index) {
  var value = window.getComputedStyle(document.documentElement).getPropertyValue("--p" + (index + 1));
  return value.trim() || COLORS[index % COLORS.length];
}

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
    var shown = formatNumber(value, SUMMARY[i][3]);
    box.appendChild(el("dd", null, shown === "—" ? shown : shown + SUMMARY[i][2]));
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
    var how = CHARTS[name];
    var section = el("section", "card panel-table" + (how.wide ? " panel-wide" : ""));
    section.setAttribute("data-table", name);
    section.appendChild(el("h2", null, t.title));
    var link = el("a", "button button-quiet csv-link", "Exportar CSV");
    link.href = "/api/v1/admin/stats/" + name + ".csv?days=" + encodeURIComponent(days);
    link.setAttribute("download", "promptlink-" + name + ".csv");
    section.appendChild(link);
    var holder = el("div", "chart-box");
    if (how.horizontal) holder.style.height = Math.max(160, 60 + 34 * t.rows.length) + "px";
    var canvas = el("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Gráfico: " + t.title);
    holder.appendChild(canvas);
    section.appendChild(holder);
    var details = el("details");
    details.appendChild(el("summary", null, "Ver la tabla"));
    var tableNode = el("table", "data-table");
    var decimals = how.decimals || [];
    table(
      tableNode,
      t.columns,
      t.rows.map(function (row) {
        return row.map(function (cell, c) {
          return formatNumber(cell, decimals.indexOf(c) !== -1);
        });
      })
    );
    details.appendChild(tableNode);
    section.appendChild(details);
    box2.appendChild(section);
    draw(canvas, t, how);
  });
}

function draw(canvas, t, how) {
  if (typeof window.Chart !== "function") return;
  var series = how.series;
  if (!series) {
    series = [];
    for (var c = 1; c < t.columns.length; c++) series.push(c);
  }
  var decimals = how.decimals || [];
  var datasets = series.map(function (col, i) {
    var color = how.priorities ? priorityColor(i) : COLORS[i % COLORS.length];
    return {
      label: t.columns[col],
      data: t.rows.map(function (row) {
        return row[col];
      }),
      backgroundColor: color,
      borderColor: color,
    };
  });
  var decimalAxis = !how.counts;
  var valueAxis = {
    stacked: !!how.stacked,
    beginAtZero: true,
    ticks: {
      precision: how.counts ? 0 : undefined,
      callback: function (value) {
        return formatNumber(value, decimalAxis && !Number.isInteger(value));
      },
    },
  };
  var fullLabels = t.rows.map(function (row) {
    return String(row[0]);
  });
  var categoryAxis = { stacked: !!how.stacked, ticks: { autoSkip: !how.horizontal } };
  var chart = new window.Chart(canvas, {
    type: how.type,
    data: {
      labels: fullLabels.map(how.horizontal ? wrapLabel : categoryLabel),
      datasets: datasets,
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: how.horizontal ? "y" : "x",
      scales: how.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
      plugins: {
        legend: { display: datasets.length > 1 },
        tooltip: {
          callbacks: {
            title: function (items) {
              if (!items.length) return "";
              var label = fullLabels[items[0].dataIndex];
              return how.horizontal ? label : categoryLabel(label);
            },
            label: function (item) {
              var col = series[item.datasetIndex];
              return item.dataset.label + ": " + formatNumber(item.raw, decimals.indexOf(col) !== -1);
            },
          },
        },
      },
    },
  });
  charts.push(chart);
}
