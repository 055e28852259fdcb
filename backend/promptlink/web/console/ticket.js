/*
 * Agent console: one ticket — facts, history (public vs internal) and the actions on it:
 * customer update, internal note, assignment, priority override, transfer, status.
 * Bugs and RMAs are in linked.js.
 */
import {
  $,
  api,
  clear,
  dueNode,
  el,
  fillSelect,
  formatDateTime,
  formMessage,
  hooks,
  isObject,
  missing,
  onSubmit,
  priorityBadge,
  runAction,
  showBanner,
  state,
  str,
  tick,
  ticketPath,
  tierAllowed,
} from "./core.js";
import {
  BUG_STATE_NAMES,
  CHANNEL_NAMES,
  KIND_NAMES,
  RMA_STATUS_NAMES,
  STATUS_NAMES,
  TEXT,
  TIER_NAMES,
  TIERS,
  TYPE_NAMES,
} from "./labels.js";
import { renderTicketAttachments } from "./chat/attachments.js";
import { renderBugs, renderRmas, wireBugForms } from "./linked.js";

var TICKET_FORMS = [
  "update-form",
  "note-form",
  "priority-form",
  "tier-form",
  "status-form",
  "bug-link-form",
  "bug-create-form",
];

// ---------------------------------------------------------------- loading

/** Show ticket `number` (the view is already visible); forms are emptied when it changes. */
export function openTicket(number) {
  var changed = state.ticketNumber !== number;
  state.ticketNumber = number;
  if (changed) {
    state.ticket = null;
    state.ticketSig = state.bugKeys = state.rmaKeys = "";
    for (var i = 0; i < TICKET_FORMS.length; i++) {
      $(TICKET_FORMS[i]).reset();
      formMessage($(TICKET_FORMS[i]), "");
    }
    formMessage($("assign-row"), "");
    $("priority-select").removeAttribute("data-touched");
    $("ticket-number").textContent = number;
    $("ticket-heading").textContent = TEXT.loading;
    var lists = ["ticket-facts", "history", "bug-list", "rma-list", "ticket-due"];
    for (var j = 0; j < lists.length; j++) clear($(lists[j]));
    $("ticket-coverage").hidden = true;
    $("ticket-readonly").hidden = true;
    $("ticket-error").hidden = true;
    // The focus moves to the ticket now, not once it has loaded: by then the agent may be typing in a form.
    $("ticket-title").focus();
  }
  loadTicket(number, false);
}

/** Fetch and render the ticket; `quiet` (the 15 s refresh) keeps the page on a network blip. */
export function loadTicket(number, quiet) {
  var seq = ++state.ticketSeq;
  return api("GET", ticketPath(number)).then(
    function (ticket) {
      if (seq !== state.ticketSeq || state.ticketNumber !== number || !isObject(ticket)) return;
      $("ticket-error").hidden = true;
      renderTicket(ticket);
    },
    function (err) {
      if (seq !== state.ticketSeq || err.status === 401) return;
      if (quiet && err.status === 0) {
        showBanner(err.message);
        return;
      }
      var box = $("ticket-error");
      box.textContent = err.status === 404 ? TEXT.notFound + " El tiquete " + number + " no existe." : err.message;
      box.hidden = false;
      if (!state.ticket) $("ticket-heading").textContent = "";
    }
  );
}

// -------------------------------------------------------------- rendering

function renderTicket(t) {
  // The refresh re-renders only when something changed (keeps the reader's place).
  var signature = JSON.stringify(t);
  if (signature === state.ticketSig) return;
  state.ticketSig = signature;
  state.ticket = t;
  if (t.assignee && t.assignee_id) state.agentNames[t.assignee_id] = str(t.assignee.name);
  if (isMine(t)) state.myTickets[t.number] = true;
  else delete state.myTickets[t.number];

  $("ticket-number").textContent = t.number;
  $("ticket-heading").textContent = t.title;
  document.title = t.number + " — " + TEXT.title;
  renderDue(t);
  renderFacts(t);
  renderHistory(Array.isArray(t.history) ? t.history : []);
  renderManage(t);
  renderBugs(t);
  renderRmas(t);
  renderTicketAttachments(t.number);
  applyTierGuards(t);
  tick();
}

function isMine(t) {
  return !!(t.assignee && state.me && t.assignee.email === state.me.email);
}

function renderDue(t) {
  var box = $("ticket-due");
  clear(box);
  box.className = "due-box";
  box.appendChild(el("span", "due-label", "Próxima actualización al cliente: "));
  if (t.next_update_due) {
    box.appendChild(dueNode(t.next_update_due, "due-main"));
    box.appendChild(el("span", "due-at", " (" + formatDateTime(t.next_update_due) + ")"));
    var flag = el("span", "overdue-flag", "⚠ " + TEXT.overdue);
    flag.hidden = true;
    box.appendChild(flag);
  } else {
    var status = (STATUS_NAMES[t.status] || str(t.status)).toLowerCase();
    box.appendChild(el("span", "due due-none", "ninguna (tiquete " + status + ")"));
  }
  var coverage = $("ticket-coverage");
  coverage.hidden = t.covered !== false;
  coverage.textContent =
    t.covered === false ? "Sin cobertura: " + (t.coverage_note || "el contrato no cubre esta incidencia.") : "";
}

function addFact(dl, label, value) {
  dl.appendChild(el("dt", null, label));
  var dd = el("dd");
  if (value && value.nodeType) dd.appendChild(value);
  else dd.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
  dl.appendChild(dd);
}

// A link inside the console (hash route); the text is set with textContent like every other text.
function consoleLink(hash, text, className) {
  var a = el("a", className, text);
  a.href = hash;
  return a;
}

function deviceFact(t) {
  if (t.device) return str(t.device);
  if (t.device_text) return str(t.device_text) + " (no registrado: así lo indicó el cliente)";
  return "";
}

// What the customer said about the incident (the intake's fields), shown only when given.
function addIntakeFacts(dl, t) {
  if (t.serial) addFact(dl, "Número de serie", str(t.serial));
  if (t.version) addFact(dl, "Versión", str(t.version));
  if (t.since) {
    var since = el("time", "ticket-since", formatDateTime(t.since));
    since.setAttribute("datetime", str(t.since));
    addFact(dl, "Desde", since);
  }
  if (t.error_message) addFact(dl, "Mensaje de error", el("span", "pre error-message", t.error_message));
  if (t.related_ticket) {
    var number = str(t.related_ticket);
    addFact(dl, "Tiquete relacionado", consoleLink("#/tickets/" + encodeURIComponent(number), number, "related-ticket"));
  }
}

// The ticket's RMA and bug as the ticket JSON gives them (their cards below manage them).
function addLinkedFacts(dl, t) {
  if (isObject(t.rma)) {
    var rma = [str(t.rma.number), RMA_STATUS_NAMES[t.rma.status] || str(t.rma.status)];
    if (t.rma.serial) rma.push("serie " + str(t.rma.serial));
    if (t.rma.device) rma.push("equipo " + str(t.rma.device));
    addFact(dl, "RMA", el("span", "ticket-rma", rma.join(" · ")));
  }
  if (isObject(t.bug)) {
    var bug = [str(t.bug.key), BUG_STATE_NAMES[t.bug.state] || str(t.bug.state)];
    if (t.bug.product) bug.push("producto " + str(t.bug.product));
    if (t.bug.version) bug.push("versión " + str(t.bug.version));
    addFact(dl, "Falla", el("span", "ticket-bug", bug.join(" · ")));
  }
  if (t.conversation_id) {
    var hash = "#/chats/" + encodeURIComponent(str(t.conversation_id));
    addFact(dl, "Conversación", consoleLink(hash, "Abrir la conversación del chat", "ticket-conversation"));
  }
}

function renderFacts(t) {
  var dl = $("ticket-facts");
  clear(dl);
  addFact(dl, "Cliente", t.customer_name ? t.customer_name + " (" + t.customer + ")" : t.customer || "Sin verificar");
  addFact(dl, "Contacto", t.contact);
  addFact(dl, "Equipo", deviceFact(t));
  addIntakeFacts(dl, t);
  var priority = el("span", "priority-fact");
  priority.appendChild(priorityBadge(t.priority));
  priority.appendChild(el("span", "priority-reason", t.priority_reason || ""));
  addFact(dl, "Prioridad", priority);
  addFact(dl, "Nivel", t.tier ? t.tier + " — " + (TIER_NAMES[t.tier] || "") : "");
  addFact(dl, "Estado", STATUS_NAMES[t.status] || t.status);
  addFact(dl, "Asignado a", t.assignee ? t.assignee.name + " (" + t.assignee.email + ")" : TEXT.unassigned);
  addFact(dl, "Tipo", TYPE_NAMES[t.type] || t.type);
  addFact(dl, "Canal", CHANNEL_NAMES[t.channel] || t.channel);
  addFact(dl, "Registrado", formatDateTime(t.created_at));
  addFact(dl, "Última actualización al cliente", t.last_update_at ? formatDateTime(t.last_update_at) : "Todavía ninguna");
  if (t.breach_count) addFact(dl, "Plazos incumplidos", String(t.breach_count));
  if (t.verified === false) addFact(dl, "Verificación", "Remitente sin verificar (triaje de Nivel 1)");
  addLinkedFacts(dl, t);
  $("ticket-description").textContent = t.description || "Sin descripción.";
  $("ticket-description-box").open = !!t.description;
}

function historyItem(e) {
  var isPublic = e.public === true;
  var item = el("li", "history-item " + (isPublic ? "history-public" : "history-internal"));
  item.setAttribute("data-kind", str(e.kind));
  item.setAttribute("data-public", isPublic ? "true" : "false");
  var head = el("p", "history-head");
  head.appendChild(el("span", "label " + (isPublic ? "label-public" : "label-internal"), isPublic ? "Público" : "Interno"));
  head.appendChild(el("span", "history-kind", KIND_NAMES[e.kind] || e.kind));
  head.appendChild(el("span", "history-author", e.author === "system" ? "Sistema" : str(e.author_name || e.author)));
  var time = el("time", "history-time", formatDateTime(e.at));
  time.setAttribute("datetime", str(e.at));
  head.appendChild(time);
  item.appendChild(head);
  if (e.text) item.appendChild(el("p", "history-text pre", e.text));
  var data = isObject(e.data) ? e.data : {};
  var channels = Array.isArray(data.channels) ? data.channels : [];
  if (Array.isArray(data.recipients) && data.recipients.length) {
    var via = channels.map(function (c) {
      return (CHANNEL_NAMES[c] || c).toLowerCase();
    });
    var sent = "Enviado a: " + data.recipients.join(", ") + (via.length ? " (" + via.join(" y ") + ")" : "");
    item.appendChild(el("p", "history-extra", sent));
  } else if (e.kind === "update" && Array.isArray(data.channels) && !channels.length) {
    item.appendChild(el("p", "history-extra", "Sin partes de notificación: no se envió a nadie."));
  }
  return item;
}

function renderHistory(events) {
  var list = $("history");
  clear(list);
  for (var i = 0; i < events.length; i++) {
    if (isObject(events[i])) list.appendChild(historyItem(events[i]));
  }
}

function renderManage(t) {
  var mine = isMine(t);
  $("assignee-text").textContent = t.assignee
    ? mine
      ? "Asignado a usted (" + t.assignee.name + ")."
      : "Asignado a " + t.assignee.name + "."
    : "Nadie tiene asignado este tiquete.";
  $("assign-me").hidden = mine;
  $("unassign").hidden = !t.assignee;

  var priority = $("priority-select");
  if (!priority.getAttribute("data-touched")) priority.value = String(t.priority);

  var tiers = [["", "— Elija el nivel —"]];
  for (var k = 0; k < TIERS.length; k++) {
    if (TIERS[k] !== t.tier) tiers.push([TIERS[k], TIERS[k] + " — " + TIER_NAMES[TIERS[k]]]);
  }
  fillSelect($("tier-select"), tiers, $("tier-select").value);

  var statuses = [["", "— Elija el estado —"]];
  for (var s in STATUS_NAMES) {
    if (s !== t.status) statuses.push([s, STATUS_NAMES[s]]);
  }
  fillSelect($("status-select"), statuses, $("status-select").value);

  if (!$("bug-title").value) $("bug-title").value = t.title || "";
}

// Agents work only their tiers' tickets (the API says 403 otherwise); internal notes
// are open to all support staff.
function applyTierGuards(t) {
  if (!state.me) return;
  var allowed = tierAllowed(t.tier);
  var notice = $("ticket-readonly");
  notice.hidden = allowed;
  notice.textContent = allowed
    ? ""
    : "Este tiquete pertenece al nivel " + t.tier + " y usted trabaja en " +
      (state.me.tiers.join(", ") || "ningún nivel") + ": solo puede consultarlo y añadir notas internas.";
  var guarded = document.querySelectorAll("#ticket-view [data-needs-tier]");
  for (var i = 0; i < guarded.length; i++) {
    var controls = guarded[i].querySelectorAll("input, select, textarea, button");
    for (var j = 0; j < controls.length; j++) controls[j].disabled = !allowed;
  }
}

hooks.afterTicketAction = function (changed) {
  if (!state.me) return null; // signed out meanwhile (session expired)
  var reload = changed && state.ticketNumber ? loadTicket(state.ticketNumber, true) : Promise.resolve();
  return reload.then(function () {
    if (state.ticket) applyTierGuards(state.ticket);
  });
};

// ---------------------------------------------------------------- actions

function patchTicket(fields, clearInputs) {
  return function () {
    return api("PATCH", ticketPath(state.ticketNumber), fields).then(function (result) {
      for (var i = 0; i < clearInputs.length; i++) clearInputs[i].value = "";
      return result;
    });
  };
}

function wireText(formId, path, okText) {
  onSubmit($(formId), function (form) {
    var area = form.querySelector("textarea");
    if (missing(form, area, TEXT.emptyText)) return;
    var text = area.value.trim();
    runAction(
      form,
      function () {
        return api("POST", ticketPath(state.ticketNumber) + path, { text: text }).then(function (result) {
          area.value = "";
          return result;
        });
      },
      okText
    );
  });
}

function wirePriority() {
  var select = $("priority-select");
  select.addEventListener("change", function () {
    select.setAttribute("data-touched", "1");
  });
  onSubmit($("priority-form"), function (form) {
    var reason = $("priority-reason");
    if (missing(form, reason, TEXT.reasonRequired)) return;
    var fields = { priority: Number(select.value), reason: reason.value.trim() };
    runAction(form, patchTicket(fields, [reason]), TEXT.prioritySaved, function () {
      select.removeAttribute("data-touched");
    });
  });
}

function wireTier() {
  onSubmit($("tier-form"), function (form) {
    var select = $("tier-select");
    var reason = $("tier-reason");
    if (missing(form, select, TEXT.chooseTier) || missing(form, reason, TEXT.reasonRequired)) return;
    var fields = { tier: select.value, reason: reason.value.trim() };
    runAction(form, patchTicket(fields, [reason]), TEXT.tierSaved + " Ahora lo atiende el nivel " + fields.tier + ".");
  });
}

function wireStatus() {
  onSubmit($("status-form"), function (form) {
    var select = $("status-select");
    var resolution = $("status-resolution");
    if (missing(form, select, TEXT.chooseStatus)) return;
    if (select.value === "resolved" && missing(form, resolution, TEXT.resolutionRequired)) return;
    var fields = { status: select.value };
    if (resolution.value.trim()) fields.resolution = resolution.value.trim();
    runAction(form, patchTicket(fields, [resolution]), TEXT.statusSaved);
  });
}

function wireAssign() {
  var row = $("assign-row");
  $("assign-me").addEventListener("click", function () {
    runAction(row, patchTicket({ assignee: state.me.email }, []), "Tiquete asignado a usted.");
  });
  $("unassign").addEventListener("click", function () {
    runAction(row, patchTicket({ assignee: null }, []), "Asignación retirada.");
  });
}

/** Attach every ticket action once, at start-up (the forms are in index.html). */
export function wireTicketActions() {
  wireText("update-form", "/updates", TEXT.updateSent);
  wireText("note-form", "/notes", TEXT.noteSaved);
  wireAssign();
  wirePriority();
  wireTier();
  wireStatus();
  wireBugForms();
}
