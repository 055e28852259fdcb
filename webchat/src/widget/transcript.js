/*
 * Chat widget: the ended conversation by e-mail. Once the chat is closed the customer may ask
 * for its transcript (`transcript` on the socket). The backend sends it to the e-mail it knows
 * for the contact; an anonymous visitor is asked for one (checked here and by the server).
 */
import { el, isObject, randomId } from "../common/util.js";
import { ACK_TIMEOUT_MS, TEXT } from "./config.js";

var EMAIL = /^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$/;

export var MAIL_TEXT = {
  ask: "Recibir la conversación por correo",
  emailLabel: "Su correo electrónico",
  send: "Enviar la conversación",
  sending: "Enviando…",
  sentTo: "Le enviamos la conversación a ",
  badEmail: "El correo electrónico no es válido (ejemplo: nombre@empresa.com).",
};

export var transcriptMail = {
  buildMailForm: function () {
    var self = this;
    var form = el("form", "pl-mail");
    form.setAttribute("novalidate", "");
    form.hidden = true;
    var ask = el("button", "pl-mail-ask", MAIL_TEXT.ask);
    ask.type = "button";
    var fields = el("div", "pl-mail-fields");
    fields.hidden = true;
    var inputId = "pl-mail-" + randomId().slice(0, 8);
    var label = el("label", "pl-mail-label", MAIL_TEXT.emailLabel);
    label.setAttribute("for", inputId);
    var input = el("input", "pl-mail-email");
    input.id = inputId;
    input.type = "email";
    input.setAttribute("autocomplete", "email");
    input.setAttribute("maxlength", "254");
    var send = el("button", "pl-mail-send", MAIL_TEXT.send);
    send.type = "submit";
    fields.appendChild(label);
    fields.appendChild(input);
    fields.appendChild(send);
    var error = el("p", "pl-mail-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    var done = el("p", "pl-mail-done");
    done.setAttribute("role", "status");
    done.hidden = true;
    form.appendChild(ask);
    form.appendChild(fields);
    form.appendChild(error);
    form.appendChild(done);
    ask.addEventListener("click", function () {
      self.requestMail(null);
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var email = input.value.trim();
      if (!EMAIL.test(email)) {
        self.showMailError(MAIL_TEXT.badEmail);
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      input.removeAttribute("aria-invalid");
      self.requestMail(email);
    });
    this.mailEl = form;
    this.mailAskEl = ask;
    this.mailFieldsEl = fields;
    this.mailInputEl = input;
    this.mailSendEl = send;
    this.mailErrorEl = error;
    this.mailDoneEl = done;
    return form;
  },

  // Shown while the conversation is closed; a new conversation starts without it.
  renderMailForm: function () {
    if (!this.mailEl) return;
    var show = this.mode === "closed";
    if (!show && !this.mailEl.hidden) {
      this.mailFieldsEl.hidden = true;
      this.mailErrorEl.hidden = true;
      this.mailDoneEl.hidden = true;
      this.mailAskEl.hidden = false;
    }
    this.mailEl.hidden = !show;
  },

  showMailError: function (text) {
    this.mailErrorEl.textContent = text;
    this.mailErrorEl.hidden = false;
  },

  requestMail: function (email) {
    var self = this;
    this.mailErrorEl.hidden = true;
    if (!this.socket || !this.socket.connected || !this.sessionReady) {
      this.showMailError(TEXT.noConnection);
      return;
    }
    var busy = email ? this.mailSendEl : this.mailAskEl;
    busy.disabled = true;
    this.socket.timeout(ACK_TIMEOUT_MS).emit("transcript", email ? { email: email } : {}, function (err, resp) {
      if (self.destroyed) return;
      busy.disabled = false;
      if (err) {
        self.showMailError(TEXT.noConnection);
        return;
      }
      if (isObject(resp) && resp.sent) {
        self.mailAskEl.hidden = true;
        self.mailFieldsEl.hidden = true;
        self.mailDoneEl.textContent = MAIL_TEXT.sentTo + String(resp.to || "") + ".";
        self.mailDoneEl.hidden = false;
        return;
      }
      if (isObject(resp) && resp.need_email) {
        self.mailAskEl.hidden = true;
        self.mailFieldsEl.hidden = false;
        self.mailInputEl.focus();
        return;
      }
      self.showMailError(isObject(resp) && resp.error ? String(resp.error) : TEXT.failed);
    });
  },
};
