/*
 * Agent console, live chat: the side panel of a conversation — customer and contact, contracts,
 * the linked ticket, internal notes and the conversation's events.
 */
import { $, clear, dueNode, el, formatDateTime, isObject, priorityBadge, str, tick } from "../core.js";
import { STATUS_NAMES } from "../labels.js";
import { CONTRACT_NAMES, EVENT_NAMES, live, LT } from "./state.js";

export function renderInfo(conv) {
  var d = conv.detail || {};
  var dl = $("conv-customer");
  clear(dl);
  var facts = [];
  if (isObject(d.customer)) {
    facts.push(["Cliente", str(d.customer.name) + " (" + str(d.customer.code) + ")"]);
    if (d.customer.timezone) facts.push(["Zona horaria", d.customer.timezone]);
  } else {
    facts.push(["Cliente", LT.unverified]);
  }
  if (isObject(d.contact)) facts.push(["Contacto", str(d.contact.name) + " <" + str(d.contact.email) + ">"]);
  facts.push(["Conversación", conv.id]);
  for (var i = 0; i < facts.length; i++) {
    dl.appendChild(el("dt", null, facts[i][0]));
    dl.appendChild(el("dd", null, facts[i][1]));
  }
  var contracts = $("conv-contracts");
  clear(contracts);
  var list = isObject(d.customer) && Array.isArray(d.customer.contracts) ? d.customer.contracts : [];
  var today = new Date().toISOString().slice(0, 10);
  for (var j = 0; j < list.length; j++) {
    var c = list[j];
    if (!isObject(c)) continue;
    var valid = str(c.starts_on) <= today && today <= str(c.ends_on);
    var li = el("li", "contract " + (valid ? "contract-valid" : "contract-expired"));
    li.appendChild(el("span", "contract-kind", "Contrato de " + (CONTRACT_NAMES[c.kind] || c.kind)));
    li.appendChild(
      el("span", "contract-dates", (valid ? "vigente" : "no vigente") + ": " + str(c.starts_on) + " a " + str(c.ends_on))
    );
    contracts.appendChild(li);
  }
  if (isObject(d.customer) && !list.length) contracts.appendChild(el("li", "muted", "Sin contratos."));
  renderTicket(d.ticket);
  renderEvents(conv);
}

export function renderTicket(t) {
  var box = $("conv-ticket");
  clear(box);
  if (!isObject(t)) {
    box.appendChild(el("p", "muted", "Sin tiquete vinculado."));
    return;
  }
  var link = el("a", "conv-ticket-link");
  link.href = "#/tickets/" + encodeURIComponent(str(t.number));
  link.appendChild(el("span", "ticket-number", t.number));
  link.appendChild(priorityBadge(t.priority));
  link.appendChild(el("span", "chip chip-status", STATUS_NAMES[t.status] || t.status));
  box.appendChild(link);
  box.appendChild(el("p", "row-title", t.title));
  var due = el("p", "conv-ticket-due");
  due.appendChild(el("span", null, "Próxima actualización: "));
  due.appendChild(dueNode(t.next_update_due));
  box.appendChild(due);
  tick();
}

export function addEvent(conv, event) {
  if (!conv.detail) return;
  var events = Array.isArray(conv.detail.events) ? conv.detail.events : (conv.detail.events = []);
  for (var i = 0; i < events.length; i++) if (events[i].id === event.id) return;
  events.push(event);
  if (live.current === conv.id) renderEvents(conv);
}

export function renderEvents(conv) {
  var events = conv.detail && Array.isArray(conv.detail.events) ? conv.detail.events : [];
  var notes = $("conv-notes");
  var log = $("conv-log");
  clear(notes);
  clear(log);
  for (var i = 0; i < events.length; i++) {
    var e = events[i];
    if (!isObject(e)) continue;
    var li = el("li", "history-item history-internal");
    li.setAttribute("data-kind", str(e.kind));
    var head = el("p", "history-head");
    head.appendChild(el("span", "history-kind", EVENT_NAMES[e.kind] || e.kind));
    if (e.tier && e.kind !== "note") head.appendChild(el("span", "row-tier", e.tier));
    head.appendChild(el("span", "history-author", authorName(e)));
    head.appendChild(el("span", "history-time", formatDateTime(e.created_at)));
    li.appendChild(head);
    if (e.kind === "rated" && e.value) li.appendChild(el("p", "history-text", "Calificación: " + e.value + "/5"));
    if (e.text) li.appendChild(el("p", "history-text", e.text));
    (e.kind === "note" ? notes : log).appendChild(li);
  }
  if (!notes.children.length) notes.appendChild(el("li", "muted", "Sin notas internas."));
}

/** Staff by name (the log keeps e-mails); the customer and the system in words. */
function authorName(e) {
  if (e.author_name) return str(e.author_name);
  if (e.author === "customer") return "Cliente";
  if (e.author === "system") return "Sistema";
  return str(e.author);
}
