/*
 * Agent console, live chat: the agent's replies — kept until acknowledged, sent one at a time,
 * re-sent after a reconnect with the same client_msg_id (the server stores a repeated id once) —
 * and the agent's typing signal.
 */
import { $, el, formMessage, isObject, randomId, str } from "../core.js";
import { insertMessageEl, messageEl, storeMessage } from "./conversation.js";
import { ACK_TIMEOUT_MS, canAct, live, LT, MAX_REPLY, RETRY_MS, ROLE_LABELS, TYPING_IDLE_MS } from "./state.js";

// ------------------------------------------------------------ replies

export function findPending(conv, id) {
  for (var i = 0; i < conv.pending.length; i++) if (conv.pending[i].client_msg_id === id) return conv.pending[i];
  return null;
}

export function pendingEl(p) {
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

export function markPending(p, status, text) {
  p.status = status;
  p.statusText = text;
  if (!p.el) return;
  p.el.setAttribute("data-status", status);
  var node = p.el.querySelector(".cmsg-status");
  if (node) node.textContent = text;
}

export function sendReply() {
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
export function flush(conv) {
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

export function onReplyAck(conv, p, gen, err, resp) {
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

export function removePending(conv, p, keepEl) {
  var i = conv.pending.indexOf(p);
  if (i !== -1) conv.pending.splice(i, 1);
  if (!keepEl && p.el && p.el.parentNode) p.el.parentNode.removeChild(p.el);
}

export function onReplyInput() {
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

export function stopTyping() {
  if (live.typingTimer) window.clearTimeout(live.typingTimer);
  live.typingTimer = null;
  if (live.typingOn && live.socket && live.socket.connected) {
    live.socket.emit("typing", { conversation_id: live.typingConv, on: false });
  }
  live.typingOn = false;
  live.typingConv = null;
}
