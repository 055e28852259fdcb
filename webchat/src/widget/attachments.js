/*
 * Chat widget: files in the chat (issue 15) — the paperclip button «Adjuntar archivo», the upload
 * with its progress and Spanish errors, and the attachment bubble (name, size, thumbnail for
 * images, download link). Protocol: docs/chat-protocol.md, «Attachments».
 *
 * The upload is an HTTP POST (multipart) with the conversation's resume token; the server stores
 * the file and emits it as a `message` with an `attachment` to everyone in the conversation.
 */
import { ATTACH_TEXT, MAX_FILE_BYTES, paperclip, sendFile } from "../common/attachments.js";
import { el } from "../common/util.js";
export { attachmentEl, sanitizeAttachment } from "../common/attachments.js";

export var WIDGET_TEXT = {
  notReady: "Espere a que la conversación esté conectada para adjuntar un archivo.",
};

export var attachments = {
  // The paperclip and the hidden file input, before the send button; the progress line after it.
  buildAttach: function (form, before) {
    var self = this;
    var clip = paperclip("pl-attach", "pl-visually-hidden pl-file", function (file) {
      self.uploadFile(file);
    });
    var progress = el("p", "pl-attach-status");
    progress.setAttribute("role", "status");
    progress.setAttribute("aria-live", "polite");
    progress.hidden = true;
    form.insertBefore(clip.input, before);
    form.insertBefore(clip.button, before);
    form.appendChild(progress);
    this.attachEl = clip.button;
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
      return this.showFormError(WIDGET_TEXT.notReady);
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
