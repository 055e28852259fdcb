/*
 * Chat widget: quick replies — the assistant's buttons under a message. One click sends the
 * button's title (and payload) as the customer's answer and disables the row; the choice is
 * kept in the transcript so a reload shows it. Rows answered later (the customer wrote, or a
 * newer row came) are disabled by messages.js `refreshQuickReplies`, also in a replayed history.
 */
import { el } from "../common/util.js";

/** The row of buttons for `entry.buttons` (non-empty), wired to `widget`. */
export function quickReplies(widget, entry) {
  var row = el("div", "pl-buttons");
  row.setAttribute("role", "group");
  var buttonEls = [];
  entry.buttons.forEach(function (b, index) {
    var btn = el("button", "pl-button", b.title);
    btn.type = "button";
    if (entry.buttons_used) btn.disabled = true;
    if (entry.buttons_chosen === index) btn.setAttribute("aria-pressed", "true");
    btn.addEventListener("click", function (ev) {
      if (btn.disabled) return;
      buttonEls.forEach(function (x) {
        x.disabled = true;
      });
      row.setAttribute("data-used", "true");
      btn.setAttribute("aria-pressed", "true");
      entry.buttons_used = true;
      entry.buttons_chosen = index;
      widget.saveTranscript();
      widget.sendMessage(b.title, b.payload);
      // The row is disabled now: keep the keyboard in the conversation, not on the page. A tap
      // (touch) does not pop the phone's keyboard up.
      if (ev.detail === 0 || !window.matchMedia("(pointer: coarse)").matches) widget.inputEl.focus();
    });
    buttonEls.push(btn);
    row.appendChild(btn);
  });
  if (entry.buttons_used) row.setAttribute("data-used", "true");
  return row;
}
