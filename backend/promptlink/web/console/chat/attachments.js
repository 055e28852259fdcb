/*
 * Agent console: files in the chat and on tickets (issue 15). The paperclip «Adjuntar archivo»
 * of the reply form sends a file to the customer (the server emits it as a `message` with an
 * `attachment`); the transcript shows attachments with a thumbnail for images and a download
 * link; the ticket page lists the ticket's files (its e-mails' and its chat's).
 */
import {
  ATTACH_TEXT,
  attachmentEl,
  MAX_FILE_BYTES,
  paperclip,
  sanitizeAttachment,
  sendFile,
} from "/webchat/common/attachments.js";
import { $, api, clear, el, formMessage, formatDateTime, ticketPath } from "../core.js";
import { onMessage } from "./conversation.js";
import { live } from "./state.js";

var AT = {
  sent: "Archivo enviado.",
  by: { customer: "cliente", agent: "agente", email: "correo" },
};

/** The paperclip of the reply form (once). */
export function wireChatAttachments() {
  var form = $("reply-form");
  if (!form || form.querySelector(".reply-attach")) return;
  var clip = paperclip("button reply-attach", "pl-visually-hidden reply-file", function (file) {
    upload(form, clip.button, file);
  });
  clip.button.appendChild(el("span", "reply-attach-text", " " + ATTACH_TEXT.attach));
  form.appendChild(clip.input);
  form.appendChild(clip.button);
}

function upload(form, button, file) {
  var id = live.current;
  if (!id) return;
  if (file.size > MAX_FILE_BYTES) return formMessage(form, ATTACH_TEXT.tooBig, true);
  button.disabled = true;
  formMessage(form, ATTACH_TEXT.uploading, false);
  var url = "/api/v1/conversations/" + encodeURIComponent(id) + "/attachments";
  sendFile(url, file, { Accept: "application/json" }, function (percent) {
    formMessage(form, ATTACH_TEXT.uploading + " " + percent + " %", false);
  }).then(function (result) {
    button.disabled = false;
    if (result.status === 201 && result.body) {
      formMessage(form, AT.sent, false);
      onMessage(id, result.body);
      return;
    }
    formMessage(form, result.body && result.body.message ? String(result.body.message) : ATTACH_TEXT.failed, true);
  });
}

/** The ticket page's «Archivos adjuntos». */
export function renderTicketAttachments(number) {
  var list = $("ticket-attachments");
  if (!list) return;
  api("GET", ticketPath(number) + "/attachments").then(
    function (data) {
      clear(list);
      var rows = data && Array.isArray(data.attachments) ? data.attachments : [];
      $("ticket-attachments-empty").hidden = rows.length > 0;
      for (var i = 0; i < rows.length; i++) {
        var a = sanitizeAttachment(rows[i]);
        if (!a) continue;
        var li = el("li", "attachment-row");
        li.appendChild(attachmentEl(a, ""));
        var by = AT.by[rows[i].uploader_kind] || "";
        li.appendChild(el("p", "muted", (by ? "De " + by + " · " : "") + formatDateTime(rows[i].created_at)));
        list.appendChild(li);
      }
    },
    function (err) {
      clear(list);
      $("ticket-attachments-empty").hidden = false;
      $("ticket-attachments-empty").textContent = err.message;
    }
  );
}
