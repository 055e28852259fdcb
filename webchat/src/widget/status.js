/*
 * Chat widget: the handoff and queue state — who attends (assistant, queue, a person and
 * their level), the place in the queue, the typing lines both ways and «Terminar
 * conversación» (with a person or queued only, confirmed inline in view.js). The server
 * decides the mode; the widget shows it.
 */
import { isObject } from "../common/util.js";
import { ACK_TIMEOUT_MS, TEXT, TYPING_IDLE_MS, TYPING_TIMEOUT_MS } from "./config.js";
import { tierLabel } from "./util.js";

export var status = {
  // Header (level and agent), queue place, «Terminar conversación» and the rating form.
  renderState: function () {
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
    // One header line: a long name may be cut on screen, so the whole line is its tooltip too.
    this.agentEl.title = this.agentEl.textContent;
    this.headerLineEl.setAttribute("data-attended", this.agentEl.hidden ? "false" : "true");
    this.root.setAttribute("data-mode", this.mode || "");

    // The one place that says the place in the queue; it changes with every `handoff` event.
    // While nobody of the level is online an estimate would contradict the offer below it
    // (which says how and when the customer is contacted), so it is left out then.
    var q = this.mode === "queued" ? this.queue : null;
    if (q) {
      var parts = [];
      var t = tierLabel(q.tier);
      parts.push(t ? "En cola para un especialista de Nivel " + t + "." : "En cola para un especialista.");
      if (q.position !== undefined && q.position !== null && q.position !== "") {
        parts.push("Posición: " + String(q.position) + ".");
      }
      var eta = Number(q.eta_seconds);
      var nobody = !!this.nobodyOnline;
      if (!nobody && q.eta_seconds !== undefined && q.eta_seconds !== null && isFinite(eta) && eta >= 0) {
        parts.push("Espera estimada: " + Math.max(1, Math.ceil(eta / 60)) + " min.");
      }
      this.queueEl.textContent = parts.join(" ");
      this.queueEl.hidden = false;
    } else {
      this.queueEl.textContent = "";
      this.queueEl.hidden = true;
    }

    // Ending is for a chat with a person (or waiting for one); with the assistant there is
    // nothing to end.
    var live = this.mode === "queued" || this.mode === "human";
    this.endEl.hidden = !(this.conversationId && this.lastSeq > 0 && live);
    if (this.endEl.hidden) this.hideEndConfirmation(false);

    var asking = this.rating === "requested" || this.rating === "done";
    this.ratingEl.hidden = !asking || this.mode !== "closed";
    this.ratingSetEl.hidden = this.rating !== "requested";
    this.ratingThanksEl.hidden = this.rating !== "done";
    this.renderUnavailable();
    this.renderMailForm();
  },

  setTyping: function (role, on, name) {
    var self = this;
    if (this.typingTimer) {
      window.clearTimeout(this.typingTimer);
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
      this.typingTimer = window.setTimeout(function () {
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
  },

  // The place in the queue is shown (and updated in place) under the header; the server
  // stores the Spanish notice in the transcript itself.
  onHandoff: function (data) {
    if (!isObject(data)) return;
    this.mode = "queued";
    this.agent = null;
    this.queue = { tier: data.tier || null, position: data.position, eta_seconds: data.eta_seconds };
    this.setTyping("agent", false);
    this.renderState();
  },

  onAgentJoined: function (data) {
    if (!isObject(data)) return;
    this.mode = "human";
    this.queue = null;
    this.agent = { name: data.name ? String(data.name) : TEXT.agent, tier: data.tier ? String(data.tier) : null };
    this.renderState();
  },

  // The customer is writing (only worth telling while a person handles or will handle the chat).
  noteTyping: function () {
    var self = this;
    if (!this.socket || !this.socket.connected || !this.sessionReady) return;
    if (this.mode !== "human" && this.mode !== "queued") return;
    if (!this.ownTyping) {
      this.ownTyping = true;
      this.socket.emit("typing", { on: true });
    }
    if (this.ownTypingTimer) window.clearTimeout(this.ownTypingTimer);
    this.ownTypingTimer = window.setTimeout(function () {
      self.stopOwnTyping();
    }, TYPING_IDLE_MS);
  },

  stopOwnTyping: function () {
    if (this.ownTypingTimer) window.clearTimeout(this.ownTypingTimer);
    this.ownTypingTimer = null;
    if (this.ownTyping && this.socket && this.socket.connected) this.socket.emit("typing", { on: false });
    this.ownTyping = false;
  },

  endConversation: function () {
    var self = this;
    if (!this.socket || !this.socket.connected || !this.sessionReady) {
      this.showFormError(TEXT.noConnection);
      return;
    }
    this.stopOwnTyping();
    this.endEl.disabled = true;
    this.endEl.textContent = TEXT.ending;
    this.endEl.setAttribute("aria-label", TEXT.ending);
    this.socket.timeout(ACK_TIMEOUT_MS).emit("end", {}, function (err, resp) {
      if (self.destroyed) return;
      self.endEl.disabled = false;
      self.endEl.textContent = TEXT.endShort;
      self.endEl.setAttribute("aria-label", TEXT.end);
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
  },
};
