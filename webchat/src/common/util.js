/*
 * Small helpers shared by the customer widget and the agent console (served at
 * /webchat/common/util.js; the console imports it through its core.js).
 *
 * Security: `el` sets text with textContent only; never innerHTML.
 */

/** A random id for client_msg_id and Idempotency-Key: a UUID where the browser has one, else 32 hex digits. */
export function randomId() {
  var c = window.crypto;
  if (c && typeof c.randomUUID === "function") {
    try {
      return c.randomUUID();
    } catch (e) {
      /* insecure context in some browsers: fall through */
    }
  }
  var bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") {
    c.getRandomValues(bytes);
  } else {
    for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  var hex = "";
  for (var j = 0; j < bytes.length; j++) hex += (bytes[j] + 0x100).toString(16).slice(1);
  return hex;
}

/** A new element with an optional class and text (as text, never as HTML). */
export function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
