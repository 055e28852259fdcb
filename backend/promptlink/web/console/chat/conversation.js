/*
 * Agent console, live chat: one conversation — opening it, its transcript (messages render by
 * `seq`; a seq already shown is ignored), its header and the customer's typing line.
 */
import { $, api, clear, el, formatDateTime, formMessage, isObject, state, str } from "../core.js";
import { attachmentEl, sanitizeAttachment } from "/webchat/common/attachments.js";
import { TEXT } from "../labels.js";
import { hideConfirms } from "./actions.js";
import { closePicker } from "./canned.js";
import { composer, renderComposer } from "./composer.js";
import { renderInfo } from "./info.js";
import { renderMyChats } from "./lists.js";
import { findPending, pendingEl, stopTyping } from "./replies.js";
import { watch } from "./socket.js";
import {
  canAct,
  convPath,
  CUSTOMER_TYPING_MAX_MS,
  customerTitle,
  getConv,
  live,
  LT,
  MODE_NAMES,
  ROLE_LABELS,
  worksTier,
} from "./state.js";

// ------------------------------------------------------ one conversation

export function showConvError(text) {
  var box = $("conv-error");
  box.textContent = text || "";
  box.hidden = !text;
}

export function openConversation(id) {
  var changed = live.current !== id;
  stopTyping();
  live.current = id;
  var conv = getConv(id);
  conv.unread = 0;
  $("conv-empty").hidden = true;
  $("conv-body").hidden = false;
  if (changed) {
    showConvError("");
    closePicker();
    composer.chosen = "reply"; // another conversation starts on «Responder»
    var forms = ["reply-form", "transfer-form", "close-form"];
    for (var i = 0; i < forms.length; i++) {
      $(forms[i]).reset();
      formMessage($(forms[i]), "");
    }
    formMessage($("conv-actions"), "");
    hideConfirms(); // a question about the previous conversation
  }
  renderConv(conv);
  renderMyChats();
  // The focus moves to the opened chat now, not when its detail has loaded: by then the agent may be
  // typing in the reply box, and what they type next would be lost.
  if (changed) $("conv-title").focus();
  loadDetail(conv, false);
}

export function loadDetail(conv, quiet) {
  var asked = (conv.detailAsked = (conv.detailAsked || 0) + 1);
  return api("GET", convPath(conv.id)).then(
    function (data) {
      if (!isObject(data) || asked !== conv.detailAsked) return; // a later load is on its way
      conv.gone = false;
      conv.detail = data;
      if (isObject(data.conversation)) conv.summary = data.conversation;
      var messages = Array.isArray(data.messages) ? data.messages : [];
      for (var i = 0; i < messages.length; i++) storeMessage(conv, messages[i]);
      if (live.current === conv.id) {
        showConvError("");
        renderConv(conv);
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

export function storeMessage(conv, m) {
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
    attachment: sanitizeAttachment(m.attachment),
  };
  if (seq > conv.lastSeq) conv.lastSeq = seq;
  return true;
}

export function onMessage(id, data) {
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

export function renderConv(conv) {
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
  var ended = endedText(conv);
  if (ended) {
    var notice = el("li", "cmsg cmsg-ended", ended);
    notice.setAttribute("data-role", "ended");
    list.appendChild(notice);
  }
  list.scrollTop = list.scrollHeight;
  $("conv-typing").hidden = !conv.customerTyping;
  renderInfo(conv);
}

/** Who ended a closed conversation, from its log: the customer, or staff. */
export function endedText(conv) {
  var s = conv.summary || {};
  if (s.mode !== "closed") return "";
  var events = conv.detail && Array.isArray(conv.detail.events) ? conv.detail.events : [];
  var last = null;
  for (var i = 0; i < events.length; i++) if (isObject(events[i]) && events[i].kind === "closed") last = events[i];
  var when = s.closed_at ? " (" + formatDateTime(s.closed_at) + ")" : "";
  if (last && last.author === "customer") return "El cliente terminó la conversación" + when + ". Ya no puede responderle.";
  var who = last ? str(last.author_name || last.author) : "";
  return "La conversación está cerrada" + (who ? " por " + who : "") + when + ". Ya no puede responder.";
}

function renderEnded(conv) {
  var box = $("conv-ended");
  var text = endedText(conv);
  box.textContent = text;
  box.hidden = !text;
}

export function renderConvHead(conv) {
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
  if (!act) hideConfirms();
  renderEnded(conv);
  renderComposer(conv, act);
  $("conv-hand-back").hidden = !act;
  $("transfer-form").hidden = !act;
  $("close-form").hidden = !act;
  $("conv-claim").hidden = !(s.mode === "queued" && worksTier(str(s.tier))) || conv.gone;
  if (!act && live.typingConv === conv.id) stopTyping();
}

export function messageEl(m) {
  var li = el("li", "cmsg cmsg-" + m.role);
  li.setAttribute("data-seq", String(m.seq));
  li.setAttribute("data-role", m.role);
  var head = el("p", "cmsg-head");
  var author = m.role === "agent" && m.author_name ? m.author_name : ROLE_LABELS[m.role];
  head.appendChild(el("span", "cmsg-author", author));
  head.appendChild(el("span", "cmsg-time", formatDateTime(m.created_at)));
  li.appendChild(head);
  if (!m.attachment || m.text !== m.attachment.name) li.appendChild(el("p", "cmsg-text", m.text));
  if (m.attachment) li.appendChild(attachmentEl(m.attachment, ""));
  if (m.role === "customer" && m.intent) {
    var parse = "intención: " + m.intent;
    if (typeof m.confidence === "number") parse += " (" + Math.round(m.confidence * 100) + " %)";
    li.appendChild(el("p", "cmsg-parse", parse));
  }
  return li;
}

export function insertMessageEl(li) {
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

export function showCustomerTyping(conv, on) {
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
