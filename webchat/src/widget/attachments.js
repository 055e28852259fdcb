/*
 * Chat widget: files in the chat (issue 15) — the paperclip button «Adjuntar archivo», the upload
 * with its progress and Spanish errors, and the attachment bubble (name, size, thumbnail for
 * images, download link). Protocol: docs/chat-protocol.md, «Attachments».
 *
 * The upload is an HTTP POST (multipart) with the conversation's resume token; the server stores
 * the file and emits it as a `message` with an `attachment` to everyone in the conversation.
 */
import { sendFile } from "../common/attachments.js";
import { el } from "../common/util.js";
export { attachmentEl, sanitizeAttachment } from "../common/attachments.js";

export var MAX_FILE_BYTES = 10 * 1024 * 1024;
var ACCEPT = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,.txt,.log";

export var ATTACH_TEXT = {
  attach: "Adjuntar archivo",
  uploading: "Subiendo archivo…",
  tooBig: "El archivo es demasiado grande (máximo 10 MB).",
  notReady: "Espere a que la conversación esté conectada para adjuntar un archivo.",
  failed: "No se pudo adjuntar el archivo. Inténtelo de nuevo.",
};

export var attachments = {
  // The paperclip and the hidden file input, before the send button; the progress line after it.
  buildAttach: function (form, before) {
    var self = this;
    var input = el("input", "pl-visually-hidden pl-file");
    input.type = "file";
    input.accept = ACCEPT;
    input.tabIndex = -1;
    input.setAttribute("aria-hidden", "true");
    var button = el("button", "pl-attach");
    button.type = "button";
    button.setAttribute("aria-label", ATTACH_TEXT.attach);
    button.title = ATTACH_TEXT.attach;
    var icon = el("span", "pl-attach-icon", "📎");
    icon.setAttribute("aria-hidden", "true");
    button.appendChild(icon);
    var progress = el("p", "pl-attach-status");
    progress.setAttribute("role", "status");
    progress.setAttribute("aria-live", "polite");
    progress.hidden = true;
    button.addEventListener("click", function () {
      input.click();
    });
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      input.value = "";
      if (file) self.uploadFile(file);
    });
    form.insertBefore(input, before);
    form.insertBefore(button, before);
    form.appendChild(progress);
    this.attachEl = button;
    this.attachStatusEl = progress;
  },

  showAttachStatus: function (text) {
    this.attachStatusEl.textContent = text || "";
    this.attachStatusEl.hidden = !text;
  },

  uploadFile: function (file) {
    var self = this;
    if (file.size > MAX_FILE_BYTES) return this.showFormError(ATTACH_TEXT.tooBig);
    if (!this.conversationId || !this.resumeToken || !this.sessionReady) {
      return this.showFormError(ATTACH_TEXT.notReady);
    }
    var url = this.url + "/api/v1/conversations/" + encodeURIComponent(this.conversationId) + "/attachments";
    var done = function (result) {
      self.attachEl.disabled = false;
      self.showAttachStatus("");
      if (result.status === 201 && result.body) {
        self.onServerMessage(result.body);
        self.scrollToBottom();
        return;
      }
      self.showFormError(result.body && result.body.message ? String(result.body.message) : ATTACH_TEXT.failed);
    };
    this.formErrorEl.hidden = true;
    this.attachEl.disabled = true;
    this.showAttachStatus(ATTACH_TEXT.uploading);
    sendFile(url, file, { "X-Resume-Token": this.resumeToken }, function (percent) {
      self.showAttachStatus(ATTACH_TEXT.uploading + " " + percent + " %");
    }).then(done);
  },
};
