/*
 * Agent console: DOM and text helpers, the REST client, shared state, countdowns.
 *
 * Security: every piece of server or user text is rendered with textContent /
 * createTextNode. Never use innerHTML in the console.
 */
import { el, isObject, randomId } from "/webchat/common/util.js";
import { API, PRIORITY_NAMES, ROLE_NAMES, TEXT } from "./labels.js";

// Shared with the customer widget (served at /webchat/common/util.js); re-exported for the console modules.
export { el, isObject, randomId };

// ---------------------------------------------------------------- helpers

export function $(id) {
  return document.getElementById(id);
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function str(v) {
  return v === null || v === undefined ? "" : String(v);
}

export function formatDateTime(iso) {
  if (!iso) return "";
  var d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  try {
    return d.toLocaleString("es-ES", { dateStyle: "short", timeStyle: "short" });
  } catch (e) {
    return d.toISOString().replace("T", " ").slice(0, 16);
  }
}

export function formatClock(date) {
  try {
    return date.toLocaleTimeString("es-ES", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  } catch (e) {
    return date.toISOString().slice(11, 19);
  }
}

// «vence en 1 h 12 min» / «vencido hace 5 min»: minutes are enough for the
// cadence (2 h to 7 days); seconds only in the last minute.
export function dueText(ms) {
  var overdue = ms < 0;
  var s = Math.floor(Math.abs(ms) / 1000);
  var days = Math.floor(s / 86400);
  var hours = Math.floor((s % 86400) / 3600);
  var minutes = Math.floor((s % 3600) / 60);
  var span;
  if (days > 0) span = days + " d " + hours + " h";
  else if (hours > 0) span = hours + " h " + minutes + " min";
  else if (minutes > 0) span = minutes + " min";
  else span = (s % 60) + " s";
  return overdue ? "vencido hace " + span : "vence en " + span;
}

export function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many);
}

export function tierAllowed(tier) {
  var me = state.me;
  if (!me) return false;
  if (me.role === "supervisor" || me.role === "admin") return true;
  return me.role === "agent" && (me.tiers || []).indexOf(tier) !== -1;
}

export function roleText(me) {
  var role = ROLE_NAMES[me.role] || me.role;
  if (me.role === "agent" && me.tiers && me.tiers.length) role += " " + me.tiers.join(", ");
  return role;
}

// ------------------------------------------------------------------- API

export function ApiError(status, message, detail) {
  this.status = status;
  this.message = message;
  this.detail = detail;
}

// The API answers errors with {"detail": "<English>", "message": "<Spanish>"}; agents read Spanish.
function errorFor(status, data) {
  var detail = isObject(data) && typeof data.detail === "string" ? data.detail : "";
  var spanish = isObject(data) && typeof data.message === "string" ? data.message : "";
  var message;
  if (status === 401) message = TEXT.expired;
  else if (status === 403) message = TEXT.forbidden;
  else if (status === 404) message = TEXT.notFound;
  else if (status === 405) message = TEXT.notAllowed;
  else if (status === 409) message = TEXT.conflict + (spanish || "el recurso cambió; recargue la página.");
  else if (status === 400 || status === 422) message = spanish || TEXT.invalid + (detail || "revise los campos.");
  else if (status === 429) message = TEXT.tooMany;
  else if (status >= 500) message = TEXT.server + " (HTTP " + status + ")";
  else message = TEXT.unexpected + " (HTTP " + status + ")" + (detail ? ": " + detail : ".");
  return new ApiError(status, message, detail);
}

/** JSON request to /api/v1 with the session cookie; rejects with an ApiError in Spanish. */
export function api(method, path, payload, headers) {
  var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (payload !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(payload);
  }
  if (headers) {
    for (var name in headers) {
      if (Object.prototype.hasOwnProperty.call(headers, name)) options.headers[name] = headers[name];
    }
  }
  return fetch(API + path, options).then(
    function (response) {
      return response.text().then(function (text) {
        var data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch (e) {
          data = null;
        }
        if (response.ok) return data;
        var error = errorFor(response.status, data);
        if (response.status === 401 && path !== "/auth/login" && path !== "/auth/me") hooks.sessionExpired();
        throw error;
      });
    },
    function () {
      throw new ApiError(0, TEXT.network, "");
    }
  );
}

export function ticketPath(number) {
  return "/tickets/" + encodeURIComponent(number);
}

// ----------------------------------------------------------------- state

export var state = {
  me: null,
  view: null,
  ticketNumber: null,
  ticket: null,
  bugKeys: "",
  rmaKeys: "",
  myTickets: {}, // ticket number -> true (assigned to the signed-in agent)
  agentNames: {}, // agent id -> name, learned from ticket details
  waitingChats: 0, // chats waiting in the agent's queues (chat/alerts.js)
  customers: null,
  phoneKey: null, // Idempotency-Key of the phone ticket being filed, kept until it succeeds
  queuesBusy: false,
  ticketSeq: 0, // only the answer to the latest ticket request is rendered
  ticketSig: "", // the rendered ticket, to skip identical refreshes
  refreshTimer: null,
  tickTimer: null,
};

// ------------------------------------------------------------------ page

export function showBanner(text) {
  var banner = $("banner");
  banner.textContent = text || "";
  banner.hidden = !text;
}

/** A Spanish message inside `form` (created on first use): success, or an error when `isError`. */
export function formMessage(form, text, isError) {
  var box = form.querySelector(".form-msg");
  if (!box) {
    box = el("p", "form-msg");
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "polite");
    form.appendChild(box);
  }
  box.textContent = text || "";
  box.hidden = !text;
  box.classList.toggle("form-msg-error", !!isError);
}

export function setBusy(form, busy) {
  form.setAttribute("aria-busy", busy ? "true" : "false");
  var buttons = form.querySelectorAll("button");
  for (var i = 0; i < buttons.length; i++) buttons[i].disabled = busy;
}

export function fillSelect(select, options, selected) {
  clear(select);
  for (var i = 0; i < options.length; i++) {
    var option = el("option", null, options[i][1]);
    option.value = options[i][0];
    if (options[i][0] === selected) option.selected = true;
    select.appendChild(option);
  }
}

export function priorityBadge(priority) {
  var p = Number(priority);
  var badge = el("span", "badge badge-p" + p, "P" + p);
  badge.title = "Prioridad " + p + (PRIORITY_NAMES[p] ? " (" + PRIORITY_NAMES[p] + ")" : "");
  return badge;
}

export function dueNode(iso, className) {
  var node = el("span", "due " + (className || ""));
  if (iso) {
    node.setAttribute("data-due", iso);
    node.title = "Próxima actualización: " + formatDateTime(iso);
    node.textContent = dueText(Date.parse(iso) - Date.now());
  } else {
    node.textContent = TEXT.noDue;
    node.classList.add("due-none");
  }
  return node;
}

function updateQueueSummary(section) {
  var total = Number(section.getAttribute("data-total")) || 0;
  var overdue = section.querySelectorAll(".ticket-row.overdue").length;
  var summary = section.querySelector(".queue-summary");
  if (!summary) return;
  var text = plural(total, "tiquete abierto", "tiquetes abiertos");
  text += overdue ? " · " + plural(overdue, "vencido", "vencidos") : " · ninguno vencido";
  if (summary.textContent !== text) summary.textContent = text;
  section.classList.toggle("queue-has-overdue", overdue > 0);
}

// Every countdown on the page: text, overdue class and the «Vencido» flag of its row.
export function tick() {
  var now = Date.now();
  var nodes = document.querySelectorAll("[data-due]");
  var overdueCount = 0;
  for (var i = 0; i < nodes.length; i++) {
    var node = nodes[i];
    var due = Date.parse(node.getAttribute("data-due"));
    if (isNaN(due)) continue;
    var overdue = due - now < 0;
    var text = dueText(due - now);
    if (node.textContent !== text) node.textContent = text;
    node.classList.toggle("due-overdue", overdue);
    var holder = node.closest(".ticket-row, .due-box");
    if (holder) {
      holder.classList.toggle("overdue", overdue);
      var flag = holder.querySelector(".overdue-flag");
      if (flag) flag.hidden = !overdue;
      if (overdue && holder.closest("#queues")) overdueCount++;
    }
  }
  var sections = document.querySelectorAll("#queues .queue");
  for (var j = 0; j < sections.length; j++) updateQueueSummary(sections[j]);
  var title = overdueCount ? "(" + plural(overdueCount, "vencido", "vencidos") + ") " + TEXT.title : TEXT.title;
  // Chats waiting in the agent's queues come first: «(2) Consola de agentes — …» (chat/alerts.js).
  if (state.waitingChats) title = "(" + state.waitingChats + ") " + title;
  if (document.title !== title) document.title = title;
}

// ------------------------------------------------------------- actions

/** Call `handler(form)` on submit; our own Spanish checks replace the browser's. */
export function onSubmit(form, handler) {
  form.setAttribute("novalidate", "");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    handler(form);
  });
}

/** True (and a message by the field) when `input` is empty. */
export function missing(form, input, text) {
  if (input.value.trim()) return false;
  formMessage(form, text, true);
  input.focus();
  return true;
}

// Filled in by console.js and ticket.js; keeps the modules free of import cycles.
export var hooks = {
  sessionExpired: function () {},
  afterTicketAction: function (_changed) {
    return null;
  },
};

// Run one ticket action on `box` (a form or a row of buttons): busy state, a Spanish
// message next to it, then the ticket reloaded (or its guards re-applied on failure).
export function runAction(box, call, okText, after) {
  if (box.getAttribute("aria-busy") === "true") return;
  setBusy(box, true);
  formMessage(box, "");
  call().then(
    function (result) {
      if (after) after(result);
      setBusy(box, false);
      formMessage(box, okText, false);
      return hooks.afterTicketAction(true);
    },
    function (err) {
      setBusy(box, false);
      formMessage(box, err.message, true);
      return hooks.afterTicketAction(false);
    }
  );
}
