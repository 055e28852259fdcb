/*
 * Chat widget: the floating launcher (options.launcher) — a round button at the bottom right
 * that opens and closes the chat, with a badge counting the messages that arrived while it
 * was closed. Open or closed is remembered per identity; the first visit opens it. Without
 * the option the widget sits inline where the page put it.
 */
import { el } from "../common/util.js";
import { TEXT } from "./config.js";

export var launcher = {
  buildLauncher: function () {
    var self = this;
    var button = el("button", "pl-launcher");
    button.type = "button";
    button.setAttribute("aria-controls", this.root.id);
    // A speech bubble drawn in CSS while closed, «×» while open (no emoji: not every system has the font).
    var icon = el("span", "pl-launcher-icon");
    icon.setAttribute("aria-hidden", "true");
    var close = el("span", "pl-launcher-close", "×");
    close.setAttribute("aria-hidden", "true");
    var badge = el("span", "pl-launcher-badge");
    badge.setAttribute("aria-hidden", "true");
    badge.hidden = true;
    button.appendChild(icon);
    button.appendChild(close);
    button.appendChild(badge);
    button.addEventListener("click", function () {
      self.setOpen(!self.open);
    });

    var minimize = el("button", "pl-minimize", "×");
    minimize.type = "button";
    minimize.setAttribute("aria-label", TEXT.minimize);
    minimize.setAttribute("aria-controls", this.root.id);
    minimize.addEventListener("click", function () {
      self.setOpen(false);
    });
    this.headerEl.appendChild(minimize);

    this.root.className += " pl-chat--floating";
    this.container.appendChild(button);
    this.launcherEl = button;
    this.badgeEl = badge;
    this.unread = 0;
    this.setOpen(this.store.get("open", true) !== false, true);
  },

  setOpen: function (open, initial) {
    this.open = !!open;
    this.store.set("open", this.open);
    this.root.hidden = !this.open;
    this.root.setAttribute("data-open", this.open ? "true" : "false");
    this.launcherEl.setAttribute("aria-expanded", this.open ? "true" : "false");
    this.launcherEl.setAttribute("data-open", this.open ? "true" : "false");
    if (this.open) {
      this.unread = 0;
      this.scrollToBottom();
      if (!initial) this.inputEl.focus();
    } else if (!initial) {
      this.launcherEl.focus();
    }
    this.renderLauncher();
  },

  // A message from the other side while the chat is closed.
  countUnread: function () {
    if (!this.launcherEl || this.open) return;
    this.unread += 1;
    this.renderLauncher();
  },

  renderLauncher: function () {
    var label = this.open ? TEXT.launcherClose : TEXT.launcherOpen;
    if (!this.open && this.unread > 0) {
      label += " (" + (this.unread === 1 ? TEXT.unreadOne : this.unread + TEXT.unreadMany) + ")";
    }
    this.launcherEl.setAttribute("aria-label", label);
    this.badgeEl.textContent = this.unread > 99 ? "99+" : String(this.unread);
    this.badgeEl.hidden = this.open || this.unread === 0;
  },
};
