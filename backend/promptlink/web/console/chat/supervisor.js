/*
 * Agent console, live chat, for supervisors: every agent's presence and load, and the
 * tickets whose update to the customer is overdue.
 */
import { $, api, clear, dueNode, el, isObject, plural, priorityBadge, str, tick } from "../core.js";
import { TEXT } from "../labels.js";
import { isSupervisor, live, PRESENCE_NAMES } from "./state.js";

// ------------------------------------------------------- supervisors

export function loadAgents() {
  if (!isSupervisor()) return;
  api("GET", "/agents").then(
    function (data) {
      live.agents = isObject(data) && Array.isArray(data.agents) ? data.agents.filter(isObject) : [];
      renderAgents();
    },
    function () {
      /* keep the last list */
    }
  );
}

export function renderAgents() {
  var body = $("agents-list");
  clear(body);
  for (var i = 0; i < live.agents.length; i++) {
    var a = live.agents[i];
    var tr = el("tr", "agent-row");
    tr.setAttribute("data-agent-id", str(a.id));
    tr.setAttribute("data-presence", str(a.presence));
    var name = el("td", "agent-name", a.name);
    if (a.on_call) name.appendChild(el("span", "chip", "De guardia"));
    tr.appendChild(name);
    tr.appendChild(el("td", null, Array.isArray(a.tiers) ? a.tiers.join(", ") : ""));
    var presence = el("td", "agent-presence");
    presence.appendChild(el("span", "presence-dot presence-" + str(a.presence), PRESENCE_NAMES[a.presence] || a.presence));
    tr.appendChild(presence);
    tr.appendChild(el("td", "agent-load", str(a.active_chats) + " / " + str(a.capacity)));
    body.appendChild(tr);
  }
}

export function loadBreaches() {
  if (!isSupervisor()) return;
  api("GET", "/queues").then(
    function (data) {
      var list = $("breaches-list");
      clear(list);
      var now = Date.now();
      var count = 0;
      var queues = isObject(data) && Array.isArray(data.queues) ? data.queues : [];
      for (var i = 0; i < queues.length; i++) {
        var tickets = isObject(queues[i]) && Array.isArray(queues[i].tickets) ? queues[i].tickets : [];
        for (var j = 0; j < tickets.length; j++) {
          var t = tickets[j];
          if (!isObject(t) || !t.next_update_due || Date.parse(t.next_update_due) >= now) continue;
          count++;
          var li = el("li", "breach-row");
          var link = el("a", "ticket-link");
          link.href = "#/tickets/" + encodeURIComponent(str(t.number));
          link.appendChild(el("span", "ticket-number", t.number));
          link.appendChild(priorityBadge(t.priority));
          link.appendChild(el("span", "row-tier", t.tier));
          link.appendChild(el("span", "row-title", t.title));
          link.appendChild(dueNode(t.next_update_due));
          li.appendChild(link);
          list.appendChild(li);
        }
      }
      $("breaches-summary").textContent = count
        ? plural(count, "tiquete con la actualización vencida", "tiquetes con la actualización vencida") + "."
        : "Ningún tiquete tiene la actualización vencida.";
      tick();
    },
    function () {
      $("breaches-summary").textContent = TEXT.server;
    }
  );
}
