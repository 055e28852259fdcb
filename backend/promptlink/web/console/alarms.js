/*
 * «Alarmas sin asignar»: traps from equipment no customer owns, for Level 1.
 *
 * Self-contained: adds its own section under the queues (DOM APIs, textContent only)
 * and refreshes it while the queues view is shown. Data: GET /api/v1/alarms/unassigned.
 * Level 1 assigns an alarm to a customer's device: POST /api/v1/alarms/{id}/assign {device}
 * (the device takes the address; open alarms get their ticket and the customer is told).
 */
import {
  $,
  api,
  clear,
  el,
  formatDateTime,
  formMessage,
  isObject,
  missing,
  onSubmit,
  setBusy,
  state,
  str,
  tierAllowed,
} from "./core.js";

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
  var status = el("p", "form-msg");
  status.id = "unassigned-alarms-msg";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  status.hidden = true;
  section.appendChild(status);
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
    if (tierAllowed("L1")) item.appendChild(assignForm(a));
    list.appendChild(item);
  }
}

function assignForm(alarm) {
  var form = el("form", "assign-alarm-form");
  var inputId = "assign-device-" + str(alarm.id);
  var label = el("label", null, "Equipo del cliente ");
  label.setAttribute("for", inputId);
  var input = el("input", "assign-device");
  input.id = inputId;
  input.type = "text";
  input.maxLength = 100;
  input.placeholder = "nombre, p. ej. cmts-bog-01";
  input.autocomplete = "off";
  var button = el("button", null, "Asignar");
  button.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(button);
  onSubmit(form, function () {
    if (missing(form, input, "Indique el nombre del equipo.")) return;
    var device = input.value.trim();
    setBusy(form, true);
    formMessage(form, "");
    api("POST", "/alarms/" + encodeURIComponent(str(alarm.id)) + "/assign", { device: device }).then(
      function (data) {
        var tickets = isObject(data) ? Number(data.tickets) || 0 : 0;
        var text = "Alarma asignada a " + device + ". ";
        text += tickets
          ? (tickets === 1 ? "Se abrió 1 tiquete" : "Se abrieron " + tickets + " tiquetes") + " y se avisó al cliente."
          : "No había alarmas abiertas: no se abrió ningún tiquete.";
        var status = $("unassigned-alarms-msg");
        status.textContent = text;
        status.hidden = false;
        refresh(true);
      },
      function (err) {
        setBusy(form, false);
        formMessage(form, err.message, true);
      }
    );
  });
  return form;
}

// An agent typing a device name must not lose it to the periodic refresh.
function editing() {
  var list = $("unassigned-alarms-list");
  if (!list) return false;
  if (list.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return true;
  var inputs = list.querySelectorAll(".assign-device");
  for (var i = 0; i < inputs.length; i++) if (inputs[i].value) return true;
  return false;
}

function refresh(force) {
  if (!state.me || state.view !== "queues" || document.hidden) return;
  if (!ensureSection()) return;
  if (force !== true && editing()) return;
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
