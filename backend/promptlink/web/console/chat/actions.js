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

  $("conv-hand-back").addEventListener("click", function () {
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
  onSubmit(close, function (form) {
    if (missing(form, $("close-resolution"), LT.resolutionRequired)) return;
    var resolution = $("close-resolution").value.trim();
    convAction(
      form,
      function (conv) {
        return api("POST", convPath(conv.id) + "/close", { resolution: resolution });
      },
      "Conversación cerrada.",
      function () {
        form.reset();
      }
    );
  });
}
