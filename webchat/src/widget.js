/*
 * Promptlink Assist — customer chat widget.
 *
 * Vanilla JS, no build step. Requires the socket.io client (global `io`), served by the
 * backend at /webchat/vendor/socket.io.min.js, and /webchat/widget.css.
 *
 * Usage:
 *   const chat = window.PromptlinkChat.mount({
 *     element: document.getElementById("chat"),
 *     identity: "<signed widget JWT>" | null,   // null = anonymous visitor
 *     storageKey: "promptlink.chat.ana.gomez@cableandina.example",
 *     url: "",                                  // "" = same origin
 *   });
 *   chat.destroy();
 *
 * Protocol (socket.io namespace /chat), see docs/ and shared design:
 *   connect auth {identity, conversation_id, resume_token, last_seq}
 *   server -> session {conversation_id, mode, resume_token}
 *   client -> message {client_msg_id, text, payload?}  ack {seq} | {error} | {error, retry: true} (too fast)
 *   server -> message {conversation_id, seq, role, text, buttons?, created_at, author_name?}
 *   server -> typing {role, on, name?}; handoff {tier, position, eta_seconds}; agent_joined {name, tier}
 *   server -> state {mode}; closed {rating_requested, by}; rated {score}
 *   client -> resume {conversation_id, last_seq}; typing {on}; end {comment?} ack {mode} | {error}
 *   client -> rate {score 1..5, comment?} ack {rated} | {error}
 *
 * Security: every piece of server or user text is rendered with textContent /
 * createTextNode. Never use innerHTML in this file.
 */
(function (global) {
  "use strict";

  var MAX_LENGTH = 2000;
  var MAX_TRANSCRIPT = 200;
  var ACK_TIMEOUT_MS = 10000;
  var TYPING_TIMEOUT_MS = 30000;
  var TYPING_IDLE_MS = 2500;
  var MAX_COMMENT = 1000;
  var ROLES = { customer: true, bot: true, agent: true, system: true };

  var TEXT = {
    title: "Soporte Técnico Promptlink",
    connecting: "Conectando…",
    online: "Conectado",
    offline: "Sin conexión. Reintentando…",
    placeholder: "Escriba su mensaje…",
    send: "Enviar",
    inputLabel: "Mensaje",
    messagesLabel: "Mensajes de la conversación",
    you: "Usted",
    bot: "Asistente",
    agent: "Agente",
    system: "Sistema",
    sending: "Enviando…",
    unconfirmed: "Pendiente de confirmación; se reenviará al reconectar.",
    failed: "No enviado",
    tooFast: "Demasiados mensajes seguidos; se enviará en unos segundos.",
    tooLong: "El mensaje supera el máximo de " + MAX_LENGTH + " caracteres.",
    typingBot: "El asistente está escribiendo…",
    typingAgent: "El agente está escribiendo…",
    end: "Terminar conversación",
    ending: "Terminando…",
    rateQuestion: "¿Cómo calificaría la atención recibida?",
    rateHint: "De 1 (mala) a 5 (excelente)",
    rateComment: "Comentario (opcional)",
    rateSend: "Enviar",
    rateChoose: "Elija una calificación de 1 a 5.",
    rateThanks: "¡Gracias!",
    commentTooLong: "El comentario supera el máximo de " + MAX_COMMENT + " caracteres.",
    noConnection: "Sin conexión. Inténtelo de nuevo en unos segundos.",
  };

  // ---------------------------------------------------------------- helpers

  function randomId() {
    var c = global.crypto;
    if (c && typeof c.randomUUID === "function") {
      try {
        return c.randomUUID();
      } catch (e) {
        /* insecure context in some browsers: fall through */
      }
    }
    var bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === "function") {
      c.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    var hex = "";
    for (var j = 0; j < bytes.length; j++) hex += (bytes[j] + 0x100).toString(16).slice(1);
    return hex;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function isObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  function toSeq(v) {
    var n = typeof v === "string" ? Number(v) : v;
    return typeof n === "number" && isFinite(n) && n > 0 && Math.floor(n) === n ? n : null;
  }

  function formatTime(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    try {
      return d.toLocaleTimeString("es-ES", { hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
    }
  }

  function tierLabel(tier) {
    if (tier === null || tier === undefined || tier === "") return "";
    var s = String(tier);
    var m = /^(?:L|N|nivel\s*)(\d+)$/i.exec(s);
    return m ? m[1] : s;
  }

  function sanitizeButtons(buttons) {
    if (!Array.isArray(buttons)) return [];
    var out = [];
    for (var i = 0; i < buttons.length; i++) {
      var b = buttons[i];
      if (!isObject(b)) continue;
      var title = b.title === undefined || b.title === null ? "" : String(b.title);
      if (!title) continue;
      out.push({ title: title, payload: b.payload === undefined ? null : b.payload });
    }
    return out;
  }

  // Thin localStorage wrapper: the widget must keep working when storage is
  // unavailable (private mode, quota, disabled cookies).
  function Store(prefix) {
    this.prefix = prefix;
  }
  Store.prototype.get = function (name, fallback) {
    try {
      var raw = global.localStorage.getItem(this.prefix + "." + name);
      if (raw === null) return fallback;
      return JSON.parse(raw);
    } catch (e) {
      return fallback;
    }
  };
  Store.prototype.set = function (name, value) {
    try {
      if (value === null || value === undefined) {
        global.localStorage.removeItem(this.prefix + "." + name);
      } else {
        global.localStorage.setItem(this.prefix + "." + name, JSON.stringify(value));
      }
    } catch (e) {
      /* storage full or unavailable: keep going in memory */
    }
  };

  // ---------------------------------------------------------------- widget

  function Widget(options) {
    if (!isObject(options) || !options.element || options.element.nodeType !== 1) {
      throw new TypeError("PromptlinkChat.mount: options.element must be an HTMLElement");
    }
    if (typeof global.io !== "function") {
      throw new Error("PromptlinkChat.mount: socket.io client (window.io) is not loaded");
    }
    this.container = options.element;
    this.identity = options.identity ? String(options.identity) : null;
    this.url = options.url ? String(options.url).replace(/\/+$/, "") : "";
    this.store = new Store(options.storageKey ? String(options.storageKey) : "promptlink.chat.anonymous");

    this.destroyed = false;
    this.socket = null;
    this.connGen = 0; // incremented on every connect: stale ack callbacks are ignored
    this.sessionReady = false;
    this.inflight = null; // client_msg_id awaiting ack on this connection
    this.sentThisConn = {}; // client_msg_ids already emitted on this connection
    this.ackTimer = null;
    this.retryTimer = null;
    this.retryDelay = 0;
    this.slowDownTimer = null; // the server asked to wait (rate limit): pending messages wait too
    this.slowDownDelay = 0;
    this.typingTimer = null;
    this.mode = null; // bot | queued | human | closed (from the server)
    this.agent = null; // {name, tier} while a person attends the chat
    this.queue = null; // {tier, position, eta_seconds} while queued
    this.rating = "none"; // none | requested | done
    this.ratingScore = null;
    this.ownTyping = false;
    this.ownTypingTimer = null;

    // Persistent state.
    this.conversationId = this.store.get("conversation_id", null);
    this.resumeToken = this.store.get("resume_token", null);
    this.lastSeq = toSeq(this.store.get("last_seq", 0)) || 0;
    this.transcript = this.loadTranscript(); // rendered entries, sorted
    this.pending = this.loadPending(); // [{client_msg_id, text, payload, created_at}]

    this.rendered = {}; // seq -> element
    this.pendingEls = {}; // client_msg_id -> element

    this.buildDom();
    this.renderInitial();
    this.connect();
  }

  // ----------------------------------------------------------- persistence

  Widget.prototype.loadTranscript = function () {
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
        });
      }
    }
    out.sort(function (a, b) {
      return sortKey(a) - sortKey(b);
    });
    return out;
  };

  Widget.prototype.loadPending = function () {
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
  };

  Widget.prototype.saveTranscript = function () {
    if (this.transcript.length > MAX_TRANSCRIPT) {
      this.transcript = this.transcript.slice(this.transcript.length - MAX_TRANSCRIPT);
    }
    this.store.set("transcript", this.transcript);
  };

  Widget.prototype.savePending = function () {
    this.store.set("pending", this.pending.length ? this.pending : null);
  };

  Widget.prototype.saveSession = function () {
    this.store.set("conversation_id", this.conversationId);
    this.store.set("resume_token", this.resumeToken);
    this.store.set("last_seq", this.lastSeq || null);
  };

  Widget.prototype.bumpLastSeq = function (seq) {
    if (seq > this.lastSeq) {
      this.lastSeq = seq;
      this.store.set("last_seq", seq);
    }
  };

  // Server messages sort by seq; local notices (handoff, agent_joined) sit right
  // after the last seq known when they arrived; pending messages go last.
  function sortKey(entry) {
    if (entry.local) return (entry.after_seq || 0) + 0.5;
    if (entry.seq) return entry.seq;
    return Infinity;
  }

  Widget.prototype.addToTranscript = function (entry) {
    var key = sortKey(entry);
    var i = this.transcript.length;
    while (i > 0 && sortKey(this.transcript[i - 1]) > key) i--;
    this.transcript.splice(i, 0, entry);
    this.saveTranscript();
  };

  // ------------------------------------------------------------------ DOM

  Widget.prototype.buildDom = function () {
    var self = this;
    var root = el("section", "pl-chat");
    root.setAttribute("aria-label", TEXT.title);

    var header = el("header", "pl-header");
    var title = el("h2", "pl-title", TEXT.title);
    var status = el("p", "pl-status", TEXT.connecting);
    status.setAttribute("data-state", "connecting");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var who = el("p", "pl-agent");
    who.setAttribute("aria-live", "polite");
    who.hidden = true;
    var end = el("button", "pl-end", TEXT.end);
    end.type = "button";
    end.hidden = true;
    header.appendChild(title);
    header.appendChild(status);
    header.appendChild(who);
    header.appendChild(end);

    var queue = el("p", "pl-queue");
    queue.setAttribute("role", "status");
    queue.hidden = true;

    var messages = el("ol", "pl-messages");
    messages.setAttribute("role", "log");
    messages.setAttribute("aria-live", "polite");
    messages.setAttribute("aria-relevant", "additions");
    messages.setAttribute("aria-label", TEXT.messagesLabel);
    messages.setAttribute("tabindex", "0");

    var typing = el("p", "pl-typing");
    typing.setAttribute("aria-live", "polite");
    typing.hidden = true;

    var form = el("form", "pl-form");
    form.setAttribute("novalidate", "");
    var inputId = "pl-input-" + randomId().slice(0, 8);
    var label = el("label", "pl-visually-hidden", TEXT.inputLabel);
    label.setAttribute("for", inputId);
    var input = el("textarea", "pl-input");
    input.id = inputId;
    input.rows = 1;
    input.maxLength = MAX_LENGTH;
    input.setAttribute("maxlength", String(MAX_LENGTH));
    input.setAttribute("placeholder", TEXT.placeholder);
    input.setAttribute("autocomplete", "off");
    input.setAttribute("enterkeyhint", "send");
    var send = el("button", "pl-send", TEXT.send);
    send.type = "submit";
    var formError = el("p", "pl-form-error");
    formError.setAttribute("role", "alert");
    formError.hidden = true;
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);
    form.appendChild(formError);

    var rating = this.buildRating();

    root.appendChild(header);
    root.appendChild(queue);
    root.appendChild(messages);
    root.appendChild(typing);
    root.appendChild(rating);
    root.appendChild(form);

    this.onSubmit = function (ev) {
      ev.preventDefault();
      self.submitInput();
    };
    this.onKeyDown = function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        self.submitInput();
      }
    };
    this.onInput = function () {
      formError.hidden = true;
      self.autoGrow();
      self.noteTyping();
    };
    end.addEventListener("click", function () {
      self.endConversation();
    });
    form.addEventListener("submit", this.onSubmit);
    input.addEventListener("keydown", this.onKeyDown);
    input.addEventListener("input", this.onInput);

    this.root = root;
    this.statusEl = status;
    this.messagesEl = messages;
    this.typingEl = typing;
    this.inputEl = input;
    this.sendEl = send;
    this.formErrorEl = formError;
    this.agentEl = who;
    this.endEl = end;
    this.queueEl = queue;
    this.container.appendChild(root);
    this.renderState();
  };

  // The satisfaction form shown once the conversation is closed: five buttons, a comment, «Enviar».
  Widget.prototype.buildRating = function () {
    var self = this;
    var form = el("form", "pl-rating");
    form.setAttribute("novalidate", "");
    form.hidden = true;
    var fieldset = el("fieldset", "pl-rating-set");
    var legend = el("legend", "pl-rating-question", TEXT.rateQuestion);
    fieldset.appendChild(legend);
    fieldset.appendChild(el("p", "pl-rating-hint", TEXT.rateHint));
    var row = el("div", "pl-rating-scores");
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", TEXT.rateHint);
    var buttons = [];
    for (var n = 1; n <= 5; n++) {
      (function (score) {
        var b = el("button", "pl-rate", String(score));
        b.type = "button";
        b.setAttribute("data-score", String(score));
        b.setAttribute("aria-pressed", "false");
        b.addEventListener("click", function () {
          self.ratingScore = score;
          buttons.forEach(function (x) {
            x.setAttribute("aria-pressed", x === b ? "true" : "false");
          });
          self.ratingErrorEl.hidden = true;
        });
        buttons.push(b);
        row.appendChild(b);
      })(n);
    }
    fieldset.appendChild(row);
    var commentId = "pl-rate-comment-" + randomId().slice(0, 8);
    var label = el("label", "pl-rating-label", TEXT.rateComment);
    label.setAttribute("for", commentId);
    var comment = el("textarea", "pl-rating-comment");
    comment.id = commentId;
    comment.rows = 2;
    comment.setAttribute("maxlength", String(MAX_COMMENT));
    fieldset.appendChild(label);
    fieldset.appendChild(comment);
    var send = el("button", "pl-rating-send", TEXT.rateSend);
    send.type = "submit";
    fieldset.appendChild(send);
    var error = el("p", "pl-rating-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    fieldset.appendChild(error);
    form.appendChild(fieldset);
    var thanks = el("p", "pl-rating-thanks", TEXT.rateThanks);
    thanks.setAttribute("role", "status");
    thanks.hidden = true;
    form.appendChild(thanks);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      self.submitRating();
    });
    this.ratingEl = form;
    this.ratingSetEl = fieldset;
    this.ratingButtons = buttons;
    this.ratingCommentEl = comment;
    this.ratingSendEl = send;
    this.ratingErrorEl = error;
    this.ratingThanksEl = thanks;
    return form;
  };

  // Header (level and agent), queue place, «Terminar conversación» and the rating form.
  Widget.prototype.renderState = function () {
    if (!this.root) return;
    var agent = this.mode === "human" ? this.agent : null;
    if (agent) {
      var tier = tierLabel(agent.tier);
      this.agentEl.textContent = "Le atiende " + agent.name + (tier ? " · Nivel " + tier : "");
      this.agentEl.hidden = false;
    } else if (this.mode === "queued" && this.queue) {
      var qtier = tierLabel(this.queue.tier);
      this.agentEl.textContent = qtier ? "Soporte de Nivel " + qtier : "Soporte técnico";
      this.agentEl.hidden = false;
    } else {
      this.agentEl.textContent = "";
      this.agentEl.hidden = true;
    }
    this.root.setAttribute("data-mode", this.mode || "");

    var q = this.mode === "queued" ? this.queue : null;
    if (q) {
      var parts = [];
      var t = tierLabel(q.tier);
      parts.push(t ? "En cola para un especialista de Nivel " + t + "." : "En cola para un especialista.");
      if (q.position !== undefined && q.position !== null && q.position !== "") {
        parts.push("Posición: " + String(q.position) + ".");
      }
      var eta = Number(q.eta_seconds);
      if (q.eta_seconds !== undefined && q.eta_seconds !== null && isFinite(eta) && eta >= 0) {
        parts.push("Espera estimada: " + Math.max(1, Math.ceil(eta / 60)) + " min.");
      }
      this.queueEl.textContent = parts.join(" ");
      this.queueEl.hidden = false;
    } else {
      this.queueEl.textContent = "";
      this.queueEl.hidden = true;
    }

    this.endEl.hidden = !(this.conversationId && this.lastSeq > 0 && this.mode && this.mode !== "closed");

    var asking = this.rating === "requested" || this.rating === "done";
    var wasHidden = this.ratingEl.hidden;
    var stick = this.isNearBottom();
    this.ratingEl.hidden = !asking || this.mode !== "closed";
    if (wasHidden && !this.ratingEl.hidden && stick) this.scrollToBottom();
    this.ratingSetEl.hidden = this.rating !== "requested";
    this.ratingThanksEl.hidden = this.rating !== "done";
  };

  Widget.prototype.autoGrow = function () {
    var input = this.inputEl;
    // Grow the textarea up to ~6 lines using rows (no inline styles: CSP style-src 'self').
    var lines = input.value.split("\n").length;
    input.rows = Math.max(1, Math.min(6, lines));
  };

  Widget.prototype.setStatus = function (state, text) {
    this.statusEl.setAttribute("data-state", state);
    this.statusEl.textContent = text;
  };

  Widget.prototype.isNearBottom = function () {
    var m = this.messagesEl;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  };

  Widget.prototype.scrollToBottom = function () {
    var m = this.messagesEl;
    m.scrollTop = m.scrollHeight;
  };

  Widget.prototype.authorLabel = function (entry) {
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
  };

  // Build the element for a transcript entry or a pending outgoing message.
  Widget.prototype.makeMessageEl = function (entry, opts) {
    var self = this;
    opts = opts || {};
    var li = el("li", "pl-msg pl-msg--" + entry.role);
    li.setAttribute("data-role", entry.role);
    if (entry.seq) li.setAttribute("data-seq", String(entry.seq));
    if (entry.local) li.className += " pl-msg--notice";
    li._plKey = sortKey(entry);

    var author = el("span", "pl-msg-author", this.authorLabel(entry));
    if (entry.role === "customer") author.className += " pl-visually-hidden";
    li.appendChild(author);

    var body = el("div", "pl-msg-text");
    body.appendChild(document.createTextNode(entry.text));
    li.appendChild(body);

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

    if (entry.buttons && entry.buttons.length) {
      var row = el("div", "pl-buttons");
      row.setAttribute("role", "group");
      var buttonEls = [];
      entry.buttons.forEach(function (b, index) {
        var btn = el("button", "pl-button", b.title);
        btn.type = "button";
        if (entry.buttons_used) btn.disabled = true;
        if (entry.buttons_chosen === index) btn.setAttribute("aria-pressed", "true");
        btn.addEventListener("click", function () {
          if (btn.disabled) return;
          buttonEls.forEach(function (x) {
            x.disabled = true;
          });
          row.setAttribute("data-used", "true");
          btn.setAttribute("aria-pressed", "true");
          entry.buttons_used = true;
          entry.buttons_chosen = index;
          self.saveTranscript();
          self.sendMessage(b.title, b.payload);
        });
        buttonEls.push(btn);
        row.appendChild(btn);
      });
      if (entry.buttons_used) row.setAttribute("data-used", "true");
      li.appendChild(row);
    }
    return li;
  };

  // Insert keeping DOM order == sort key order (stable: equal keys keep arrival order).
  Widget.prototype.insertEl = function (li) {
    var key = li._plKey;
    var children = this.messagesEl.children;
    for (var i = 0; i < children.length; i++) {
      if (children[i]._plKey > key) {
        this.messagesEl.insertBefore(li, children[i]);
        return;
      }
    }
    this.messagesEl.appendChild(li);
  };

  Widget.prototype.renderEntry = function (entry) {
    var li = this.makeMessageEl(entry);
    if (entry.seq) this.rendered[entry.seq] = li;
    this.insertEl(li);
    return li;
  };

  Widget.prototype.renderPending = function (p) {
    var li = this.makeMessageEl(
      { role: "customer", text: p.text, client_msg_id: p.client_msg_id, created_at: p.created_at },
      { pending: true }
    );
    this.pendingEls[p.client_msg_id] = li;
    this.insertEl(li);
    return li;
  };

  Widget.prototype.renderInitial = function () {
    for (var i = 0; i < this.transcript.length; i++) this.renderEntry(this.transcript[i]);
    for (var j = 0; j < this.pending.length; j++) this.renderPending(this.pending[j]);
    this.scrollToBottom();
  };

  Widget.prototype.clearConversationView = function () {
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
  };

  Widget.prototype.addNotice = function (text) {
    // Avoid repeating an identical notice at the same place (e.g. re-emitted after reconnect).
    for (var i = this.transcript.length - 1; i >= 0; i--) {
      var e = this.transcript[i];
      if (!e.local) break;
      if (e.text === text && e.after_seq === this.lastSeq) return;
    }
    var stick = this.isNearBottom();
    var entry = {
      local: true,
      role: "system",
      text: text,
      after_seq: this.lastSeq,
      created_at: new Date().toISOString(),
    };
    this.addToTranscript(entry);
    this.renderEntry(entry);
    if (stick) this.scrollToBottom();
  };

  // --------------------------------------------------------------- socket

  Widget.prototype.authPayload = function () {
    var auth = {};
    if (this.identity) auth.identity = this.identity;
    if (this.conversationId) {
      auth.conversation_id = this.conversationId;
      if (this.resumeToken) auth.resume_token = this.resumeToken;
      auth.last_seq = this.lastSeq || 0;
    }
    return auth;
  };

  Widget.prototype.connect = function () {
    var self = this;
    var socket = global.io(this.url + "/chat", {
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
  };

  Widget.prototype.scheduleRetry = function () {
    var self = this;
    if (this.destroyed || this.retryTimer) return;
    this.retryDelay = this.retryDelay ? Math.min(this.retryDelay * 2, 60000) : 3000;
    this.retryTimer = global.setTimeout(function () {
      self.retryTimer = null;
      if (self.destroyed || !self.socket || self.socket.connected) return;
      self.setStatus("connecting", TEXT.connecting);
      self.socket.connect();
    }, this.retryDelay);
  };

  Widget.prototype.onSession = function (data) {
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
    this.renderState();
    this.flushPending();
  };

  Widget.prototype.onServerMessage = function (data) {
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

    var stick = this.isNearBottom();
    var entry = {
      seq: seq,
      role: role,
      text: data.text === undefined || data.text === null ? "" : String(data.text),
      buttons: sanitizeButtons(data.buttons),
      buttons_used: false,
      created_at: data.created_at || null,
      author_name: data.author_name ? String(data.author_name) : null,
    };
    this.addToTranscript(entry);
    this.renderEntry(entry);
    this.bumpLastSeq(seq);
    if (this.endEl.hidden) this.renderState();
    if (role === "bot" || role === "agent") {
      if (this.typingRole === role) this.setTyping(role, false);
    }
    if (stick) this.scrollToBottom();
  };

  Widget.prototype.setTyping = function (role, on, name) {
    var self = this;
    if (this.typingTimer) {
      global.clearTimeout(this.typingTimer);
      this.typingTimer = null;
    }
    if (on && (role === "bot" || role === "agent")) {
      this.typingRole = role;
      var who = name || (this.agent && this.mode === "human" ? this.agent.name : null);
      this.typingEl.textContent =
        role === "bot" ? TEXT.typingBot : who ? who + " está escribiendo…" : TEXT.typingAgent;
      this.typingEl.setAttribute("data-role", role);
      this.typingEl.hidden = false;
      // Safety net: never leave the indicator on forever if "off" is lost.
      this.typingTimer = global.setTimeout(function () {
        self.setTyping(null, false);
      }, TYPING_TIMEOUT_MS);
    } else if (!on && role && this.typingRole && role !== this.typingRole) {
      return; // "off" for a role that is not the one shown
    } else {
      this.typingRole = null;
      this.typingEl.hidden = true;
      this.typingEl.textContent = "";
      this.typingEl.removeAttribute("data-role");
    }
  };

  // The place in the queue is shown (and updated in place) under the header; the server
  // stores the Spanish notice in the transcript itself.
  Widget.prototype.onHandoff = function (data) {
    if (!isObject(data)) return;
    this.mode = "queued";
    this.agent = null;
    this.queue = { tier: data.tier || null, position: data.position, eta_seconds: data.eta_seconds };
    this.setTyping("agent", false);
    this.renderState();
  };

  Widget.prototype.onAgentJoined = function (data) {
    if (!isObject(data)) return;
    this.mode = "human";
    this.queue = null;
    this.agent = { name: data.name ? String(data.name) : TEXT.agent, tier: data.tier ? String(data.tier) : null };
    this.renderState();
  };

  // ------------------------------------------------------- typing, end, rating

  // The customer is writing (only worth telling while a person handles or will handle the chat).
  Widget.prototype.noteTyping = function () {
    var self = this;
    if (!this.socket || !this.socket.connected || !this.sessionReady) return;
    if (this.mode !== "human" && this.mode !== "queued") return;
    if (!this.ownTyping) {
      this.ownTyping = true;
      this.socket.emit("typing", { on: true });
    }
    if (this.ownTypingTimer) global.clearTimeout(this.ownTypingTimer);
    this.ownTypingTimer = global.setTimeout(function () {
      self.stopOwnTyping();
    }, TYPING_IDLE_MS);
  };

  Widget.prototype.stopOwnTyping = function () {
    if (this.ownTypingTimer) global.clearTimeout(this.ownTypingTimer);
    this.ownTypingTimer = null;
    if (this.ownTyping && this.socket && this.socket.connected) this.socket.emit("typing", { on: false });
    this.ownTyping = false;
  };

  Widget.prototype.endConversation = function () {
    var self = this;
    if (!this.socket || !this.socket.connected || !this.sessionReady) {
      this.showFormError(TEXT.noConnection);
      return;
    }
    this.stopOwnTyping();
    this.endEl.disabled = true;
    this.endEl.textContent = TEXT.ending;
    this.socket.timeout(ACK_TIMEOUT_MS).emit("end", {}, function (err, resp) {
      if (self.destroyed) return;
      self.endEl.disabled = false;
      self.endEl.textContent = TEXT.end;
      if (err) {
        self.showFormError(TEXT.noConnection);
        return;
      }
      if (isObject(resp) && resp.error) {
        self.showFormError(String(resp.error));
        return;
      }
      if (isObject(resp) && resp.mode) {
        self.mode = String(resp.mode);
        if (self.mode === "closed" && self.rating !== "done") self.requestRating();
        self.renderState();
      }
    });
  };

  Widget.prototype.showFormError = function (text) {
    this.formErrorEl.textContent = text;
    this.formErrorEl.hidden = false;
  };

  Widget.prototype.requestRating = function () {
    if (this.rating === "requested") return;
    this.rating = "requested";
    this.ratingScore = null;
    this.ratingCommentEl.value = "";
    this.ratingErrorEl.hidden = true;
    this.ratingButtons.forEach(function (b) {
      b.setAttribute("aria-pressed", "false");
    });
  };

  Widget.prototype.submitRating = function () {
    var self = this;
    var error = this.ratingErrorEl;
    var comment = this.ratingCommentEl.value.trim();
    error.hidden = true;
    if (!this.ratingScore) {
      error.textContent = TEXT.rateChoose;
      error.hidden = false;
      return;
    }
    if (comment.length > MAX_COMMENT) {
      error.textContent = TEXT.commentTooLong;
      error.hidden = false;
      return;
    }
    if (!this.socket || !this.socket.connected || !this.sessionReady) {
      error.textContent = TEXT.noConnection;
      error.hidden = false;
      return;
    }
    var data = { score: this.ratingScore };
    if (comment) data.comment = comment;
    this.ratingSendEl.disabled = true;
    this.socket.timeout(ACK_TIMEOUT_MS).emit("rate", data, function (err, resp) {
      if (self.destroyed) return;
      self.ratingSendEl.disabled = false;
      if (!err && isObject(resp) && resp.rated) {
        self.rating = "done";
        self.renderState();
        return;
      }
      error.textContent = err ? TEXT.noConnection : isObject(resp) && resp.error ? String(resp.error) : TEXT.failed;
      error.hidden = false;
    });
  };

  // -------------------------------------------------------------- sending

  Widget.prototype.submitInput = function () {
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
  };

  Widget.prototype.sendMessage = function (text, payload) {
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
  };

  // Pending messages are sent one at a time, in order (the server handles events
  // concurrently, so back-to-back emits could be stored out of order).
  Widget.prototype.flushPending = function () {
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
  };

  Widget.prototype.clearInflight = function () {
    this.inflight = null;
    this.sentThisConn = {};
    if (this.ackTimer) {
      global.clearTimeout(this.ackTimer);
      this.ackTimer = null;
    }
  };

  Widget.prototype.emitPending = function (p) {
    var self = this;
    var gen = this.connGen;
    var id = p.client_msg_id;
    var data = { client_msg_id: id, text: p.text };
    if (p.payload !== null && p.payload !== undefined) data.payload = p.payload;
    this.inflight = id;
    this.sentThisConn[id] = true;
    var li = this.pendingEls[id];
    if (li) this.setPendingMeta(li, TEXT.sending, false);

    this.ackTimer = global.setTimeout(function () {
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
  };

  Widget.prototype.setPendingMeta = function (li, text, unconfirmed) {
    var meta = li.querySelector(".pl-msg-meta");
    if (meta) meta.textContent = text;
    if (unconfirmed) li.setAttribute("data-unconfirmed", "true");
    else li.removeAttribute("data-unconfirmed");
  };

  Widget.prototype.removePending = function (id) {
    for (var i = 0; i < this.pending.length; i++) {
      if (this.pending[i].client_msg_id === id) {
        var p = this.pending[i];
        this.pending.splice(i, 1);
        this.savePending();
        return p;
      }
    }
    return null;
  };

  Widget.prototype.onAck = function (id, resp, gen) {
    if (this.destroyed) return;
    var advance = gen !== null && gen === this.connGen && this.inflight === id;
    if (advance) {
      this.inflight = null;
      if (this.ackTimer) {
        global.clearTimeout(this.ackTimer);
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
        if (this.isNearBottom()) this.scrollToBottom();
      }
    }
    if (advance) this.flushPending();
  };

  Widget.prototype.slowDown = function (id) {
    var self = this;
    var li = this.pendingEls[id];
    if (li) this.setPendingMeta(li, TEXT.tooFast, false);
    delete this.sentThisConn[id];
    this.slowDownDelay = this.slowDownDelay ? Math.min(this.slowDownDelay * 2, 30000) : 2000;
    if (this.slowDownTimer) global.clearTimeout(this.slowDownTimer);
    this.slowDownTimer = global.setTimeout(function () {
      self.slowDownTimer = null;
      self.flushPending();
    }, this.slowDownDelay);
  };

  // -------------------------------------------------------------- teardown

  Widget.prototype.destroy = function () {
    if (this.destroyed) return;
    this.destroyed = true;
    this.clearInflight();
    if (this.retryTimer) global.clearTimeout(this.retryTimer);
    if (this.slowDownTimer) global.clearTimeout(this.slowDownTimer);
    if (this.typingTimer) global.clearTimeout(this.typingTimer);
    if (this.ownTypingTimer) global.clearTimeout(this.ownTypingTimer);
    this.retryTimer = this.typingTimer = this.ownTypingTimer = null;
    if (this.socket) {
      this.socket.off();
      this.socket.disconnect();
      this.socket = null;
    }
    if (this.root && this.root.parentNode) this.root.parentNode.removeChild(this.root);
    this.root = null;
  };

  global.PromptlinkChat = {
    mount: function (options) {
      var w = new Widget(options);
      return {
        destroy: function () {
          w.destroy();
        },
      };
    },
  };
})(window);
