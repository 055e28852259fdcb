/*
 * Agent console: live chat (entry module) — presence, chat queues, «Mis conversaciones», one
 * conversation (transcript, customer, contracts, ticket, internal notes, reply box, transfer /
 * hand back / close) and, for supervisors, every agent's load and the overdue tickets.
 *
 * Talks to the socket.io namespace /agent and to the REST calls under /api/v1/conversations,
 * /queues/chats and /agents. See docs/chat-protocol.md. The parts, under chat/:
 *
 *   state.js    limits, texts, the shared `live` state    socket.js        the /agent socket and its events
 *   lists.js    presence, my chats, chat queues           supervisor.js    agents' load, overdue tickets
 *   conversation.js  one conversation and its transcript  info.js          its side panel
 *   replies.js  the agent's replies and typing            actions.js       its buttons and forms
 *   alerts.js   waiting chats: badge, title, sound, desktop notifications
 *   history.js  «Recientes» / «Cerradas» with search (read-only transcripts)
 *
 * The parts call each other only from event handlers, never while the modules load, so the
 * import cycles between them are harmless.
 *
 * Security: every piece of server or user text goes through textContent. No innerHTML.
 */
import { $, clear } from "./core.js";
import { wireActions } from "./chat/actions.js";
import { resetAlerts, wireAlerts } from "./chat/alerts.js";
import { loadHistory, wireHistory } from "./chat/history.js";
import { wireChatAttachments } from "./chat/attachments.js";
import { openConversation } from "./chat/conversation.js";
import { loadChatQueues, loadMyChats, renderMyChats, tickWaits } from "./chat/lists.js";
import { stopTyping } from "./chat/replies.js";
import { connect } from "./chat/socket.js";
import { isSupervisor, live } from "./chat/state.js";
import { loadAgents, loadBreaches } from "./chat/supervisor.js";

// ----------------------------------------------------------- lifecycle

/** Signed in as staff: connect the /agent socket (presence, assignments) whatever the view. */
export function startLiveChat() {
  if (!live.wired) {
    wireActions();
    wireChatAttachments();
    wireAlerts();
    wireHistory();
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
  resetAlerts();
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
  loadHistory();
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
  loadHistory();
  if (isSupervisor()) {
    loadAgents();
    loadBreaches();
  }
}
