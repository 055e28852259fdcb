/*
 * Agent console, live chat: the buttons and forms of a conversation — reply, presence, «Tomar»,
 * hand back to the assistant, transfer and close; the composer (reply / internal note, canned
 * responses) and the keyboard shortcuts are wired here too.
 */
import { $, api, formMessage, isObject, missing, onSubmit, setBusy } from "../core.js";
import { TIER_NAMES } from "../labels.js";
import { loadDetail, renderConvHead } from "./conversation.js";
import { closePicker, onCannedInput, onCannedKeydown } from "./canned.js";
import { onComposerInput, submitComposer, wireComposer } from "./composer.js";
import { claim, loadChatQueues, loadMyChats, onPresenceChange } from "./lists.js";
import { stopTyping } from "./replies.js";
import { wireShortcuts } from "./shortcuts.js";
import { convPath, live, LT } from "./state.js";

// ------------------------------------------------------------ actions

export function convAction(box, call, okText, after) {
  var conv = live.current ? live.convs[live.current] : null;
  if (!conv || box.getAttribute("aria-busy") === "true") return;
  setBusy(box, true);
  formMessage(box, "");
  call(conv).then(
    function (summary) {
      setBusy(box, false);
      if (isObject(summary) && summary.conversation_id) conv.summary = summary;
      formMessage(box, okText, false);
      if (after) after(conv);
      renderConvHead(conv);
      loadMyChats();
      loadChatQueues();
      loadDetail(conv, true);
    },
    function (err) {
      setBusy(box, false);
      formMessage(box, err.message, true);
    }
  );
}

export function wireActions() {
  var reply = $("reply-form");
  onSubmit(reply, submitComposer);
  $("reply-text").addEventListener("keydown", function (event) {
    if (onCannedKeydown(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submitComposer();
    }
  });
  $("reply-text").addEventListener("input", function () {
    onComposerInput();
    onCannedInput();
  });
  $("reply-text").addEventListener("blur", function () {
    stopTyping();
    closePicker();
  });
  wireComposer();
  wireShortcuts();

  $("presence-select").addEventListener("change", onPresenceChange);

  $("conv-claim").addEventListener("click", function () {
    if (live.current) claim(live.current, $("conv-claim"));
  });

  // Handing back and closing end the agent's part: both ask first (inline, in the page).
  wireConfirm($("conv-hand-back"), "hand-back", function () {
    convAction($("conv-actions"), function (conv) {
      return api("POST", convPath(conv.id) + "/hand-back", {});
    }, "Conversación devuelta al asistente.");
  });

  var transfer = $("transfer-form");
  onSubmit(transfer, function (form) {
    var tier = $("transfer-tier").value;
    if (!tier) {
      formMessage(form, LT.chooseTier, true);
      $("transfer-tier").focus();
      return;
    }
    if (missing(form, $("transfer-reason"), LT.reasonRequired)) return;
    var reason = $("transfer-reason").value.trim();
    convAction(
      form,
      function (conv) {
        return api("POST", convPath(conv.id) + "/transfer", { tier: tier, reason: reason });
      },
      "Conversación transferida a " + (TIER_NAMES[tier] || tier) + ".",
      function () {
        form.reset();
      }
    );
  });

  var close = $("close-form");
  var askClose = wireConfirm(close.querySelector("button[type=submit]"), "close", function () {
    if (missing(close, $("close-resolution"), LT.resolutionRequired)) return;
    var resolution = $("close-resolution").value.trim();
    convAction(
      close,
      function (conv) {
        return api("POST", convPath(conv.id) + "/close", { resolution: resolution });
      },
      "Conversación cerrada.",
      function () {
        close.reset();
      }
    );
  });
  onSubmit(close, function (form) {
    if (missing(form, $("close-resolution"), LT.resolutionRequired)) return;
    formMessage(form, "");
    askClose();
  });
}

/**
 * An inline confirmation (`<prefix>-confirm` with `<prefix>-yes` / `<prefix>-no`) before `act`:
 * `trigger` shows it (the close form's submit goes through the returned `ask` instead, after its
 * check); «Sí» acts, «Cancelar» or Esc hides it and gives the focus back to `trigger`.
 */
export function wireConfirm(trigger, prefix, act) {
  var box = $(prefix + "-confirm");
  var yes = $(prefix + "-yes");
  var no = $(prefix + "-no");
  function ask() {
    box.hidden = false;
    trigger.setAttribute("aria-expanded", "true");
    yes.focus();
  }
  function cancel() {
    box.hidden = true;
    trigger.setAttribute("aria-expanded", "false");
    trigger.focus();
  }
  trigger.setAttribute("aria-expanded", "false");
  if (trigger.type !== "submit") trigger.addEventListener("click", ask);
  yes.addEventListener("click", function () {
    box.hidden = true;
    trigger.setAttribute("aria-expanded", "false");
    act();
  });
  no.addEventListener("click", cancel);
  box.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      cancel();
    }
  });
  return ask;
}

/** Another conversation, or a new state: no confirmation stays open. */
export function hideConfirms() {
  $("hand-back-confirm").hidden = true;
  $("close-confirm").hidden = true;
}
