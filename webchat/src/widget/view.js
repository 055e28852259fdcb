/*
 * Chat widget: the frame — a compact header (title, connection state and who attends on one
 * line, «Terminar conversación» with its inline confirmation), queue line, message list with
 * the welcome and «Nuevos mensajes ↓», typing line, rating form and the input box.
 */
import { el, randomId } from "../common/util.js";
import { MAX_LENGTH, TEXT, TOPICS } from "./config.js";

// Within this many pixels of the end the log counts as «at the bottom» and follows new messages.
var NEAR_BOTTOM_PX = 80;

export var view = {
  buildDom: function () {
    var self = this;
    var root = el("section", "pl-chat");
    root.id = "pl-chat-" + randomId().slice(0, 8);
    root.setAttribute("aria-label", TEXT.title);

    var header = el("header", "pl-header");
    var heading = el("div", "pl-header-text");
    var title = el("h2", "pl-title", TEXT.title);
    var line = el("div", "pl-header-line");
    var status = el("p", "pl-status", TEXT.connecting);
    status.setAttribute("data-state", "connecting");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var who = el("p", "pl-agent");
    who.setAttribute("aria-live", "polite");
    who.hidden = true;
    line.appendChild(status);
    line.appendChild(who);
    heading.appendChild(title);
    heading.appendChild(line);
    // «Terminar» on screen (the header stays one line on a phone), the whole action for assistive technology.
    var end = el("button", "pl-end", TEXT.endShort);
    end.type = "button";
    end.setAttribute("aria-label", TEXT.end);
    end.hidden = true;
    end.setAttribute("aria-expanded", "false");
    header.appendChild(heading);
    header.appendChild(end);

    var confirm = this.buildEndConfirm();
    end.setAttribute("aria-controls", confirm.id);

    var queue = el("p", "pl-queue");
    queue.setAttribute("role", "status");
    queue.hidden = true;

    var log = el("div", "pl-log");
    var messages = el("div", "pl-messages");
    messages.setAttribute("role", "log");
    messages.setAttribute("aria-live", "polite");
    messages.setAttribute("aria-relevant", "additions");
    messages.setAttribute("aria-label", TEXT.messagesLabel);
    messages.setAttribute("tabindex", "0");
    var newer = el("button", "pl-new-messages", TEXT.newMessages);
    newer.type = "button";
    newer.hidden = true;
    log.appendChild(this.buildWelcome());
    log.appendChild(messages);
    log.appendChild(newer);

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
    root.appendChild(confirm);
    root.appendChild(queue);
    root.appendChild(unavailableBox);
    root.appendChild(log);
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
      self.askEndConfirmation();
    });
    newer.addEventListener("click", function () {
      self.scrollToBottom();
      newer.hidden = true;
      messages.focus();
    });
    var height = messages.clientHeight;
    messages.addEventListener("scroll", function () {
      // A scroll caused by the log changing size (a panel opening under it) is not the customer
      // scrolling up: while following the bottom, keep following it.
      if (messages.clientHeight !== height) {
        height = messages.clientHeight;
        if (self.stuck) {
          self.scrollToBottom();
          return;
        }
      }
      self.stuck = self.isNearBottom();
      if (self.stuck) newer.hidden = true;
    });
    form.addEventListener("submit", this.onSubmit);
    input.addEventListener("keydown", this.onKeyDown);
    input.addEventListener("input", this.onInput);

    this.root = root;
    this.headerEl = header;
    this.statusEl = status;
    this.messagesEl = messages;
    this.newMessagesEl = newer;
    this.typingEl = typing;
    this.inputEl = input;
    this.sendEl = send;
    this.formErrorEl = formError;
    this.agentEl = who;
    this.headerLineEl = line;
    this.endEl = end;
    this.queueEl = queue;
    this.stuck = true;
    this.followBottom();
    this.container.appendChild(root);
    this.renderState();
  },

  // The welcome of an empty chat: a short greeting and suggested topics sent as the customer's words.
  buildWelcome: function () {
    var self = this;
    var box = el("div", "pl-welcome");
    var textId = "pl-welcome-" + randomId().slice(0, 8);
    var text = el("p", "pl-welcome-text", TEXT.welcome);
    text.id = textId;
    var topics = el("div", "pl-topics");
    topics.setAttribute("role", "group");
    topics.setAttribute("aria-labelledby", textId);
    TOPICS.forEach(function (topic) {
      var b = el("button", "pl-topic", topic);
      b.type = "button";
      b.addEventListener("click", function () {
        self.sendMessage(topic, null);
        self.inputEl.focus();
      });
      topics.appendChild(b);
    });
    box.appendChild(text);
    box.appendChild(topics);
    this.welcomeEl = box;
    return box;
  },

  renderWelcome: function () {
    if (this.welcomeEl) this.welcomeEl.hidden = this.messagesEl.children.length > 0;
  },

  // «¿Terminar la conversación?» Sí/No, under the header: ending is one deliberate step more.
  buildEndConfirm: function () {
    var self = this;
    var box = el("div", "pl-confirm");
    box.id = "pl-confirm-" + randomId().slice(0, 8);
    box.setAttribute("role", "group");
    var question = el("p", "pl-confirm-text", TEXT.endQuestion);
    question.id = box.id + "-q";
    box.setAttribute("aria-labelledby", question.id);
    var yes = el("button", "pl-confirm-yes", TEXT.endYes);
    yes.type = "button";
    var no = el("button", "pl-confirm-no", TEXT.endNo);
    no.type = "button";
    box.appendChild(question);
    box.appendChild(yes);
    box.appendChild(no);
    box.hidden = true;
    yes.addEventListener("click", function () {
      self.hideEndConfirmation(false);
      self.endConversation();
      self.inputEl.focus();
    });
    no.addEventListener("click", function () {
      self.hideEndConfirmation(true);
    });
    box.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") self.hideEndConfirmation(true);
    });
    this.confirmEl = box;
    this.confirmNoEl = no;
    return box;
  },

  askEndConfirmation: function () {
    this.confirmEl.hidden = false;
    this.endEl.setAttribute("aria-expanded", "true");
    this.confirmNoEl.focus();
  },

  hideEndConfirmation: function (refocus) {
    if (!this.confirmEl || this.confirmEl.hidden) return;
    this.confirmEl.hidden = true;
    this.endEl.setAttribute("aria-expanded", "false");
    if (refocus && !this.endEl.hidden) this.endEl.focus();
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
    return m.scrollHeight - m.scrollTop - m.clientHeight < NEAR_BOTTOM_PX;
  },

  scrollToBottom: function () {
    var m = this.messagesEl;
    m.scrollTop = m.scrollHeight;
    this.stuck = true;
    if (this.newMessagesEl) this.newMessagesEl.hidden = true;
  },

  // While the customer is at the bottom, stay there whatever changes size: the log shrinking
  // under a panel (rating, confirmation, offer), a message growing (a thumbnail loading).
  followBottom: function () {
    var self = this;
    if (typeof window.ResizeObserver !== "function") return;
    this.resizeObserver = new window.ResizeObserver(function () {
      if (self.stuck) self.scrollToBottom();
    });
    this.resizeObserver.observe(this.messagesEl);
  },

  // A message arrived: follow it when at the bottom, else offer «Nuevos mensajes ↓».
  afterArrival: function (wasAtBottom) {
    if (wasAtBottom) this.scrollToBottom();
    else this.newMessagesEl.hidden = false;
  },

  showFormError: function (text) {
    this.formErrorEl.textContent = text;
    this.formErrorEl.hidden = false;
  },
};
