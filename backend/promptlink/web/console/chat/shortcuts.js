/*
 * Agent console, live chat: keyboard shortcuts.
 *
 *   Ctrl/⌘+Intro   send the reply (or save the note)      Alt+N   switch «Responder» / «Nota interna»
 *   Alt+C          take the first chat waiting             Alt+T   open the transfer
 *   ?              this list (outside text fields)          Esc     close it
 *
 * Alt shortcuts work everywhere in the live chat view (keys are matched by `code`, so a layout
 * where Alt+N types a character still works); «?» only outside text fields, so typing is never
 * taken over.
 */
import { $, el, state } from "../core.js";
import { composer, submitComposer, toggleComposerMode } from "./composer.js";
import { live } from "./state.js";

export var SHORTCUTS = [
  ["Ctrl+Intro (⌘+Intro)", "Enviar la respuesta o guardar la nota"],
  ["Alt+N", "Cambiar entre «Responder» y «Nota interna»"],
  ["Alt+C", "Tomar el primer chat en espera"],
  ["Alt+T", "Transferir la conversación abierta"],
  ["?", "Mostrar u ocultar esta lista de atajos"],
];

function typingIn(target) {
  if (!target || !target.tagName) return false;
  var tag = target.tagName.toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
}

function inChats() {
  return state.view === "chats" && !!live.me;
}

function shortcutsMessage(text) {
  var box = $("shortcuts-msg");
  box.textContent = text || "";
  box.hidden = !text;
}

/** Alt+C: the first «Tomar» of the chat queues. */
function claimNext() {
  var take = document.querySelector("#chat-queues .chat-claim:not([disabled])");
  if (!take) {
    shortcutsMessage("No hay chats en espera que pueda tomar.");
    return;
  }
  shortcutsMessage("");
  take.click();
}

/** Alt+T: the transfer of the open conversation (its level first). */
function openTransfer() {
  var form = $("transfer-form");
  if (!live.current || !form || form.hidden || $("conv-body").hidden) {
    shortcutsMessage("Abra una conversación que atienda para transferirla.");
    return;
  }
  shortcutsMessage("");
  form.scrollIntoView({ block: "nearest" });
  $("transfer-tier").focus();
}

function helpDialog() {
  var dialog = $("shortcuts-help");
  if (dialog) return dialog;
  dialog = el("dialog", "shortcuts-help");
  dialog.id = "shortcuts-help";
  dialog.setAttribute("aria-labelledby", "shortcuts-help-title");
  dialog.appendChild(el("h2", null, "Atajos de teclado"));
  dialog.firstChild.id = "shortcuts-help-title";
  var list = el("dl", "shortcuts-list");
  SHORTCUTS.forEach(function (item) {
    list.appendChild(el("dt", null, item[0]));
    list.appendChild(el("dd", null, item[1]));
  });
  dialog.appendChild(list);
  var close = el("button", "button", "Cerrar");
  close.type = "button";
  close.addEventListener("click", function () {
    dialog.close();
  });
  dialog.appendChild(close);
  document.body.appendChild(dialog);
  return dialog;
}

export function toggleHelp() {
  var dialog = helpDialog();
  if (dialog.open) dialog.close();
  else dialog.showModal();
}

function onKeydown(event) {
  if (event.defaultPrevented || event.isComposing || !inChats()) return;
  var target = event.target;
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target && target.id === "reply-text") {
    event.preventDefault();
    submitComposer();
    return;
  }
  if (event.altKey && !event.ctrlKey && !event.metaKey) {
    if (event.code === "KeyN") {
      if (!live.current || $("composer").hidden) return;
      event.preventDefault();
      toggleComposerMode();
      shortcutsMessage(composer.mode === "note" ? "Modo: nota interna." : "Modo: respuesta al cliente.");
      return;
    }
    if (event.code === "KeyC") {
      event.preventDefault();
      claimNext();
      return;
    }
    if (event.code === "KeyT") {
      event.preventDefault();
      openTransfer();
      return;
    }
  }
  if (event.key === "?" && !event.ctrlKey && !event.metaKey && !event.altKey && !typingIn(target)) {
    event.preventDefault();
    toggleHelp();
  }
}

export function wireShortcuts() {
  document.addEventListener("keydown", onKeydown);
  $("shortcuts-open").addEventListener("click", toggleHelp);
}
