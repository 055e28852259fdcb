/*
 * Chat widget: nobody of the requested level is online (`no_agents` from the server). The
 * widget says so plainly and offers to leave the details — the ticket already opened, which
 * is answered at its priority's update cadence — or to keep waiting. The offer is kept (per
 * conversation) so a reload shows it again while the chat still waits.
 */
import { el, isObject } from "../common/util.js";

export var UNAVAILABLE_TEXT = {
  leave: "Dejar mis datos y terminar",
  wait: "Seguir esperando",
  left: "Sus datos quedan en el tiquete ",
};

export var unavailable = {
  buildUnavailable: function () {
    var self = this;
    var box = el("div", "pl-unavailable");
    box.setAttribute("role", "status");
    box.hidden = true;
    var text = el("p", "pl-unavailable-text");
    var actions = el("div", "pl-unavailable-actions");
    var leave = el("button", "pl-unavailable-leave", UNAVAILABLE_TEXT.leave);
    leave.type = "button";
    var wait = el("button", "pl-unavailable-wait", UNAVAILABLE_TEXT.wait);
    wait.type = "button";
    actions.appendChild(leave);
    actions.appendChild(wait);
    box.appendChild(text);
    box.appendChild(actions);
    leave.addEventListener("click", function () {
      // The details are the ticket already opened: ending the chat leaves the case there.
      self.setUnavailableOffer(null);
      self.endConversation();
      self.renderUnavailable();
    });
    wait.addEventListener("click", function () {
      self.setUnavailableOffer(null);
      self.renderUnavailable();
      if (self.inputEl) self.inputEl.focus();
    });
    this.unavailableEl = box;
    this.unavailableTextEl = text;
    this.unavailableLeaveEl = leave;
    return box;
  },

  onNoAgents: function (data) {
    if (!isObject(data) || !data.text) return;
    this.nobodyOnline = true;
    this.setUnavailableOffer({ text: String(data.text), ticket: data.ticket ? String(data.ticket) : null });
    this.renderState();
  },

  // The offer (null: none, or dismissed with «Seguir esperando»), remembered for this conversation.
  setUnavailableOffer: function (offer) {
    this.unavailableOffer = offer;
    this.store.set("unavailable", { conversation_id: this.conversationId, offer: offer, nobody: !!this.nobodyOnline });
  },

  // After a reload: the offer of this conversation, shown again if it still waits (onSession).
  restoreUnavailable: function () {
    var kept = this.store.get("unavailable", null);
    if (!isObject(kept) || kept.conversation_id !== this.conversationId || this.mode !== "queued") return;
    var offer = isObject(kept.offer) && typeof kept.offer.text === "string" ? kept.offer : null;
    this.nobodyOnline = !!kept.nobody;
    this.unavailableOffer = offer
      ? { text: offer.text, ticket: typeof offer.ticket === "string" ? offer.ticket : null }
      : null;
  },

  // Only while the chat waits in a queue.
  renderUnavailable: function () {
    if (!this.unavailableEl) return;
    var offer = this.mode === "queued" ? this.unavailableOffer : null;
    if (this.mode && this.mode !== "queued" && (this.unavailableOffer || this.nobodyOnline)) {
      this.nobodyOnline = false;
      this.setUnavailableOffer(null);
    }
    this.unavailableEl.hidden = !offer;
    if (!offer) return;
    this.unavailableTextEl.textContent = offer.text;
    this.unavailableLeaveEl.hidden = !offer.ticket;
  },
};
