/*
 * Agent console, live chat: the socket.io connection to /agent (global `io`, served at
 * /webchat/vendor/socket.io.min.js; authenticated by the pl_session cookie) and its events.
 * See docs/chat-protocol.md.
 */
import { $, isObject, state, str } from "../core.js";
import {
  loadDetail,
  onMessage,
  renderConv,
  renderConvHead,
  showConvError,
  showCustomerTyping,
} from "./conversation.js";
import { addEvent } from "./info.js";
import { loadChatQueues, loadMyChats, renderMyChats, renderPresence } from "./lists.js";
import { loadHistory } from "./history.js";
import { flush, markPending, stopTyping } from "./replies.js";
import { getConv, isSupervisor, later, live, LT } from "./state.js";
import { loadAgents, loadBreaches } from "./supervisor.js";

// ---------------------------------------------------------------- socket

export function connect() {
  if (live.socket || typeof window.io !== "function") {
    if (typeof window.io !== "function") setLiveStatus("offline", LT.offline);
    return;
  }
  var socket = window.io("/agent", { transports: ["websocket", "polling"], tryAllTransports: true });
  live.socket = socket;
  setLiveStatus("connecting", LT.connecting);

  socket.on("connect", function () {
    live.gen++;
    // «Conectado» once the server's `hello` has named the agent (onHello): before it nothing can be taken
    // or answered as them.
    setLiveStatus("connecting", LT.connecting);
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
      // Debounced, not throttled: a reload already pending may predate this change.
      if (live.reloadTimers.detail) window.clearTimeout(live.reloadTimers.detail);
      live.reloadTimers.detail = null;
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
    later("history", loadHistory, 400); // a chat taken or ended is a recent one
  });
  socket.on("assigned", function (data) {
    if (!isObject(data) || !data.conversation_id) return;
    loadMyChats();
    window.location.hash = "#/chats/" + encodeURIComponent(str(data.conversation_id));
  });
}

export function setLiveStatus(kind, text) {
  var node = $("live-status");
  node.setAttribute("data-state", kind);
  node.textContent = text;
}

export function onHello(data) {
  if (!isObject(data) || !isObject(data.agent)) return;
  setLiveStatus("online", LT.online);
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

export function watch(conv) {
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
