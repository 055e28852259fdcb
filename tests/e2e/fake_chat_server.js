/*
 * A stand-in for the socket.io client in widget tests (served instead of
 * /webchat/vendor/socket.io.min.js): `window.io()` returns a socket whose "server" lives in the
 * page and keeps its conversation in localStorage, so a reload resumes and replays it like the
 * backend does (docs/chat-protocol.md). Tests drive it through `window.__plFake`.
 */
(function () {
  "use strict";
  var KEY = "__plfake";
  var state;
  try {
    state = JSON.parse(window.localStorage.getItem(KEY));
  } catch (e) {
    state = null;
  }
  state = state || { conversation_id: "c-fake-1", mode: "bot", tier: null, agent: null, rating_requested: false, messages: [], sent: [] };
  var sockets = [];

  function save() {
    window.localStorage.setItem(KEY, JSON.stringify(state));
  }
  function nextSeq() {
    return state.messages.length ? state.messages[state.messages.length - 1].seq + 1 : 1;
  }
  function store(m) {
    m.seq = nextSeq();
    m.conversation_id = state.conversation_id;
    m.created_at = new Date().toISOString();
    state.messages.push(m);
    save();
    return m;
  }
  function broadcast(event, data) {
    sockets.forEach(function (s) {
      if (s.connected) s.fire(event, data);
    });
  }
  function handle(event, data) {
    state.sent.push({ event: event, data: data });
    save();
    if (event === "message") return { seq: store({ role: "customer", text: data.text }).seq };
    if (event === "end") {
      window.setTimeout(function () {
        window.__plFake.emit("closed", { rating_requested: true, by: "customer" });
      }, 0);
      return { mode: "closed" };
    }
    if (event === "rate") {
      state.rating_requested = false;
      save();
      return { rated: true };
    }
    if (event === "transcript") return { sent: true, to: "ana.gomez@cableandina.example" };
    return {};
  }

  function Socket(opts) {
    var self = this;
    this.opts = opts || {};
    this.handlers = {};
    this.connected = false;
    this.active = true;
    sockets.push(this);
    window.setTimeout(function () {
      self.connect();
    }, 0);
  }
  Socket.prototype.on = function (event, fn) {
    (this.handlers[event] = this.handlers[event] || []).push(fn);
    return this;
  };
  Socket.prototype.off = function () {
    this.handlers = {};
    return this;
  };
  Socket.prototype.fire = function (event, data) {
    (this.handlers[event] || []).slice().forEach(function (fn) {
      fn(data);
    });
  };
  Socket.prototype.connect = function () {
    var auth = {};
    if (typeof this.opts.auth === "function") {
      this.opts.auth(function (a) {
        auth = a || {};
      });
    }
    this.connected = true;
    this.fire("connect");
    this.fire("session", {
      conversation_id: state.conversation_id,
      mode: state.mode,
      resume_token: "fake-resume-token",
      tier: state.tier,
      agent: state.agent,
      rating_requested: state.rating_requested,
      customer: "CABLEANDINA",
      name: "Ana Gómez",
    });
    var last = auth.last_seq || 0;
    var self = this;
    state.messages.forEach(function (m) {
      if (m.seq > last) self.fire("message", m);
    });
  };
  Socket.prototype.disconnect = function () {
    this.connected = false;
  };
  Socket.prototype.emit = function (event, data, ack) {
    var resp = handle(event, data);
    if (ack) window.setTimeout(function () { ack(resp); }, 0);
  };
  Socket.prototype.timeout = function () {
    return {
      emit: function (event, data, cb) {
        var resp = handle(event, data);
        window.setTimeout(function () { cb(null, resp); }, 0);
      },
    };
  };

  window.__plFake = {
    // A server message (bot, agent or system) to every open socket; returns its seq.
    say: function (role, text, extra) {
      var m = store(Object.assign({ role: role, text: text }, extra || {}));
      broadcast("message", m);
      return m.seq;
    },
    // A server event; the state a reload's `session` tells follows it.
    emit: function (event, data) {
      if (event === "handoff") {
        state.mode = "queued";
        state.tier = data.tier;
        state.agent = null;
      } else if (event === "agent_joined") {
        state.mode = "human";
        state.agent = { name: data.name, tier: data.tier };
      } else if (event === "closed") {
        state.mode = "closed";
        state.agent = null;
        state.tier = null;
        state.rating_requested = true;
      } else if (event === "state") {
        state.mode = data.mode;
      }
      save();
      broadcast(event, data);
    },
    // What the widget sent: the payloads of `event`.
    sent: function (event) {
      return state.sent.filter(function (x) { return x.event === event; }).map(function (x) { return x.data; });
    },
  };
  window.io = function (url, opts) {
    return new Socket(opts);
  };
})();
