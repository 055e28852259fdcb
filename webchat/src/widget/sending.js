/*
 * Chat widget: sending the customer's messages. Each one is kept (and stored) until the
 * server acknowledges it with a seq; they go one at a time, in order, re-sent after a
 * reconnect with the same client_msg_id; a rate-limited one waits and is sent again.
 */
import { el, isObject, randomId } from "../common/util.js";
import { ACK_TIMEOUT_MS, MAX_LENGTH, TEXT } from "./config.js";
import { toSeq } from "./util.js";

export var sending = {
  submitInput: function () {
    var text = this.inputEl.value;
    if (!text || !text.trim()) {
      this.inputEl.value = "";
      this.autoGrow();
      return;
    }
    if (text.length > MAX_LENGTH) {
      this.formErrorEl.textContent = TEXT.tooLong;
      this.formErrorEl.hidden = false;
      return;
    }
    this.formErrorEl.hidden = true;
    this.inputEl.value = "";
    this.autoGrow();
    this.stopOwnTyping();
    if (this.mode === "closed") {
      // Writing after the end starts over with the assistant (the server reopens the chat).
      this.mode = "bot";
      this.rating = "none";
      this.renderState();
    }
    this.sendMessage(text, null);
    this.inputEl.focus();
  },

  sendMessage: function (text, payload) {
    if (this.destroyed) return;
    text = String(text);
    if (!text.trim() || text.length > MAX_LENGTH) return;
    var p = {
      client_msg_id: randomId(),
      text: text,
      payload: payload === undefined ? null : payload,
      created_at: new Date().toISOString(),
    };
    this.pending.push(p);
    this.savePending();
    this.renderPending(p);
    this.scrollToBottom();
    this.flushPending();
  },

  // Pending messages are sent one at a time, in order (the server handles events
  // concurrently, so back-to-back emits could be stored out of order).
  flushPending: function () {
    if (this.destroyed || !this.sessionReady || !this.socket || !this.socket.connected) return;
    if (this.inflight || this.slowDownTimer) return;
    var next = null;
    for (var i = 0; i < this.pending.length; i++) {
      var p = this.pending[i];
      if (this.sentThisConn[p.client_msg_id]) continue;
      next = p;
      break;
    }
    if (!next) return;
    this.emitPending(next);
  },

  clearInflight: function () {
    this.inflight = null;
    this.sentThisConn = {};
    if (this.ackTimer) {
      window.clearTimeout(this.ackTimer);
      this.ackTimer = null;
    }
  },

  emitPending: function (p) {
    var self = this;
    var gen = this.connGen;
    var id = p.client_msg_id;
    var data = { client_msg_id: id, text: p.text };
    if (p.payload !== null && p.payload !== undefined) data.payload = p.payload;
    this.inflight = id;
    this.sentThisConn[id] = true;
    var li = this.pendingEls[id];
    if (li) this.setPendingMeta(li, TEXT.sending, false);

    this.ackTimer = window.setTimeout(function () {
      if (self.destroyed || gen !== self.connGen || self.inflight !== id) return;
      // No ack in time: keep it pending (re-sent on the next session) and move on.
      self.ackTimer = null;
      self.inflight = null;
      var pli = self.pendingEls[id];
      if (pli) self.setPendingMeta(pli, TEXT.unconfirmed, true);
      self.flushPending();
    }, ACK_TIMEOUT_MS);

    this.socket.emit("message", data, function (resp) {
      // Late acks (after the timeout) are still honoured.
      self.onAck(id, resp, gen);
    });
  },

  setPendingMeta: function (li, text, unconfirmed) {
    var meta = li.querySelector(".pl-msg-meta");
    if (meta) meta.textContent = text;
    if (unconfirmed) li.setAttribute("data-unconfirmed", "true");
    else li.removeAttribute("data-unconfirmed");
  },

  removePending: function (id) {
    for (var i = 0; i < this.pending.length; i++) {
      if (this.pending[i].client_msg_id === id) {
        var p = this.pending[i];
        this.pending.splice(i, 1);
        this.savePending();
        return p;
      }
    }
    return null;
  },

  onAck: function (id, resp, gen) {
    if (this.destroyed) return;
    var advance = gen !== null && gen === this.connGen && this.inflight === id;
    if (advance) {
      this.inflight = null;
      if (this.ackTimer) {
        window.clearTimeout(this.ackTimer);
        this.ackTimer = null;
      }
    }
    var li = this.pendingEls[id];
    if (!isObject(resp)) {
      if (advance) this.flushPending();
      return;
    }
    var p;
    var seq = toSeq(resp.seq);
    if (seq) {
      this.slowDownDelay = 0;
      p = this.removePending(id);
      delete this.pendingEls[id];
      if (!li || !p) {
        if (advance) this.flushPending();
        return;
      }
      if (this.rendered[seq]) {
        // The server's copy of this message is already on screen.
        if (li.parentNode) li.parentNode.removeChild(li);
        this.afterListChange(null);
      } else {
        var entry = {
          seq: seq,
          role: "customer",
          text: p.text,
          buttons: [],
          buttons_used: false,
          created_at: resp.created_at || p.created_at,
          author_name: null,
        };
        var fresh = this.makeMessageEl(entry);
        this.rendered[seq] = fresh;
        if (li.parentNode) li.parentNode.removeChild(li);
        this.insertEl(fresh);
        this.afterListChange(fresh);
        this.addToTranscript(entry);
        this.bumpLastSeq(seq);
      }
    } else if (resp.retry === true && this.pendingEls[id]) {
      // Rate-limited: nothing was stored. The message stays first in line and is sent again
      // after a pause that grows while the server keeps refusing (2 s, 4 s, ... 30 s).
      this.slowDown(id);
      return;
    } else if (resp.error !== undefined && resp.error !== null) {
      this.slowDownDelay = 0;
      p = this.removePending(id);
      delete this.pendingEls[id];
      if (li) {
        li.className = li.className.replace(/\bpl-msg--pending\b/, "").trim() + " pl-msg--failed";
        // Stays where it is; later server messages go below it.
        li._plKey = this.lastSeq + 0.25;
        li.removeAttribute("aria-busy");
        li.removeAttribute("data-unconfirmed");
        var meta = li.querySelector(".pl-msg-meta");
        if (meta) meta.textContent = TEXT.failed;
        var err = el("p", "pl-msg-error", String(resp.error));
        err.setAttribute("role", "alert");
        li.appendChild(err);
        if (this.stuck) this.scrollToBottom();
      }
    }
    if (advance) this.flushPending();
  },

  slowDown: function (id) {
    var self = this;
    var li = this.pendingEls[id];
    if (li) this.setPendingMeta(li, TEXT.tooFast, false);
    delete this.sentThisConn[id];
    this.slowDownDelay = this.slowDownDelay ? Math.min(this.slowDownDelay * 2, 30000) : 2000;
    if (this.slowDownTimer) window.clearTimeout(this.slowDownTimer);
    this.slowDownTimer = window.setTimeout(function () {
      self.slowDownTimer = null;
      self.flushPending();
    }, this.slowDownDelay);
  },
};
