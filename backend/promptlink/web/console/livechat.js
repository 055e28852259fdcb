/*
 * Agent console: live chat — presence, chat queues, «Mis conversaciones», one conversation
 * (transcript, customer, contracts, ticket, internal notes, reply box, transfer / hand back /
 * close) and, for supervisors, every agent's load and the overdue tickets.
 *
 * Talks to the socket.io namespace /agent (global `io`, served at
 * /webchat/vendor/socket.io.min.js; authenticated by the pl_session cookie) and to the REST
 * calls under /api/v1/conversations, /queues/chats and /agents. See docs/chat-protocol.md.
 *
 * Replies: kept until acknowledged, sent one at a time, re-sent after a reconnect with the
 * same client_msg_id (the server stores a repeated id once). Messages render by `seq`;
 * a seq already shown is ignored.
 *
 * Security: every piece of server or user text goes through textContent. No innerHTML.
 */
import {
  $,
  api,
  clear,
  dueNode,
  el,
  formatDateTime,
  formMessage,
  isObject,
  missing,
  onSubmit,
  plural,
  priorityBadge,
  randomId,
  setBusy,
  state,
  str,
  tick,
} from "./core.js";
import { STATUS_NAMES, TEXT, TIER_NAMES } from "./labels.js";

var ACK_TIMEOUT_MS = 10000;
var RETRY_MS = 2000;
var TYPING_IDLE_MS = 2500;
var CUSTOMER_TYPING_MAX_MS = 15000;
var MAX_REPLY = 2000;

var PRESENCE_NAMES = { online: "Conectado", away: "Ausente", offline: "Desconectado" };
var MODE_NAMES = { bot: "Con el asistente", queued: "En cola", human: "Con un especialista", closed: "Cerrada" };
var ROLE_LABELS = { customer: "Cliente", bot: "Asistente", agent: "Agente", system: "Sistema" };
var CONTRACT_NAMES = { software: "Software", hardware: "Hardware" };
var EVENT_NAMES = {
  queued: "En cola",
  offered: "Ofrecida",
  claimed: "Tomada",
  transferred: "Transferida",
  handed_back: "Devuelta al asistente",
  closed: "Cerrada",
  rated: "Calificada",
  no_agents: "Sin especialistas conectados",
  note: "Nota interna",
};
var LT = {
  connecting: "Conectando…",
  online: "Chat en vivo conectado",
  offline: "Chat en vivo sin conexión. Reintentando…",
  sending: "Enviando…",
  unconfirmed: "Sin confirmar; se reenviará al reconectar.",
  retrying: "Reintentando…",
  failed: "No enviado",
  customerTyping: "El cliente está escribiendo…",
  noChats: "No atiende ninguna conversación.",
  emptyChatQueue: "No hay chats en espera.",
  unverified: "Visitante sin verificar",
  gone: "Ya no tiene acceso a esta conversación.",
  chooseTier: "Elija el nivel de destino.",
  reasonRequired: "Indique el motivo de la transferencia.",
  resolutionRequired: "Indique la resolución de la conversación.",
  noteRequired: "Escriba la nota antes de guardarla.",
  tooLong: "La respuesta supera el máximo de " + MAX_REPLY + " caracteres.",
};

var live = {
  socket: null,
  wired: false,
  me: null, // hello.agent {id, name, email, role, tiers, presence, capacity}
  myChats: [],
  queues: [],
  agents: [],
  offset: 0, // server clock - browser clock, ms
  convs: {}, // conversation id -> conv (watched conversations)
  current: null,
  gen: 0, // connection generation: stale acks are ignored
  typingOn: false,
  typingConv: null,
  typingTimer: null,
  tickTimer: null,
  reloadTimers: {},
};

// ---------------------------------------------------------------- helpers

function isSupervisor() {
  var role = live.me ? live.me.role : state.me ? state.me.role : "";
  return role === "supervisor" || role === "admin";
}

function myTiers() {
  if (live.me && Array.isArray(live.me.tiers)) return live.me.tiers;
  return state.me && Array.isArray(state.me.tiers) ? state.me.tiers : [];
}

function worksTier(tier) {
  var role = live.me ? live.me.role : state.me ? state.me.role : "";
  return role !== "admin" && myTiers().indexOf(tier) !== -1;
}

function convPath(id) {
  return "/conversations/" + encodeURIComponent(id);
}

function waitText(ms) {
  var s = Math.max(0, Math.floor(ms / 1000));
  var h = Math.floor(s / 3600);
  var m = Math.floor((s % 3600) / 60);
  var sec = s % 60;
  if (h > 0) return h + " h " + m + " min";
  if (m > 0) return m + " min " + sec + " s";
  return sec + " s";
}

function later(key, fn, ms) {
  if (live.reloadTimers[key]) return;
  live.reloadTimers[key] = window.setTimeout(function () {
    live.reloadTimers[key] = null;
    fn();
  }, ms);
}

function customerTitle(s) {
  var who = s.customer_name || s.customer || LT.unverified;
  return s.name ? who + " · " + s.name : who;
}

function getConv(id) {
  var conv = live.convs[id];
  if (!conv) {
    conv = live.convs[id] = {
      id: id,
      summary: null,
      detail: null,
      messages: {}, // seq -> message
      lastSeq: 0,
      pending: [], // [{client_msg_id, text, sent, status, el}]
      inflight: null,
      customerTyping: false,
      typingTimer: null,
      unread: 0,
      gone: false,
    };
  }
  return conv;
}

function canAct(conv) {
  var s = conv.summary;
  if (!s || s.mode !== "human" || !live.me) return false;
  return s.agent_id === live.me.id || isSupervisor();
}

// ---------------------------------------------------------------- socket

function connect() {
  if (live.socket || typeof window.io !== "function") {
    if (typeof window.io !== "function") setLiveStatus("offline", LT.offline);
    return;
  }
  var socket = window.io("/agent", { transports: ["websocket", "polling"], tryAllTransports: true });
  live.socket = socket;
  setLiveStatus("connecting", LT.connecting);

  socket.on("connect", function () {
    live.gen++;
    setLiveStatus("online", LT.online);
    for (var id in live.convs) {
      if (!Object.prototype.hasOwnProperty.call(live.convs, id)) continue;
      var conv = live.convs[id];
      conv.inflight = null;
      for (var i = 0; i < conv.pending.length; i++) conv.pending[i].sent = false;
      watch(conv);
    }
    loadChatQueues();
  });
  socket.on("disconnect", function () {
    setLiveStatus("offline", LT.offline);
    stopTyping();
    for (var id in live.convs) {
      if (!Object.prototype.hasOwnProperty.call(live.convs, id)) continue;
      var conv = live.convs[id];
      for (var i = 0; i < conv.pending.length; i++) {
        if (conv.pending[i].status === "sending") markPending(conv.pending[i], "unconfirmed", LT.unconfirmed);
      }
      conv.inflight = null;
      showCustomerTyping(conv, false);
    }
  });
  socket.on("connect_error", function (err) {
    // Refused by the server (no session): its message is Spanish. Otherwise socket.io retries.
    setLiveStatus("offline", !socket.active && err && err.message ? String(err.message) : LT.offline);
  });
  socket.on("hello", onHello);
  socket.on("message", function (data) {
    if (isObject(data)) onMessage(str(data.conversation_id), data);
  });
  socket.on("typing", function (data) {
    if (!isObject(data) || data.role !== "customer") return;
    var conv = live.convs[str(data.conversation_id)];
    if (conv) showCustomerTyping(conv, data.on === true);
  });
  socket.on("conversation", function (data) {
    if (!isObject(data)) return;
    var conv = live.convs[str(data.conversation_id)];
    if (!conv) return;
    conv.summary = data;
    if (live.current === conv.id) {
      renderConvHead(conv);
      later("detail", function () {
        if (live.current === conv.id) loadDetail(conv, true);
      }, 300);
    }
  });
  socket.on("note", function (data) {
    if (!isObject(data)) return;
    var conv = live.convs[str(data.conversation_id)];
    if (conv) addEvent(conv, data);
  });
  socket.on("queues", function () {
    later("queues", loadChatQueues, 200);
  });
  socket.on("agents", function () {
    if (isSupervisor()) later("agents", loadAgents, 200);
  });
  socket.on("chats", function () {
    later("chats", loadMyChats, 150);
  });
  socket.on("assigned", function (data) {
    if (!isObject(data) || !data.conversation_id) return;
    loadMyChats();
    window.location.hash = "#/chats/" + encodeURIComponent(str(data.conversation_id));
  });
}

function setLiveStatus(kind, text) {
  var node = $("live-status");
  node.setAttribute("data-state", kind);
  node.textContent = text;
}

function onHello(data) {
  if (!isObject(data) || !isObject(data.agent)) return;
  live.me = {
    id: data.agent.id,
    name: str(data.agent.name),
    email: str(data.agent.email),
    role: str(data.agent.role),
    tiers: Array.isArray(data.agent.tiers) ? data.agent.tiers.map(String) : [],
    presence: str(data.agent.presence) || "offline",
    capacity: Number(data.agent.capacity) || 0,
  };
  live.myChats = Array.isArray(data.chats) ? data.chats.filter(isObject) : [];
  renderPresence();
  renderMyChats();
  $("agents-card").hidden = !isSupervisor();
  $("breaches-card").hidden = !isSupervisor();
  if (state.view === "chats") {
    if (isSupervisor()) {
      loadAgents();
      loadBreaches();
    }
    if (live.current) renderConv(getConv(live.current));
  }
}

function watch(conv) {
  if (!live.socket || !live.socket.connected) return;
  var gen = live.gen;
  live.socket.emit("watch", { conversation_id: conv.id, last_seq: conv.lastSeq }, function (resp) {
    if (gen !== live.gen || !isObject(resp)) return;
    if (resp.error) {
      if (live.current === conv.id && !conv.detail) showConvError(String(resp.error));
      return;
    }
    if (isObject(resp.conversation)) {
      conv.summary = resp.conversation;
      if (live.current === conv.id) renderConvHead(conv);
    }
    flush(conv);
  });
}

// --------------------------------------------------------------- presence

function renderPresence() {
  var me = live.me;
  if (!me) return;
  $("presence-box").hidden = false;
  $("presence-select").value = me.presence;
  $("presence-select").setAttribute("data-presence", me.presence);
  $("presence-load").textContent =
    PRESENCE_NAMES[me.presence] + " · " + live.myChats.length + " de " + me.capacity + " chats";
  var count = $("nav-chat-count");
  count.textContent = String(live.myChats.length);
  count.hidden = !live.myChats.length;
}

function onPresenceChange() {
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

function loadMyChats() {
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
function followMyChats() {
  for (var i = 0; i < live.myChats.length; i++) {
    var s = live.myChats[i];
    var conv = getConv(str(s.conversation_id));
    if (!conv.summary || conv.summary.mode !== s.mode) conv.summary = s;
  }
}

function renderMyChats() {
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
    },
    function (err) {
      if (err.status !== 401) showQueueMsg(err.message);
    }
  );
}

function showQueueMsg(text) {
  var box = $("chat-queues-msg");
  box.textContent = text || "";
  box.hidden = !text;
}

function renderChatQueues() {
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

function queueRow(c) {
  var id = str(c.conversation_id);
  var li = el("li", "chat-queue-row");
  li.setAttribute("data-conversation-id", id);
  var top = el("div", "row-top");
  top.appendChild(el("span", "chat-position", "#" + str(c.position)));
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

function tickWaits() {
  var now = Date.now() + live.offset;
  var nodes = document.querySelectorAll("[data-since]");
  for (var i = 0; i < nodes.length; i++) {
    var since = Date.parse(nodes[i].getAttribute("data-since"));
    if (isNaN(since)) continue;
    var text = "Espera " + waitText(now - since);
    if (nodes[i].textContent !== text) nodes[i].textContent = text;
  }
}

function claim(id, button) {
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

// ------------------------------------------------------- supervisors

function loadAgents() {
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

function renderAgents() {
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

function loadBreaches() {
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

// ------------------------------------------------------ one conversation

function showConvError(text) {
  var box = $("conv-error");
  box.textContent = text || "";
  box.hidden = !text;
}

function openConversation(id) {
  var changed = live.current !== id;
  stopTyping();
  live.current = id;
  var conv = getConv(id);
  conv.unread = 0;
  $("conv-empty").hidden = true;
  $("conv-body").hidden = false;
  if (changed) {
    showConvError("");
    var forms = ["reply-form", "transfer-form", "close-form", "conv-note-form"];
    for (var i = 0; i < forms.length; i++) {
      $(forms[i]).reset();
      formMessage($(forms[i]), "");
    }
    formMessage($("conv-actions"), "");
  }
  renderConv(conv);
  renderMyChats();
  loadDetail(conv, false, changed);
}

function loadDetail(conv, quiet, focus) {
  return api("GET", convPath(conv.id)).then(
    function (data) {
      if (!isObject(data)) return;
      conv.gone = false;
      conv.detail = data;
      if (isObject(data.conversation)) conv.summary = data.conversation;
      var messages = Array.isArray(data.messages) ? data.messages : [];
      for (var i = 0; i < messages.length; i++) storeMessage(conv, messages[i]);
      if (live.current === conv.id) {
        showConvError("");
        renderConv(conv);
        if (focus) $("conv-title").focus();
      }
      watch(conv);
    },
    function (err) {
      if (err.status === 401) return;
      if (err.status === 403 || err.status === 404) conv.gone = true;
      if (live.current !== conv.id) return;
      showConvError(err.status === 403 ? LT.gone : err.message);
      if (!quiet || conv.gone) renderConv(conv);
    }
  );
}

function storeMessage(conv, m) {
  if (!isObject(m)) return false;
  var seq = Number(m.seq);
  if (!(seq > 0) || Math.floor(seq) !== seq) return false;
  var known = conv.messages[seq];
  if (known) {
    if (m.intent && !known.intent) {
      known.intent = m.intent;
      known.confidence = m.confidence;
    }
    return false;
  }
  conv.messages[seq] = {
    seq: seq,
    role: ROLE_LABELS[m.role] ? m.role : "system",
    text: str(m.text),
    author_name: m.author_name ? str(m.author_name) : null,
    created_at: m.created_at || null,
    intent: m.intent ? str(m.intent) : null,
    confidence: typeof m.confidence === "number" ? m.confidence : null,
  };
  if (seq > conv.lastSeq) conv.lastSeq = seq;
  return true;
}

function onMessage(id, data) {
  var conv = live.convs[id];
  if (!conv) return;
  if (!storeMessage(conv, data)) return;
  var m = conv.messages[Number(data.seq)];
  if (m.role === "customer") showCustomerTyping(conv, false);
  if (m.role === "agent" && conv.inflight) {
    // Our own reply may arrive before its ack: hide the pending copy (the ack settles it).
    var p = findPending(conv, conv.inflight);
    if (p && p.text.trim() === m.text && p.el && p.el.parentNode) p.el.parentNode.removeChild(p.el);
  }
  if (live.current === id && state.view === "chats") {
    insertMessageEl(messageEl(m));
  } else if (m.role === "customer") {
    conv.unread++;
    renderMyChats();
  }
}

function renderConv(conv) {
  if (live.current !== conv.id) return;
  renderConvHead(conv);
  var list = $("conv-messages");
  clear(list);
  var seqs = Object.keys(conv.messages)
    .map(Number)
    .sort(function (a, b) {
      return a - b;
    });
  for (var i = 0; i < seqs.length; i++) list.appendChild(messageEl(conv.messages[seqs[i]]));
  for (var j = 0; j < conv.pending.length; j++) {
    var p = conv.pending[j];
    if (!p.el) p.el = pendingEl(p);
    list.appendChild(p.el);
  }
  list.scrollTop = list.scrollHeight;
  $("conv-typing").hidden = !conv.customerTyping;
  renderInfo(conv);
}

function renderConvHead(conv) {
  if (live.current !== conv.id) return;
  var s = conv.summary || {};
  $("conv-title").textContent = conv.summary ? customerTitle(s) : TEXT.loading;
  var text = MODE_NAMES[s.mode] || "";
  if (s.mode === "queued") text += " de " + str(s.tier) + (s.queued_at ? " desde " + formatDateTime(s.queued_at) : "");
  if (s.mode === "human") text += ": " + str(s.agent_name) + " (" + str(s.tier) + ")";
  if (s.mode === "closed") {
    if (s.resolution) text += " · Resolución: " + str(s.resolution);
    if (s.rating) text += " · Calificación: " + s.rating + "/5";
    if (s.rating_comment) text += " («" + str(s.rating_comment) + "»)";
  }
  var stateNode = $("conv-state");
  stateNode.textContent = text;
  stateNode.setAttribute("data-mode", str(s.mode));
  var act = canAct(conv) && !conv.gone;
  var form = $("reply-form");
  form.hidden = !act;
  $("conv-hand-back").hidden = !act;
  $("transfer-form").hidden = !act;
  $("close-form").hidden = !act;
  $("conv-claim").hidden = !(s.mode === "queued" && worksTier(str(s.tier))) || conv.gone;
  $("conv-note-form").hidden = conv.gone;
  if (!act && live.typingConv === conv.id) stopTyping();
}

function messageEl(m) {
  var li = el("li", "cmsg cmsg-" + m.role);
  li.setAttribute("data-seq", String(m.seq));
  li.setAttribute("data-role", m.role);
  var head = el("p", "cmsg-head");
  var author = m.role === "agent" && m.author_name ? m.author_name : ROLE_LABELS[m.role];
  head.appendChild(el("span", "cmsg-author", author));
  head.appendChild(el("span", "cmsg-time", formatDateTime(m.created_at)));
  li.appendChild(head);
  li.appendChild(el("p", "cmsg-text", m.text));
  if (m.role === "customer" && m.intent) {
    var parse = "intención: " + m.intent;
    if (typeof m.confidence === "number") parse += " (" + Math.round(m.confidence * 100) + " %)";
    li.appendChild(el("p", "cmsg-parse", parse));
  }
  return li;
}

function insertMessageEl(li) {
  var list = $("conv-messages");
  var stick = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  var seq = Number(li.getAttribute("data-seq"));
  var children = list.children;
  var before = null;
  for (var i = 0; i < children.length; i++) {
    var other = children[i].getAttribute("data-seq");
    if (other === null || Number(other) > seq) {
      before = children[i];
      break;
    }
  }
  list.insertBefore(li, before);
  if (stick) list.scrollTop = list.scrollHeight;
}

function renderInfo(conv) {
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

function renderTicket(t) {
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

function addEvent(conv, event) {
  if (!conv.detail) return;
  var events = Array.isArray(conv.detail.events) ? conv.detail.events : (conv.detail.events = []);
  for (var i = 0; i < events.length; i++) if (events[i].id === event.id) return;
  events.push(event);
  if (live.current === conv.id) renderEvents(conv);
}

function renderEvents(conv) {
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
    head.appendChild(el("span", "history-author", e.author));
    head.appendChild(el("span", "history-time", formatDateTime(e.created_at)));
    li.appendChild(head);
    if (e.kind === "rated" && e.value) li.appendChild(el("p", "history-text", "Calificación: " + e.value + "/5"));
    if (e.text) li.appendChild(el("p", "history-text", e.text));
    (e.kind === "note" ? notes : log).appendChild(li);
  }
  if (!notes.children.length) notes.appendChild(el("li", "muted", "Sin notas internas."));
}

function showCustomerTyping(conv, on) {
  conv.customerTyping = on;
  if (conv.typingTimer) window.clearTimeout(conv.typingTimer);
  conv.typingTimer = null;
  if (on) {
    // Safety net: a lost «off» never leaves the indicator on.
    conv.typingTimer = window.setTimeout(function () {
      showCustomerTyping(conv, false);
    }, CUSTOMER_TYPING_MAX_MS);
  }
  if (live.current === conv.id) $("conv-typing").hidden = !on;
}

// ------------------------------------------------------------ replies

function findPending(conv, id) {
  for (var i = 0; i < conv.pending.length; i++) if (conv.pending[i].client_msg_id === id) return conv.pending[i];
  return null;
}

function pendingEl(p) {
  var li = el("li", "cmsg cmsg-agent cmsg-pending");
  li.setAttribute("data-pending", "true");
  li.setAttribute("data-client-msg-id", p.client_msg_id);
  var head = el("p", "cmsg-head");
  head.appendChild(el("span", "cmsg-author", live.me ? live.me.name : ROLE_LABELS.agent));
  head.appendChild(el("span", "cmsg-status", p.statusText || LT.sending));
  li.appendChild(head);
  li.appendChild(el("p", "cmsg-text", p.text));
  return li;
}

function markPending(p, status, text) {
  p.status = status;
  p.statusText = text;
  if (!p.el) return;
  p.el.setAttribute("data-status", status);
  var node = p.el.querySelector(".cmsg-status");
  if (node) node.textContent = text;
}

function sendReply() {
  var conv = live.current ? live.convs[live.current] : null;
  var form = $("reply-form");
  var input = $("reply-text");
  if (!conv || !canAct(conv)) return;
  var text = input.value;
  if (!text.trim()) {
    input.value = "";
    return;
  }
  if (text.length > MAX_REPLY) {
    formMessage(form, LT.tooLong, true);
    return;
  }
  formMessage(form, "");
  input.value = "";
  stopTyping();
  var p = { client_msg_id: randomId(), text: text, sent: false, status: "sending", statusText: LT.sending, el: null };
  conv.pending.push(p);
  p.el = pendingEl(p);
  $("conv-messages").appendChild(p.el);
  $("conv-messages").scrollTop = $("conv-messages").scrollHeight;
  flush(conv);
  input.focus();
}

// One reply in flight per conversation, in order (the server may handle events concurrently).
function flush(conv) {
  var socket = live.socket;
  if (!socket || !socket.connected || conv.inflight) return;
  var p = null;
  for (var i = 0; i < conv.pending.length; i++) {
    if (!conv.pending[i].sent) {
      p = conv.pending[i];
      break;
    }
  }
  if (!p) return;
  var gen = live.gen;
  p.sent = true;
  conv.inflight = p.client_msg_id;
  markPending(p, "sending", LT.sending);
  socket
    .timeout(ACK_TIMEOUT_MS)
    .emit("message", { conversation_id: conv.id, client_msg_id: p.client_msg_id, text: p.text }, function (err, resp) {
      onReplyAck(conv, p, gen, err, resp);
    });
}

function onReplyAck(conv, p, gen, err, resp) {
  var current = gen === live.gen && conv.inflight === p.client_msg_id;
  if (current) conv.inflight = null;
  if (err || !isObject(resp)) {
    // No answer in time: kept and re-sent after the next reconnect.
    if (findPending(conv, p.client_msg_id)) markPending(p, "unconfirmed", LT.unconfirmed);
    if (current) flush(conv);
    return;
  }
  var seq = Number(resp.seq);
  if (seq > 0) {
    removePending(conv, p);
    if (!conv.messages[seq]) {
      storeMessage(conv, {
        seq: seq,
        role: "agent",
        text: p.text.trim(),
        author_name: live.me ? live.me.name : null,
        created_at: new Date().toISOString(),
      });
      if (live.current === conv.id) insertMessageEl(messageEl(conv.messages[seq]));
    }
  } else if (resp.retry) {
    p.sent = false;
    markPending(p, "retrying", LT.retrying);
    window.setTimeout(function () {
      flush(conv);
    }, RETRY_MS);
    return;
  } else {
    removePending(conv, p, true);
    markPending(p, "failed", LT.failed);
    if (p.el) {
      var error = el("p", "cmsg-error", str(resp.error));
      error.setAttribute("role", "alert");
      p.el.appendChild(error);
    }
  }
  if (current) flush(conv);
}

function removePending(conv, p, keepEl) {
  var i = conv.pending.indexOf(p);
  if (i !== -1) conv.pending.splice(i, 1);
  if (!keepEl && p.el && p.el.parentNode) p.el.parentNode.removeChild(p.el);
}

function onReplyInput() {
  var conv = live.current ? live.convs[live.current] : null;
  if (!conv || !canAct(conv) || !live.socket || !live.socket.connected) return;
  if (!live.typingOn || live.typingConv !== conv.id) {
    stopTyping();
    live.typingOn = true;
    live.typingConv = conv.id;
    live.socket.emit("typing", { conversation_id: conv.id, on: true });
  }
  if (live.typingTimer) window.clearTimeout(live.typingTimer);
  live.typingTimer = window.setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  if (live.typingTimer) window.clearTimeout(live.typingTimer);
  live.typingTimer = null;
  if (live.typingOn && live.socket && live.socket.connected) {
    live.socket.emit("typing", { conversation_id: live.typingConv, on: false });
  }
  live.typingOn = false;
  live.typingConv = null;
}

// ------------------------------------------------------------ actions

function convAction(box, call, okText, after) {
  var conv = live.current ? live.convs[live.current] : null;
  if (!conv || box.getAttribute("aria-busy") === "true") return;
  setBusy(box, true);
  formMessage(box, "");
  call(conv).then(
    function (summary) {
      setBusy(box, false);
      if (isObject(summary) && summary.conversation_id) conv.summary = summary;
      formMessage(box, okText, false);
      if (after) after(conv);
      renderConvHead(conv);
      loadMyChats();
      loadChatQueues();
      loadDetail(conv, true);
    },
    function (err) {
      setBusy(box, false);
      formMessage(box, err.message, true);
    }
  );
}

function wireActions() {
  var reply = $("reply-form");
  onSubmit(reply, sendReply);
  $("reply-text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      sendReply();
    }
  });
  $("reply-text").addEventListener("input", onReplyInput);
  $("reply-text").addEventListener("blur", stopTyping);

  $("presence-select").addEventListener("change", onPresenceChange);

  $("conv-claim").addEventListener("click", function () {
    if (live.current) claim(live.current, $("conv-claim"));
  });

  $("conv-hand-back").addEventListener("click", function () {
    convAction($("conv-actions"), function (conv) {
      return api("POST", convPath(conv.id) + "/hand-back", {});
    }, "Conversación devuelta al asistente.");
  });

  var transfer = $("transfer-form");
  onSubmit(transfer, function (form) {
    var tier = $("transfer-tier").value;
    if (!tier) {
      formMessage(form, LT.chooseTier, true);
      $("transfer-tier").focus();
      return;
    }
    if (missing(form, $("transfer-reason"), LT.reasonRequired)) return;
    var reason = $("transfer-reason").value.trim();
    convAction(
      form,
      function (conv) {
        return api("POST", convPath(conv.id) + "/transfer", { tier: tier, reason: reason });
      },
      "Conversación transferida a " + (TIER_NAMES[tier] || tier) + ".",
      function () {
        form.reset();
      }
    );
  });

  var close = $("close-form");
  onSubmit(close, function (form) {
    if (missing(form, $("close-resolution"), LT.resolutionRequired)) return;
    var resolution = $("close-resolution").value.trim();
    convAction(
      form,
      function (conv) {
        return api("POST", convPath(conv.id) + "/close", { resolution: resolution });
      },
      "Conversación cerrada.",
      function () {
        form.reset();
      }
    );
  });

  var note = $("conv-note-form");
  onSubmit(note, function (form) {
    var conv = live.current ? live.convs[live.current] : null;
    if (!conv || missing(form, $("conv-note-text"), LT.noteRequired)) return;
    var text = $("conv-note-text").value.trim();
    setBusy(form, true);
    api("POST", convPath(conv.id) + "/notes", { text: text }).then(
      function (event) {
        setBusy(form, false);
        $("conv-note-text").value = "";
        formMessage(form, TEXT.noteSaved, false);
        if (isObject(event)) addEvent(conv, event);
      },
      function (err) {
        setBusy(form, false);
        formMessage(form, err.message, true);
      }
    );
  });
}

// ----------------------------------------------------------- lifecycle

/** Signed in as staff: connect the /agent socket (presence, assignments) whatever the view. */
export function startLiveChat() {
  if (!live.wired) {
    wireActions();
    live.wired = true;
  }
  if (!live.tickTimer) live.tickTimer = window.setInterval(tickWaits, 1000);
  connect();
}

/** Signed out: drop the socket and everything known about conversations. */
export function stopLiveChat() {
  stopTyping();
  if (live.socket) {
    live.socket.off();
    live.socket.disconnect();
  }
  if (live.tickTimer) window.clearInterval(live.tickTimer);
  live.socket = null;
  live.tickTimer = null;
  live.me = null;
  live.convs = {};
  live.current = null;
  live.myChats = [];
  live.queues = [];
  $("presence-box").hidden = true;
  $("conv-body").hidden = true;
  $("conv-empty").hidden = false;
  clear($("chat-queues"));
  clear($("my-chats"));
}

/** The «Chat en vivo» view (already visible): lists, and conversation `id` when given. */
export function showChats(id) {
  $("agents-card").hidden = !isSupervisor();
  $("breaches-card").hidden = !isSupervisor();
  loadChatQueues();
  loadMyChats();
  if (isSupervisor()) {
    loadAgents();
    loadBreaches();
  }
  if (id) {
    openConversation(id);
  } else {
    stopTyping();
    live.current = null;
    $("conv-body").hidden = true;
    $("conv-empty").hidden = false;
    renderMyChats();
  }
}

/** The 15 s refresh while the view is open (the socket's events do the rest). */
export function refreshChats() {
  loadChatQueues();
  if (isSupervisor()) {
    loadAgents();
    loadBreaches();
  }
}
