/*
 * Agent console, live chat: one composer with two tabs — «Responder» (a reply the customer
 * reads, sent on the /agent socket) and «Nota interna» (POST /conversations/{id}/notes: staff
 * only, never sent to the customer). An agent who does not handle the chat (a queued chat, a
 * supervisor watching) writes notes only.
 */
import { $, api, formMessage, isObject, setBusy } from "../core.js";
import { TEXT } from "../labels.js";
import { addEvent } from "./info.js";
import { onReplyInput, sendReply, stopTyping } from "./replies.js";
import { convPath, live, LT } from "./state.js";

export var MAX_NOTE = 4000;
var LABELS = {
  reply: "Respuesta al cliente (Intro envía; Mayús+Intro, nueva línea; «/», respuestas predefinidas)",
  note: "Nota interna — el cliente no la ve (Intro guarda; Mayús+Intro, nueva línea)",
};
var SEND = { reply: "Enviar", note: "Guardar nota" };

// `mode` is the tab shown; `chosen` is the agent's own choice, shown again as soon as they may reply (a
// chat opened while queued and then taken starts on «Responder», not on the notes it was forced to).
export var composer = { mode: "reply", chosen: "reply", canReply: false };

export function isNoteMode() {
  return composer.mode === "note";
}

/** Switch the composer to "reply" or "note" (a reply only when the agent handles the chat); `chosen`: the
 * agent picked it (a tab, Alt+N), so it is the tab shown whenever they may reply. */
export function setComposerMode(mode, focus, chosen) {
  if (chosen) composer.chosen = mode;
  if (mode === "reply" && !composer.canReply) mode = "note";
  if (mode !== composer.mode) stopTyping();
  composer.mode = mode;
  var tabs = { reply: $("composer-tab-reply"), note: $("composer-tab-note") };
  for (var name in tabs) {
    var on = name === mode;
    tabs[name].setAttribute("aria-selected", on ? "true" : "false");
    tabs[name].tabIndex = on ? 0 : -1;
  }
  $("composer-panel").setAttribute("aria-labelledby", tabs[mode].id);
  $("composer").setAttribute("data-mode", mode);
  $("reply-label").textContent = LABELS[mode];
  $("reply-send").textContent = SEND[mode];
  $("reply-text").setAttribute("maxlength", String(mode === "note" ? MAX_NOTE : 2000));
  formMessage($("reply-form"), "");
  if (focus) $("reply-text").focus();
}

export function toggleComposerMode() {
  setComposerMode(composer.mode === "note" ? "reply" : "note", true, true);
}

/** Called whenever the conversation's header is drawn: `act` = the caller may reply. */
export function renderComposer(conv, act) {
  $("composer").hidden = !!conv.gone;
  composer.canReply = !!act;
  $("composer-tab-reply").disabled = !act;
  setComposerMode(act ? composer.chosen : "note", false);
  // A closed conversation is read-only: nothing more to send (see `conv-ended` for why).
  var closed = !!conv.summary && conv.summary.mode === "closed";
  $("composer").setAttribute("data-closed", closed ? "true" : "false");
  $("composer-tab-note").disabled = closed;
  $("reply-text").disabled = closed;
  $("reply-send").disabled = closed;
}

/** The composer's submit: the reply, or the note. */
export function submitComposer() {
  if (isNoteMode()) saveNote();
  else sendReply();
}

export function onComposerInput() {
  if (!isNoteMode()) onReplyInput(); // a note is not «the agent is typing» for the customer
}

function saveNote() {
  var conv = live.current ? live.convs[live.current] : null;
  var form = $("reply-form");
  var input = $("reply-text");
  if (!conv || form.getAttribute("aria-busy") === "true") return;
  var text = input.value.trim();
  if (!text) {
    formMessage(form, LT.noteRequired, true);
    input.focus();
    return;
  }
  setBusy(form, true);
  api("POST", convPath(conv.id) + "/notes", { text: text }).then(
    function (event) {
      setBusy(form, false);
      input.value = "";
      formMessage(form, TEXT.noteSaved, false);
      if (isObject(event)) addEvent(conv, event);
      input.focus();
    },
    function (err) {
      setBusy(form, false);
      formMessage(form, err.message, true);
    }
  );
}

/** Tabs: click, and the arrow keys between them (the ARIA tabs pattern). */
export function wireComposer() {
  var reply = $("composer-tab-reply");
  var note = $("composer-tab-note");
  reply.addEventListener("click", function () {
    setComposerMode("reply", true, true);
  });
  note.addEventListener("click", function () {
    setComposerMode("note", true, true);
  });
  [reply, note].forEach(function (tab) {
    tab.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight" && event.key !== "Home" && event.key !== "End") {
        return;
      }
      event.preventDefault();
      var next = tab === reply ? note : reply;
      if (event.key === "Home") next = reply;
      if (event.key === "End") next = note;
      if (next.disabled) return;
      setComposerMode(next === reply ? "reply" : "note", false, true);
      next.focus();
    });
  });
}
