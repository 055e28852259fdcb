/* Administration: helpers shared by the tab modules (on top of the console's core.js). */
import { $, api, clear, el, formatDateTime, formMessage, setBusy, showBanner } from "/console/assets/core.js";

/** Fill a <table> with a header row and body rows (strings, numbers or DOM nodes). */
export function table(node, columns, rows) {
  clear(node);
  var head = el("thead");
  var tr = el("tr");
  for (var i = 0; i < columns.length; i++) tr.appendChild(el("th", null, columns[i]));
  head.appendChild(tr);
  node.appendChild(head);
  var tbody = el("tbody");
  for (var r = 0; r < rows.length; r++) {
    var row = el("tr");
    for (var c = 0; c < rows[r].length; c++) {
      var cell = rows[r][c];
      var td = el("td");
      if (cell instanceof Node) td.appendChild(cell);
      else td.textContent = cell === null || cell === undefined ? "—" : String(cell);
      row.appendChild(td);
    }
    tbody.appendChild(row);
  }
  node.appendChild(tbody);
  return tbody;
}

export { api, clear, el, formatDateTime, formMessage, setBusy, showBanner, $ };

