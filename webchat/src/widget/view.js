/*
 * Chat widget: the frame — header (title, connection state, who attends, «Terminar
 * conversación»), queue line, message list, typing line, rating form and the input box.
 */
import { el, randomId } from "../common/util.js";
import { MAX_LENGTH, TEXT } from "./config.js";

export var view = {
  buildDom: function () {
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
    this.formErrorEl = formError;
    this.buildAttach(form, send);

    var rating = this.buildRating();
    var unavailableBox = this.buildUnavailable();
    var mail = this.buildMailForm();

    root.appendChild(header);
    root.appendChild(queue);
    root.appendChild(unavailableBox);
    root.appendChild(messages);
    root.appendChild(typing);
    root.appendChild(rating);
    root.appendChild(mail);
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
  },

  autoGrow: function () {
    var input = this.inputEl;
    // Grow the textarea up to ~6 lines using rows (no inline styles: CSP style-src 'self').
    var lines = input.value.split("\n").length;
    input.rows = Math.max(1, Math.min(6, lines));
  },

  setStatus: function (state, text) {
    this.statusEl.setAttribute("data-state", state);
    this.statusEl.textContent = text;
  },

  isNearBottom: function () {
    var m = this.messagesEl;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  },

  scrollToBottom: function () {
    var m = this.messagesEl;
    m.scrollTop = m.scrollHeight;
  },

  showFormError: function (text) {
    this.formErrorEl.textContent = text;
    this.formErrorEl.hidden = false;
  },
};
