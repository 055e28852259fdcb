/*
 * Chat widget: what survives a reload — the conversation, its resume token, the last seq,
 * the transcript and the messages not yet confirmed — kept in localStorage under a prefix
 * per identity (options.storageKey).
 */
import { isObject } from "../common/util.js";
import { sanitizeAttachment } from "./attachments.js";
import { MAX_TRANSCRIPT, ROLES } from "./config.js";
import { sanitizeButtons, sortKey, toSeq } from "./util.js";

// Thin localStorage wrapper: the widget must keep working when storage is
// unavailable (private mode, quota, disabled cookies).
export function Store(prefix) {
  this.prefix = prefix;
}
Store.prototype.get = function (name, fallback) {
  try {
    var raw = window.localStorage.getItem(this.prefix + "." + name);
    if (raw === null) return fallback;
    return JSON.parse(raw);
  } catch (e) {
    return fallback;
  }
};
Store.prototype.set = function (name, value) {
  try {
    if (value === null || value === undefined) {
      window.localStorage.removeItem(this.prefix + "." + name);
    } else {
      window.localStorage.setItem(this.prefix + "." + name, JSON.stringify(value));
    }
  } catch (e) {
    /* storage full or unavailable: keep going in memory */
  }
};

export var persistence = {
  loadTranscript: function () {
    var list = this.store.get("transcript", []);
    if (!Array.isArray(list)) return [];
    var out = [];
    for (var i = 0; i < list.length; i++) {
      var e = list[i];
      if (!isObject(e) || !ROLES[e.role] || typeof e.text !== "string") continue;
      if (e.local) {
        out.push({
          local: true,
          role: "system",
          text: e.text,
          after_seq: toSeq(e.after_seq) || 0,
          created_at: e.created_at || null,
        });
      } else {
        var seq = toSeq(e.seq);
        if (!seq) continue;
        out.push({
          seq: seq,
          role: e.role,
          text: e.text,
          buttons: sanitizeButtons(e.buttons),
          buttons_used: !!e.buttons_used,
          buttons_chosen: typeof e.buttons_chosen === "number" ? e.buttons_chosen : null,
          created_at: e.created_at || null,
          author_name: e.author_name ? String(e.author_name) : null,
          attachment: sanitizeAttachment(e.attachment),
        });
      }
    }
    out.sort(function (a, b) {
      return sortKey(a) - sortKey(b);
    });
    return out;
  },

  loadPending: function () {
    var list = this.store.get("pending", []);
    if (!Array.isArray(list)) return [];
    var out = [];
    for (var i = 0; i < list.length; i++) {
      var p = list[i];
      if (!isObject(p) || typeof p.client_msg_id !== "string" || typeof p.text !== "string") continue;
      out.push({
        client_msg_id: p.client_msg_id,
        text: p.text,
        payload: p.payload === undefined ? null : p.payload,
        created_at: p.created_at || null,
      });
    }
    return out;
  },

  saveTranscript: function () {
    if (this.transcript.length > MAX_TRANSCRIPT) {
      this.transcript = this.transcript.slice(this.transcript.length - MAX_TRANSCRIPT);
    }
    this.store.set("transcript", this.transcript);
  },

  savePending: function () {
    this.store.set("pending", this.pending.length ? this.pending : null);
  },

  saveSession: function () {
    this.store.set("conversation_id", this.conversationId);
    this.store.set("resume_token", this.resumeToken);
    this.store.set("last_seq", this.lastSeq || null);
  },

  bumpLastSeq: function (seq) {
    if (seq > this.lastSeq) {
      this.lastSeq = seq;
      this.store.set("last_seq", seq);
    }
  },

  addToTranscript: function (entry) {
    var key = sortKey(entry);
    var i = this.transcript.length;
    while (i > 0 && sortKey(this.transcript[i - 1]) > key) i--;
    this.transcript.splice(i, 0, entry);
    this.saveTranscript();
  },
};
