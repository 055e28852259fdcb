/*
 * Agent console: files in the chat and on tickets (issue 15). The paperclip «Adjuntar archivo»
 * of the reply form sends a file to the customer (the server emits it as a `message` with an
 * `attachment`); the transcript shows attachments with a thumbnail for images and a download
 * link; the ticket page lists the ticket's files (its e-mails' and its chat's).
 */
import { attachmentEl, formatSize, sanitizeAttachment, sendFile } from "/webchat/common/attachments.js";
import { $, api, clear, el, formMessage, formatDateTime, ticketPath } from "../core.js";
import { onMessage } from "./conversation.js";
import { live } from "./state.js";

export { attachmentEl, sanitizeAttachment };

var MAX_FILE_BYTES = 10 * 1024 * 1024;
var ACCEPT = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,.txt,.log";
var AT = {
  attach: "Adjuntar archivo",
  uploading: "Subiendo archivo…",
  sent: "Archivo enviado.",
  tooBig: "El archivo es demasiado grande (máximo 10 MB).",
  failed: "No se pudo adjuntar el archivo. Inténtelo de nuevo.",
  none: "Sin archivos adjuntos.",
  by: { customer: "cliente", agent: "agente", email: "correo" },
};

/** The paperclip of the reply form (once). */
export function wireChatAttachments() {
  var form = $("reply-form");
  if (!form || form.querySelector(".reply-attach")) return;
  var input = el("input", "visually-hidden reply-file");
  input.type = "file";
  input.accept = ACCEPT;
  input.tabIndex = -1;
  input.setAttribute("aria-hidden", "true");
  var button = el("button", "button reply-attach");
  button.type = "button";
  button.setAttribute("aria-label", AT.attach);
  button.title = AT.attach;
  var icon = el("span", "", "📎");
  icon.setAttribute("aria-hidden", "true");
  button.appendChild(icon);
  button.appendChild(el("span", "reply-attach-text", " " + AT.attach));
  button.addEventListener("click", function () {
    input.click();
  });
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    input.value = "";
    if (file) upload(form, button, file);
  });
  form.appendChild(input);
  form.appendChild(button);
}

function upload(form, button, file) {
  var id = live.current;
  if (!id) return;
  if (file.size > MAX_FILE_BYTES) return formMessage(form, AT.tooBig, true);
  button.disabled = true;
  formMessage(form, AT.uploading, false);
  var url = "/api/v1/conversations/" + encodeURIComponent(id) + "/attachments";
  sendFile(url, file, { Accept: "application/json" }, function (percent) {
    formMessage(form, AT.uploading + " " + percent + " %", false);
  }).then(function (result) {
    button.disabled = false;
    if (result.status === 201 && result.body) {
      formMessage(form, AT.sent, false);
      onMessage(id, result.body);
      return;
    }
    formMessage(form, result.body && result.body.message ? String(result.body.message) : AT.failed, true);
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

export { formatSize };
