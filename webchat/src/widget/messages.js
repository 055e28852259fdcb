/*
 * Chat widget: the message list — one element per transcript entry or pending message, kept
 * in order (server messages by seq, local notices after the seq they followed, pending last).
 */
import { el } from "../common/util.js";
import { attachmentEl } from "./attachments.js";
import { TEXT } from "./config.js";
import { quickReplies } from "./quick-replies.js";
import { renderRichText } from "./rich-text.js";
import { formatTime, sortKey } from "./util.js";

export var messages = {
  authorLabel: function (entry) {
    switch (entry.role) {
      case "customer":
        return TEXT.you;
      case "bot":
        return TEXT.bot;
      case "agent":
        return entry.author_name ? String(entry.author_name) : TEXT.agent;
      default:
        return TEXT.system;
    }
  },

  // Build the element for a transcript entry or a pending outgoing message.
  makeMessageEl: function (entry, opts) {
    opts = opts || {};
    var li = el("div", "pl-msg pl-msg--" + entry.role);
    li.setAttribute("data-role", entry.role);
    if (entry.seq) li.setAttribute("data-seq", String(entry.seq));
    if (entry.local) li.className += " pl-msg--notice";
    li._plKey = sortKey(entry);

    var author = el("span", "pl-msg-author", this.authorLabel(entry));
    if (entry.role === "customer") author.className += " pl-visually-hidden";
    li.appendChild(author);

    var body = el("div", "pl-msg-text");
    renderRichText(body, entry.text);
    // A file without a caption: its name is in the attachment's link, not twice.
    if (!entry.attachment || entry.text !== entry.attachment.name) li.appendChild(body);
    if (entry.attachment) li.appendChild(attachmentEl(entry.attachment, this.url));

    var meta = el("span", "pl-msg-meta");
    if (opts.pending) {
      li.className += " pl-msg--pending";
      li.setAttribute("data-client-msg-id", entry.client_msg_id);
      li.setAttribute("aria-busy", "true");
      meta.textContent = TEXT.sending;
    } else {
      meta.textContent = formatTime(entry.created_at);
    }
    li.appendChild(meta);

    if (entry.buttons && entry.buttons.length) li.appendChild(quickReplies(this, entry));
    return li;
  },

  // Insert keeping DOM order == sort key order (stable: equal keys keep arrival order).
  insertEl: function (li) {
    var key = li._plKey;
    var children = this.messagesEl.children;
    for (var i = 0; i < children.length; i++) {
      if (children[i]._plKey > key) {
        this.messagesEl.insertBefore(li, children[i]);
        return;
      }
    }
    this.messagesEl.appendChild(li);
  },

  // Every change of the list: the welcome shows only in an empty chat, only the latest
  // unanswered quick replies stay active, and a new bubble is followed when at the bottom.
  afterListChange: function (li) {
    this.renderWelcome();
    this.refreshQuickReplies();
    if (li && this.resizeObserver) this.resizeObserver.observe(li);
  },

  // Buttons are answered once the customer wrote (or chose) anything after them, or once a
  // later message brought its own buttons: the replayed history shows them inactive too.
  refreshQuickReplies: function () {
    var children = this.messagesEl.children;
    var answered = false;
    for (var i = children.length - 1; i >= 0; i--) {
      var li = children[i];
      if (li.getAttribute("data-role") === "customer") {
        answered = true;
        continue;
      }
      var row = li.querySelector(".pl-buttons");
      if (!row) continue;
      var active = !answered && row.getAttribute("data-used") !== "true";
      var buttons = row.querySelectorAll(".pl-button");
      for (var j = 0; j < buttons.length; j++) buttons[j].disabled = !active;
      if (!active) row.setAttribute("data-answered", "true");
      else row.removeAttribute("data-answered");
      answered = true; // older rows than this one are past
    }
  },

  renderEntry: function (entry) {
    var li = this.makeMessageEl(entry);
    if (entry.seq) this.rendered[entry.seq] = li;
    this.insertEl(li);
    this.afterListChange(li);
    return li;
  },

  renderPending: function (p) {
    var li = this.makeMessageEl(
      { role: "customer", text: p.text, client_msg_id: p.client_msg_id, created_at: p.created_at },
      { pending: true }
    );
    this.pendingEls[p.client_msg_id] = li;
    this.insertEl(li);
    this.afterListChange(li);
    return li;
  },

  renderInitial: function () {
    for (var i = 0; i < this.transcript.length; i++) this.renderEntry(this.transcript[i]);
    for (var j = 0; j < this.pending.length; j++) this.renderPending(this.pending[j]);
    this.scrollToBottom();
  },

  clearConversationView: function () {
    var self = this;
    Object.keys(this.rendered).forEach(function (seq) {
      var li = self.rendered[seq];
      if (li.parentNode) li.parentNode.removeChild(li);
    });
    var notices = this.messagesEl.querySelectorAll(".pl-msg--notice");
    for (var i = 0; i < notices.length; i++) notices[i].parentNode.removeChild(notices[i]);
    this.rendered = {};
    this.transcript = [];
    this.saveTranscript();
    this.afterListChange(null);
  },

  addNotice: function (text) {
    // Avoid repeating an identical notice at the same place (e.g. re-emitted after reconnect).
    for (var i = this.transcript.length - 1; i >= 0; i--) {
      var e = this.transcript[i];
      if (!e.local) break;
      if (e.text === text && e.after_seq === this.lastSeq) return;
    }
    var stick = this.stuck;
    var entry = {
      local: true,
      role: "system",
      text: text,
      after_seq: this.lastSeq,
      created_at: new Date().toISOString(),
    };
    this.addToTranscript(entry);
    this.renderEntry(entry);
    this.afterArrival(stick);
  },
};
