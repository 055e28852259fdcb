/*
 * Chat widget: a message's text as DOM — lines that start with «• » become one list, e-mail
 * addresses and http(s) links become links. Built with createElement/textContent only: the
 * text is never parsed as HTML, so markup in a message stays text.
 */
import { el } from "../common/util.js";

var BULLET = /^\s*[•·\-*]\s+/;
// An http(s) URL, or an e-mail address; trailing punctuation is left out of the link.
var LINK = /\bhttps?:\/\/[^\s<>"'«»]+|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
var TRAILING = /[.,;:!?)\]}]+$/;

/** Append `text` to `parent` as text nodes and links. */
export function appendLinkified(parent, text) {
  var last = 0;
  LINK.lastIndex = 0;
  var match;
  while ((match = LINK.exec(text)) !== null) {
    var found = match[0];
    var trail = TRAILING.exec(found);
    if (trail) found = found.slice(0, found.length - trail[0].length);
    if (!found) continue;
    if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
    var a = el("a", "pl-link", found);
    if (/^https?:\/\//i.test(found)) {
      a.href = found;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    } else {
      a.href = "mailto:" + found;
    }
    parent.appendChild(a);
    last = match.index + found.length;
    LINK.lastIndex = last;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

/** Fill `body` with `text`: paragraphs of lines, and runs of «• » lines as one list. */
export function renderRichText(body, text) {
  var lines = String(text).split("\n");
  var list = null;
  var chunk = [];
  function flushChunk() {
    if (!chunk.length) return;
    var span = el("span", "pl-msg-lines");
    appendLinkified(span, chunk.join("\n"));
    body.appendChild(span);
    chunk = [];
  }
  for (var i = 0; i < lines.length; i++) {
    var line = lines[i];
    if (BULLET.test(line)) {
      flushChunk();
      if (!list) {
        list = el("ul", "pl-msg-list");
        body.appendChild(list);
      }
      var item = el("li", "pl-msg-item");
      appendLinkified(item, line.replace(BULLET, ""));
      list.appendChild(item);
    } else {
      if (list && !line.trim()) continue; // a blank line right after a list
      list = null;
      chunk.push(line);
    }
  }
  flushChunk();
}
