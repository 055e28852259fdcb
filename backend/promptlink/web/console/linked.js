/*
 * Agent console: what a ticket links to — bugs in the bug tracker (link, open, move on)
 * and hardware replacements (RMA status and tracking).
 */
import {
  $,
  ApiError,
  api,
  clear,
  el,
  fillSelect,
  formMessage,
  isObject,
  missing,
  onSubmit,
  runAction,
  state,
  str,
  tierAllowed,
} from "./core.js";
import { BUG_STATE_NAMES, RMA_STATUS_NAMES, TEXT } from "./labels.js";

var fieldSeq = 0;

/** The distinct `data[field]` values of the ticket's history events of `kind`, in order. */
function linkedKeys(t, kind, field) {
  var keys = [];
  var history = Array.isArray(t.history) ? t.history : [];
  for (var i = 0; i < history.length; i++) {
    var e = history[i];
    if (isObject(e) && e.kind === kind && isObject(e.data) && typeof e.data[field] === "string") {
      if (keys.indexOf(e.data[field]) === -1) keys.push(e.data[field]);
    }
  }
  return keys;
}

function countKind(t, kind) {
  var n = 0;
  var history = Array.isArray(t.history) ? t.history : [];
  for (var i = 0; i < history.length; i++) if (isObject(history[i]) && history[i].kind === kind) n++;
  return n;
}

function textInput(name, maxLength, value) {
  var input = el("input");
  input.type = "text";
  input.name = name;
  input.maxLength = maxLength;
  input.value = value || "";
  return input;
}

function selectOf(name, values, names) {
  var select = el("select");
  select.name = name;
  fillSelect(
    select,
    values.map(function (v) {
      return [v, names[v] || v];
    }),
    values[0]
  );
  return select;
}

// A form built in code: a fieldset of labelled controls ([label, control] pairs) and a button.
function inlineForm(className, legend, controls, buttonText) {
  var form = el("form", "form form-inline " + className);
  form.setAttribute("data-needs-tier", "1");
  var fieldset = el("fieldset");
  fieldset.appendChild(el("legend", null, legend));
  for (var i = 0; i < controls.length; i++) {
    var control = controls[i][1];
    control.id = "linked-field-" + ++fieldSeq;
    var label = el("label", null, controls[i][0]);
    label.htmlFor = control.id;
    fieldset.appendChild(label);
    fieldset.appendChild(control);
  }
  var button = el("button", "button", buttonText);
  button.type = "submit";
  fieldset.appendChild(button);
  form.appendChild(fieldset);
  // Built after the ticket's guards ran: apply them here too (same rule as ticket.js).
  var locked = !!state.ticket && !tierAllowed(state.ticket.tier);
  var inputs = form.querySelectorAll("input, select, button");
  for (var j = 0; j < inputs.length; j++) inputs[j].disabled = locked;
  return form;
}

function linkedItem(className, key, attribute) {
  var item = el("li", "linked-item " + className);
  item.setAttribute(attribute, key);
  var head = el("p", "linked-head");
  head.appendChild(el("strong", "linked-key", key));
  var info = el("span", "linked-info", TEXT.loading);
  head.appendChild(info);
  item.appendChild(head);
  return { item: item, info: info };
}

// ------------------------------------------------------------------- bugs

/** The bugs linked to the ticket (from its `bug_linked` history), each with its state. */
export function renderBugs(t) {
  var keys = linkedKeys(t, "bug_linked", "bug");
  // A `bug_changed` event means a bug moved on: rebuild the cards then too.
  var signature = keys.join(",") + "|" + countKind(t, "bug_changed");
  $("bug-empty").hidden = keys.length > 0;
  if (signature === state.bugKeys) return;
  state.bugKeys = signature;
  var list = $("bug-list");
  clear(list);
  for (var i = 0; i < keys.length; i++) list.appendChild(bugItem(keys[i]));
}

function bugItem(key) {
  var parts = linkedItem("bug-item", key, "data-bug");
  api("GET", "/bugs/" + encodeURIComponent(key)).then(
    function (bug) {
      if (!isObject(bug)) return;
      parts.info.textContent =
        " — " + str(bug.title) + " · estado: " + (bug.state_name || BUG_STATE_NAMES[bug.state] || bug.state) +
        (bug.fixed_in_version ? " (versión " + bug.fixed_in_version + ")" : "");
      var next = Array.isArray(bug.next_states) ? bug.next_states : [];
      if (next.length) parts.item.appendChild(bugStateForm(key, next));
    },
    function (err) {
      parts.info.textContent = " — no se pudo consultar la falla: " + err.message;
    }
  );
  return parts.item;
}

function bugStateForm(key, nextStates) {
  var select = selectOf("state", nextStates, BUG_STATE_NAMES);
  var version = textInput("version", 50);
  var note = textInput("note", 1000);
  var form = inlineForm(
    "bug-state-form",
    "Cambiar el estado de " + key,
    [
      ["Nuevo estado", select],
      ["Versión de la corrección (obligatoria para «corregido»)", version],
      ["Nota", note],
    ],
    "Cambiar estado de la falla"
  );
  onSubmit(form, function () {
    if (select.value === "fixed" && missing(form, version, TEXT.versionRequired)) return;
    var payload = { state: select.value, note: note.value.trim() };
    if (select.value === "fixed") payload.version = version.value.trim();
    runAction(
      form,
      function () {
        return api("PATCH", "/bugs/" + encodeURIComponent(key), payload);
      },
      TEXT.bugChanged
    );
  });
  return form;
}

/** The two static bug forms of the ticket view: link an existing bug, open a new one. */
export function wireBugForms() {
  onSubmit($("bug-link-form"), function (form) {
    var input = $("bug-link-key");
    var key = input.value.trim().toUpperCase();
    if (!/^[A-Z]+-\d+$/.test(key)) {
      formMessage(form, TEXT.bugKeyRequired, true);
      input.focus();
      return;
    }
    runAction(
      form,
      function () {
        var path = "/bugs/" + encodeURIComponent(key) + "/tickets";
        return api("POST", path, { ticket: state.ticketNumber }).then(
          function (bug) {
            input.value = "";
            return bug;
          },
          function (err) {
            if (err.status !== 404) throw err;
            throw new ApiError(404, TEXT.notFound + " La falla " + key + " no existe.", err.detail);
          }
        );
      },
      TEXT.bugLinked
    );
  });

  onSubmit($("bug-create-form"), function (form) {
    var title = $("bug-title");
    var description = $("bug-description");
    if (missing(form, title, TEXT.bugTitleRequired)) return;
    var payload = { title: title.value.trim(), description: description.value.trim(), ticket: state.ticketNumber };
    runAction(
      form,
      function () {
        return api("POST", "/bugs", payload).then(function (bug) {
          description.value = "";
          return bug;
        });
      },
      TEXT.bugCreated
    );
  });
}

// ------------------------------------------------------------------- RMAs

/** The ticket's hardware replacements (from its `rma` history), each with its status. */
export function renderRmas(t) {
  var numbers = linkedKeys(t, "rma", "rma");
  $("rma-empty").hidden = numbers.length > 0;
  // Every RMA change is an `rma` event: rebuild the cards when their count moves.
  var signature = numbers.join(",") + "|" + countKind(t, "rma");
  if (signature === state.rmaKeys) return;
  state.rmaKeys = signature;
  var list = $("rma-list");
  clear(list);
  for (var i = 0; i < numbers.length; i++) list.appendChild(rmaItem(numbers[i]));
}

function rmaItem(number) {
  var parts = linkedItem("rma-item", number, "data-rma");
  api("GET", "/rmas/" + encodeURIComponent(number)).then(
    function (rma) {
      if (!isObject(rma)) return;
      parts.info.textContent =
        " — estado: " + (rma.status_name || RMA_STATUS_NAMES[rma.status] || str(rma.status)) +
        (rma.serial ? " · serie " + rma.serial : "") +
        (rma.tracking ? " · seguimiento " + rma.tracking : "");
      if (rma.shipping_method) parts.item.appendChild(el("p", "hint", "Envío: " + rma.shipping_method));
      var next = Array.isArray(rma.next_statuses) ? rma.next_statuses : [];
      if (next.length) parts.item.appendChild(rmaForm(number, next, str(rma.tracking)));
      else parts.item.appendChild(el("p", "hint", "Sustitución cerrada: no admite más cambios."));
    },
    function (err) {
      // Without the read endpoint the agent may still try any status; the server decides.
      parts.info.textContent = " — no se pudo consultar el estado: " + err.message;
      parts.item.appendChild(rmaForm(number, Object.keys(RMA_STATUS_NAMES), ""));
    }
  );
  return parts.item;
}

function rmaForm(number, statuses, currentTracking) {
  var select = selectOf("status", statuses, RMA_STATUS_NAMES);
  var tracking = textInput("tracking", 100, currentTracking);
  var form = inlineForm(
    "rma-form",
    "Actualizar " + number,
    [
      ["Nuevo estado", select],
      ["Número de seguimiento del envío (obligatorio para «Enviada»)", tracking],
    ],
    "Actualizar RMA"
  );
  onSubmit(form, function () {
    if (select.value === "shipped" && missing(form, tracking, TEXT.trackingRequired)) return;
    var payload = { status: select.value };
    if (tracking.value.trim()) payload.tracking = tracking.value.trim();
    runAction(
      form,
      function () {
        return api("PATCH", "/rmas/" + encodeURIComponent(number), payload).then(null, function (err) {
          if (err.status !== 404 && err.status !== 405) throw err;
          throw new ApiError(err.status, TEXT.rmaUnavailable + " (HTTP " + err.status + ").", err.detail);
        });
      },
      TEXT.rmaSaved
    );
  });
  return form;
}
