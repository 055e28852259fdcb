/*
 * Agent console, live chat: the agent's presence, «Mis conversaciones» (unread counts) and the
 * chat queues of the agent's levels, with live waiting times and «Tomar».
 */
import { $, api, clear, el, formatDateTime, isObject, plural, priorityBadge, state, str, tick } from "../core.js";
import { onQueues } from "./alerts.js";
import { TEXT, TIER_NAMES } from "../labels.js";
import { loadDetail, renderConv, showConvError } from "./conversation.js";
import {
  ACK_TIMEOUT_MS,
  convPath,
  customerTitle,
  getConv,
  isSupervisor,
  live,
  LT,
  PRESENCE_NAMES,
  waitText,
  worksTier,
} from "./state.js";
import { loadAgents } from "./supervisor.js";

// --------------------------------------------------------------- presence

export function renderPresence() {
  var me = live.me;
  if (!me) return;
  $("presence-box").hidden = false;
  $("presence-select").value = me.presence;
  $("presence-select").setAttribute("data-presence", me.presence);
  $("presence-load").textContent =
    PRESENCE_NAMES[me.presence] + " · " + live.myChats.length + " de " + me.capacity + " chats";
}

export function onPresenceChange() {
  var select = $("presence-select");
  var wanted = select.value;
  var error = $("presence-error");
  error.hidden = true;
  if (!live.socket || !live.socket.connected) {
    error.textContent = LT.offline;
    error.hidden = false;
    if (live.me) select.value = live.me.presence;
    return;
  }
  select.disabled = true;
  live.socket.timeout(ACK_TIMEOUT_MS).emit("presence", { presence: wanted }, function (err, resp) {
    select.disabled = false;
    if (err || !isObject(resp) || resp.error) {
      error.textContent = err ? LT.offline : isObject(resp) ? str(resp.error) : TEXT.unexpected;
      error.hidden = false;
      if (live.me) select.value = live.me.presence;
      return;
    }
    if (live.me) live.me.presence = str(resp.presence) || wanted;
    renderPresence();
    if (isSupervisor()) loadAgents();
  });
}

// ------------------------------------------------------------ my chats

export function loadMyChats() {
  return api("GET", "/conversations").then(
    function (data) {
      live.myChats = isObject(data) && Array.isArray(data.conversations) ? data.conversations.filter(isObject) : [];
      renderMyChats();
      renderPresence();
    },
    function () {
      /* the list stays as it was; the socket's next `chats` retries */
    }
  );
}

// Own chats are followed from the start (their rooms are joined on connect): unread counts.
export function followMyChats() {
  for (var i = 0; i < live.myChats.length; i++) {
    var s = live.myChats[i];
    var conv = getConv(str(s.conversation_id));
    if (!conv.summary || conv.summary.mode !== s.mode) conv.summary = s;
  }
}

export function renderMyChats() {
  followMyChats();
  var list = $("my-chats");
  clear(list);
  for (var i = 0; i < live.myChats.length; i++) {
    var s = live.myChats[i];
    var id = str(s.conversation_id);
    var li = el("li", "chat-item");
    li.setAttribute("data-conversation-id", id);
    if (live.current === id) li.classList.add("chat-item-current");
    var link = el("a", "chat-link");
    link.href = "#/chats/" + encodeURIComponent(id);
    link.appendChild(el("span", "chat-who", customerTitle(s)));
    var meta = el("span", "chat-meta", str(s.tier) + (s.ticket ? " · " + s.ticket : ""));
    link.appendChild(meta);
    var conv = live.convs[id];
    if (conv && conv.unread && live.current !== id) {
      link.appendChild(el("span", "chat-unread", plural(conv.unread, "nuevo", "nuevos")));
    }
    li.appendChild(link);
    list.appendChild(li);
  }
  $("my-chats-empty").hidden = live.myChats.length > 0;
}

// ---------------------------------------------------------- chat queues

export function loadChatQueues() {
  if (!state.me) return;
  api("GET", "/queues/chats").then(
    function (data) {
      if (isObject(data) && data.now) {
        var serverNow = Date.parse(data.now);
        if (!isNaN(serverNow)) live.offset = serverNow - Date.now();
      }
      live.queues = isObject(data) && Array.isArray(data.queues) ? data.queues.filter(isObject) : [];
      renderChatQueues();
      onQueues(live.queues);
      tick();
    },
    function (err) {
      if (err.status !== 401) showQueueMsg(err.message);
    }
  );
}

export function showQueueMsg(text) {
  var box = $("chat-queues-msg");
  box.textContent = text || "";
  box.hidden = !text;
}

export function renderChatQueues() {
  var box = $("chat-queues");
  clear(box);
  for (var i = 0; i < live.queues.length; i++) {
    var q = live.queues[i];
    var tier = str(q.tier);
    var section = el("section", "chat-queue");
    section.setAttribute("data-tier", tier);
    var items = Array.isArray(q.conversations) ? q.conversations.filter(isObject) : [];
    section.appendChild(el("h3", null, tier + " · " + (TIER_NAMES[tier] || tier) + " (" + items.length + ")"));
    if (!items.length) {
      section.appendChild(el("p", "muted empty", LT.emptyChatQueue));
    } else {
      var list = el("ul", "chat-list");
      for (var j = 0; j < items.length; j++) list.appendChild(queueRow(items[j]));
      section.appendChild(list);
    }
    box.appendChild(section);
  }
  if (!live.queues.length) box.appendChild(el("p", "muted", "No trabaja en ningún nivel de soporte."));
  tickWaits();
}

export function queueRow(c) {
  var id = str(c.conversation_id);
  var li = el("li", "chat-queue-row");
  li.setAttribute("data-conversation-id", id);
  var p1 = Number(c.priority) === 1;
  if (p1) li.classList.add("chat-queue-row-p1");
  if (c.priority) li.setAttribute("data-priority", str(c.priority));
  var top = el("div", "row-top");
  top.appendChild(el("span", "chat-position", "#" + str(c.position)));
  if (c.priority) top.appendChild(priorityBadge(c.priority));
  top.appendChild(el("span", "chat-who", customerTitle(c)));
  var wait = el("span", "chat-wait");
  wait.setAttribute("data-since", str(c.queued_at));
  wait.title = "En espera desde " + formatDateTime(c.queued_at);
  top.appendChild(wait);
  li.appendChild(top);
  var meta = el("div", "row-meta");
  if (c.ticket) {
    var ticket = el("a", "chat-ticket", c.ticket);
    ticket.href = "#/tickets/" + encodeURIComponent(str(c.ticket));
    meta.appendChild(ticket);
  }
  if (c.reason) meta.appendChild(el("span", "chat-reason", "Motivo: " + str(c.reason)));
  li.appendChild(meta);
  // Two chats of one contact read alike: the customer's last words tell them apart (text, never markup).
  if (c.last_message) li.appendChild(el("p", "chat-preview", "«" + str(c.last_message) + "»"));
  var buttons = el("div", "chat-buttons");
  if (worksTier(str(c.tier))) {
    var take = el("button", "button button-primary chat-claim", "Tomar");
    take.type = "button";
    take.addEventListener("click", function () {
      claim(id, take);
    });
    buttons.appendChild(take);
  }
  var view = el("a", "button button-quiet chat-view", "Ver");
  view.href = "#/chats/" + encodeURIComponent(id);
  buttons.appendChild(view);
  li.appendChild(buttons);
  return li;
}

export function tickWaits() {
  var now = Date.now() + live.offset;
  var nodes = document.querySelectorAll("[data-since]");
  for (var i = 0; i < nodes.length; i++) {
    var since = Date.parse(nodes[i].getAttribute("data-since"));
    if (isNaN(since)) continue;
    var text = "Espera " + waitText(now - since);
    if (nodes[i].textContent !== text) nodes[i].textContent = text;
  }
}

export function claim(id, button) {
  if (button) button.disabled = true;
  showQueueMsg("");
  api("POST", convPath(id) + "/claim", {}).then(
    function (summary) {
      var conv = getConv(id);
      if (isObject(summary)) conv.summary = summary;
      loadMyChats();
      loadChatQueues();
      if (live.current === id) {
        renderConv(conv);
        loadDetail(conv, true);
      } else {
        window.location.hash = "#/chats/" + encodeURIComponent(id);
      }
    },
    function (err) {
      if (button) button.disabled = false;
      if (live.current === id) showConvError(err.message);
      else showQueueMsg(err.message);
      loadChatQueues();
    }
  );
}
