/*
 * «Alarmas sin asignar»: traps from equipment no customer owns, for Level 1.
 *
 * Self-contained: adds its own section under the queues (DOM APIs, textContent only)
 * and refreshes it while the queues view is shown. Data: GET /api/v1/alarms/unassigned.
 */
import { $, api, clear, el, formatDateTime, isObject, state, str } from "./core.js";

var REFRESH_MS = 15000;
var section = null;

function ensureSection() {
  if (section) return section;
  var view = $("queues-view");
  if (!view) return null;
  section = el("section", "card unassigned-alarms");
  section.id = "unassigned-alarms";
  section.setAttribute("aria-labelledby", "unassigned-alarms-title");
  var title = el("h2", null, "Alarmas sin asignar");
  title.id = "unassigned-alarms-title";
  section.appendChild(title);
  section.appendChild(
    el("p", "muted", "Trampas SNMP de equipos que no pertenecen a ningún cliente registrado. Nivel 1 las revisa y asigna.")
  );
  var list = el("ul", "ticket-list");
  list.id = "unassigned-alarms-list";
  section.appendChild(list);
  view.appendChild(section);
  return section;
}

function render(alarms) {
  var list = $("unassigned-alarms-list");
  clear(list);
  if (!alarms.length) {
    list.appendChild(el("li", "muted", "No hay alarmas sin asignar."));
    return;
  }
  for (var i = 0; i < alarms.length; i++) {
    var a = alarms[i];
    if (!isObject(a)) continue;
    var item = el("li", "unassigned-alarm");
    item.setAttribute("data-alarm", str(a.id));
    item.appendChild(el("strong", null, str(a.title)));
    var state_ = a.state === "open" ? "abierta" : "despejada";
    item.appendChild(
      el(
        "span",
        "muted",
        " — origen " + str(a.source_address) + ", P" + str(a.priority) + ", " + str(a.count) + " aviso(s), " +
          state_ + ", último " + formatDateTime(a.last_seen)
      )
    );
    list.appendChild(item);
  }
}

function refresh() {
  if (!state.me || state.view !== "queues" || document.hidden) return;
  if (!ensureSection()) return;
  api("GET", "/alarms/unassigned?limit=50").then(
    function (data) {
      render(isObject(data) && Array.isArray(data.alarms) ? data.alarms : []);
    },
    function () {
      /* the queues view shows connection problems already */
    }
  );
}

// Refresh when the queues view is shown (login, navigation) and then periodically.
var queuesView = $("queues-view");
if (queuesView && window.MutationObserver) {
  new MutationObserver(function () {
    if (!queuesView.hidden) setTimeout(refresh, 0);
  }).observe(queuesView, { attributes: true, attributeFilter: ["hidden"] });
}
setInterval(refresh, REFRESH_MS);
