/*
 * Chat widget: the socket.io connection to /chat — auth (identity, conversation, resume
 * token, last seq), reconnects, the session and every server event. Protocol:
 * docs/chat-protocol.md.
 */
import { isObject } from "../common/util.js";
import { sanitizeAttachment } from "./attachments.js";
import { ROLES, TEXT } from "./config.js";
import { sanitizeButtons, toSeq } from "./util.js";

export var connection = {
  authPayload: function () {
    var auth = {};
    if (this.identity) auth.identity = this.identity;
    if (this.conversationId) {
      auth.conversation_id = this.conversationId;
      if (this.resumeToken) auth.resume_token = this.resumeToken;
      auth.last_seq = this.lastSeq || 0;
    }
    return auth;
  },

  connect: function () {
    var self = this;
    var socket = window.io(this.url + "/chat", {
      auth: function (cb) {
        cb(self.authPayload());
      },
      transports: ["websocket", "polling"],
      // Fall back to HTTP long-polling within the same attempt when WebSocket is
      // blocked (corporate proxies), instead of retrying WebSocket forever.
      tryAllTransports: true,
    });
    this.socket = socket;

    socket.on("connect", function () {
      self.connGen++;
      self.sessionReady = false;
      self.clearInflight();
      self.retryDelay = 0;
      self.setStatus("online", TEXT.online);
    });

    socket.on("disconnect", function (reason) {
      self.sessionReady = false;
      self.clearInflight();
      self.setTyping(null, false);
      self.ownTyping = false;
      if (self.destroyed) return;
      self.setStatus("offline", TEXT.offline);
      // "io server disconnect": the client does not reconnect by itself.
      if (reason === "io server disconnect") self.scheduleRetry();
    });

    socket.on("connect_error", function (err) {
      if (self.destroyed) return;
      if (!socket.active) {
        // Refused by the server (middleware / connect handler): its message is Spanish.
        var msg = err && err.message ? String(err.message) : TEXT.offline;
        self.setStatus("offline", msg);
        self.scheduleRetry();
      } else {
        // Transport-level failure; socket.io keeps retrying on its own.
        self.setStatus("offline", TEXT.offline);
      }
    });

    socket.on("session", function (data) {
      self.onSession(data);
    });
    socket.on("message", function (data) {
      self.onServerMessage(data);
    });
    socket.on("typing", function (data) {
      if (!isObject(data)) return;
      self.setTyping(data.role, !!data.on, data.name ? String(data.name) : null);
    });
    socket.on("handoff", function (data) {
      self.onHandoff(data);
    });
    socket.on("no_agents", function (data) {
      self.onNoAgents(data);
    });
    socket.on("agent_joined", function (data) {
      self.onAgentJoined(data);
    });
    socket.on("state", function (data) {
      if (!isObject(data) || !data.mode) return;
      self.mode = String(data.mode);
      if (self.mode !== "human") self.agent = null;
      if (self.mode !== "queued") self.queue = null;
      if (self.mode === "bot") self.setTyping("agent", false);
      self.renderState();
    });
    socket.on("closed", function (data) {
      self.mode = "closed";
      self.agent = null;
      self.queue = null;
      self.setTyping(null, false);
      if (self.rating !== "done" || (isObject(data) && data.rating_requested)) self.requestRating();
      self.renderState();
    });
    socket.on("rated", function () {
      self.rating = "done";
      self.renderState();
    });
  },

  scheduleRetry: function () {
    var self = this;
    if (this.destroyed || this.retryTimer) return;
    this.retryDelay = this.retryDelay ? Math.min(this.retryDelay * 2, 60000) : 3000;
    this.retryTimer = window.setTimeout(function () {
      self.retryTimer = null;
      if (self.destroyed || !self.socket || self.socket.connected) return;
      self.setStatus("connecting", TEXT.connecting);
      self.socket.connect();
    }, this.retryDelay);
  },

  onSession: function (data) {
    if (!isObject(data) || !data.conversation_id) return;
    var newId = String(data.conversation_id);
    var changed = this.conversationId !== null && this.conversationId !== newId;
    this.conversationId = newId;
    if (data.resume_token) this.resumeToken = String(data.resume_token);
    else if (changed) this.resumeToken = null;
    this.mode = data.mode || null;
    this.agent =
      isObject(data.agent) && data.agent.name
        ? { name: String(data.agent.name), tier: data.agent.tier ? String(data.agent.tier) : data.tier || null }
        : null;
    if (this.mode === "queued") {
      if (!this.queue || (data.tier && this.queue.tier !== data.tier)) this.queue = { tier: data.tier || null };
    } else {
      this.queue = null;
    }
    if (data.rating_requested) this.requestRating();
    else if (this.mode !== "closed") this.rating = "none";
    if (changed) {
      // A different conversation: what we show belongs to the old one.
      this.lastSeq = 0;
      this.clearConversationView();
      this.saveSession();
      this.socket.emit("resume", { conversation_id: newId, last_seq: 0 });
    } else {
      this.saveSession();
    }
    this.sessionReady = true;
    this.restoreUnavailable();
    this.renderState();
    this.flushPending();
  },

  onServerMessage: function (data) {
    if (!isObject(data)) return;
    var seq = toSeq(data.seq);
    if (!seq) return;
    if (data.conversation_id && this.conversationId && String(data.conversation_id) !== this.conversationId) return;
    if (this.rendered[seq]) return; // already shown (replay, own acked message, other tab)
    var role = ROLES[data.role] ? data.role : "system";

    // The server may echo our own message before the ack arrives; if it carries
    // client_msg_id we can settle the pending message right here.
    if (role === "customer" && data.client_msg_id && this.pendingEls[data.client_msg_id]) {
      this.onAck(String(data.client_msg_id), { seq: seq, created_at: data.created_at }, null);
      return;
    }

    var stick = this.stuck;
    var entry = {
      seq: seq,
      role: role,
      text: data.text === undefined || data.text === null ? "" : String(data.text),
      buttons: sanitizeButtons(data.buttons),
      buttons_used: false,
      created_at: data.created_at || null,
      author_name: data.author_name ? String(data.author_name) : null,
      attachment: sanitizeAttachment(data.attachment),
    };
    this.addToTranscript(entry);
    this.renderEntry(entry);
    this.bumpLastSeq(seq);
    if (this.endEl.hidden) this.renderState();
    if (role === "bot" || role === "agent") {
      if (this.typingRole === role) this.setTyping(role, false);
    }
    this.afterArrival(stick || role === "customer");
    if (role !== "customer") this.countUnread();
  },
};
