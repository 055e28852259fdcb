/*
 * Agent console: the queues per tier (live countdowns, overdue rows) and the search box.
 */
import {
  $,
  api,
  clear,
  dueNode,
  el,
  formatClock,
  isObject,
  plural,
  priorityBadge,
  showBanner,
  state,
  str,
  tick,
} from "./core.js";
import { OPEN_STATUSES, STATUS_NAMES, TEXT, TIER_NAMES } from "./labels.js";

function assigneeText(t) {
  if (!t.assignee_id) return TEXT.unassigned;
  if (state.myTickets[t.number]) return TEXT.assignedToMe;
  var name = state.agentNames[t.assignee_id];
  return name ? "Asignado a " + name : TEXT.assignedOther;
}

function ticketRow(t) {
  var row = el("li", "ticket-row");
  row.setAttribute("data-number", str(t.number));
  row.setAttribute("data-priority", str(t.priority));
  var link = el("a", "ticket-link");
  link.href = "#/tickets/" + encodeURIComponent(str(t.number));

  var top = el("span", "row-top");
  top.appendChild(el("span", "ticket-number", t.number));
  top.appendChild(priorityBadge(t.priority));
  top.appendChild(el("span", "chip chip-status", STATUS_NAMES[t.status] || t.status));
  var flag = el("span", "overdue-flag", "⚠ " + TEXT.overdue);
  flag.hidden = true;
  top.appendChild(flag);
  link.appendChild(top);

  link.appendChild(el("span", "row-title", t.title));

  var meta = el("span", "row-meta");
  meta.appendChild(el("span", "row-customer", t.customer_name || t.customer || "Cliente sin verificar"));
  meta.appendChild(el("span", "row-assignee", assigneeText(t)));
  if (t.tier) meta.appendChild(el("span", "row-tier", t.tier));
  link.appendChild(meta);

  var due = el("span", "row-due");
  due.appendChild(dueNode(t.next_update_due));
  link.appendChild(due);

  row.appendChild(link);
  return row;
}

function queueSection(q) {
  var section = el("section", "queue card");
  section.setAttribute("data-tier", str(q.tier));
  section.setAttribute("data-total", str(q.total));
  var head = el("div", "queue-head");
  var title = el("h2", null, str(q.tier) + " · " + (TIER_NAMES[q.tier] || q.tier));
  title.id = "queue-title-" + str(q.tier);
  section.setAttribute("aria-labelledby", title.id);
  head.appendChild(title);
  head.appendChild(el("p", "queue-summary")); // filled by tick(): counts overdue rows as they turn
  section.appendChild(head);
  var tickets = Array.isArray(q.tickets) ? q.tickets : [];
  if (!tickets.length) {
    section.appendChild(el("p", "muted empty", TEXT.emptyQueue));
    return section;
  }
  var list = el("ul", "ticket-list");
  for (var j = 0; j < tickets.length; j++) {
    if (isObject(tickets[j])) list.appendChild(ticketRow(tickets[j]));
  }
  section.appendChild(list);
  if (Number(q.total) > tickets.length) {
    section.appendChild(el("p", "muted", "Se muestran " + tickets.length + " de " + q.total + "."));
  }
  return section;
}

function renderQueues(data) {
  var box = $("queues");
  clear(box);
  var queues = isObject(data) && Array.isArray(data.queues) ? data.queues : [];
  for (var i = 0; i < queues.length; i++) {
    if (isObject(queues[i])) box.appendChild(queueSection(queues[i]));
  }
  if (!queues.length) box.appendChild(el("p", "muted", "No trabaja en ningún nivel de soporte."));
  tick();
}

/** Reload the queues (on entry and every 15 s); assignments of mine come from `mine=1`. */
export function loadQueues() {
  if (state.queuesBusy) return;
  state.queuesBusy = true;
  var mine = api("GET", "/tickets?mine=1&limit=200&status=" + OPEN_STATUSES).then(
    function (data) {
      var map = {};
      var items = isObject(data) && Array.isArray(data.items) ? data.items : [];
      for (var i = 0; i < items.length; i++) map[items[i].number] = true;
      state.myTickets = map;
    },
    function () {
      /* the queues still render; assignees show as «otro agente» */
    }
  );
  Promise.all([api("GET", "/queues"), mine])
    .then(
      function (results) {
        if (state.view !== "queues") return;
        renderQueues(results[0]);
        $("queues-updated").textContent = "Actualizado a las " + formatClock(new Date()) + " · se actualiza cada 15 s";
        showBanner("");
      },
      function (err) {
        if (err.status !== 401) showBanner(err.message);
      }
    )
    .then(function () {
      state.queuesBusy = false;
    });
}

function onSearch(event) {
  event.preventDefault();
  var q = $("search-q").value.trim();
  var results = $("search-results");
  var list = $("search-list");
  if (!q) {
    onSearchClear();
    return;
  }
  $("search-summary").textContent = TEXT.loading;
  results.hidden = false;
  $("search-clear").hidden = false;
  api("GET", "/tickets?limit=50&q=" + encodeURIComponent(q)).then(
    function (data) {
      clear(list);
      var items = isObject(data) && Array.isArray(data.items) ? data.items : [];
      var total = isObject(data) ? Number(data.total) || items.length : items.length;
      $("search-summary").textContent = items.length
        ? plural(total, "tiquete encontrado", "tiquetes encontrados") + " para «" + q + "»."
        : "Ningún tiquete coincide con «" + q + "».";
      for (var i = 0; i < items.length; i++) list.appendChild(ticketRow(items[i]));
      tick();
    },
    function (err) {
      clear(list);
      $("search-summary").textContent = err.message;
    }
  );
}

function onSearchClear() {
  $("search-q").value = "";
  clear($("search-list"));
  $("search-results").hidden = true;
  $("search-clear").hidden = true;
  $("search-q").focus();
}

/** Attach the search box's handlers once, at start-up. */
export function wireSearch() {
  $("search-form").addEventListener("submit", onSearch);
  $("search-clear").addEventListener("click", onSearchClear);
}
