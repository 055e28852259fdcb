/*
 * Attachments in the chat, shared by the customer widget and the agent console (served at
 * /webchat/common/attachments.js): the bubble's content (thumbnail for images, download link
 * with name and size). Text is set with textContent only. Protocol: docs/chat-protocol.md.
 */
import { el, isObject, randomId } from "./util.js";

var IMAGE = { "image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true };
var TEXT = { download: "Descargar", preview: "Vista previa de " };

export var MAX_FILE_BYTES = 10 * 1024 * 1024;
export var ACCEPT = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,.txt,.log";
export var ATTACH_TEXT = {
  attach: "Adjuntar archivo",
  uploading: "Subiendo archivo…",
  tooBig: "El archivo es demasiado grande (máximo 10 MB).",
  failed: "No se pudo adjuntar el archivo. Inténtelo de nuevo.",
};

/**
 * The paperclip button «Adjuntar archivo» (class `buttonClass`) and its hidden file input (class
 * `inputClass`): the button opens the file chooser, a chosen file goes to `onFile(file)`.
 */
export function paperclip(buttonClass, inputClass, onFile) {
  var input = el("input", inputClass);
  input.type = "file";
  input.accept = ACCEPT;
  input.tabIndex = -1;
  input.setAttribute("aria-hidden", "true");
  var button = el("button", buttonClass);
  button.type = "button";
  button.setAttribute("aria-label", ATTACH_TEXT.attach);
  button.title = ATTACH_TEXT.attach;
  // The paperclip is drawn by CSS (.pl-attach-icon): the 📎 emoji is an empty box without an emoji font.
  var icon = el("span", "pl-attach-icon");
  icon.setAttribute("aria-hidden", "true");
  button.appendChild(icon);
  button.addEventListener("click", function () {
    input.click();
  });
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    input.value = "";
    if (file) onFile(file);
  });
  return { button: button, input: input };
}

/** The size in Spanish units: «512 B», «3,4 KB», «1,2 MB». */
export function formatSize(bytes) {
  var n = Number(bytes) || 0;
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return (n / 1024).toFixed(1).replace(".", ",") + " KB";
  return (n / (1024 * 1024)).toFixed(1).replace(".", ",") + " MB";
}

/** The `attachment` of a message event, kept only when it has what the bubble shows. */
export function sanitizeAttachment(a) {
  if (!isObject(a) || typeof a.url !== "string" || a.url.charAt(0) !== "/") return null;
  var preview = typeof a.preview_url === "string" && a.preview_url.charAt(0) === "/" ? a.preview_url : null;
  return {
    id: Number(a.id) || 0,
    name: a.name ? String(a.name) : "archivo",
    media_type: a.media_type ? String(a.media_type) : "",
    size: Number(a.size) || 0,
    url: a.url,
    preview_url: IMAGE[a.media_type] ? preview : null,
  };
}

/** The bubble's content: a thumbnail (images) and the download link with the name and size. */
export function attachmentEl(attachment, baseUrl) {
  var box = el("div", "pl-attachment");
  if (attachment.preview_url) {
    var img = el("img", "pl-attachment-thumb");
    img.src = baseUrl + attachment.preview_url;
    img.alt = TEXT.preview + attachment.name;
    img.loading = "lazy";
    box.appendChild(img);
  }
  var link = el("a", "pl-attachment-link");
  link.href = baseUrl + attachment.url;
  link.setAttribute("download", attachment.name);
  link.appendChild(el("span", "pl-visually-hidden", TEXT.download + " "));
  link.appendChild(el("span", "pl-attachment-name", attachment.name));
  link.appendChild(el("span", "pl-attachment-size", " (" + formatSize(attachment.size) + ")"));
  box.appendChild(link);
  return box;
}

/**
 * POST `file` (multipart, part `file`, with a new client_msg_id) to `url`; `onProgress(percent)`
 * while it goes. Resolves with {status, body} (the JSON answer, or null); status 0: no connection.
 */
export function sendFile(url, file, headers, onProgress) {
  return new Promise(function (resolve) {
    var form = new FormData();
    form.append("file", file, file.name);
    form.append("client_msg_id", randomId());
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (var name in headers || {}) {
      if (Object.prototype.hasOwnProperty.call(headers, name)) xhr.setRequestHeader(name, headers[name]);
    }
    xhr.upload.addEventListener("progress", function (ev) {
      if (ev.lengthComputable && onProgress) onProgress(Math.round((ev.loaded / ev.total) * 100));
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (e) {
        body = null;
      }
      resolve({ status: xhr.status, body: isObject(body) ? body : null });
    });
    xhr.addEventListener("error", function () {
      resolve({ status: 0, body: null });
    });
    xhr.send(form);
  });
}
