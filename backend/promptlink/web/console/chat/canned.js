/*
 * Agent console, live chat: canned responses in the composer. Typing «/» at the start of a word
 * opens the caller's canned responses (GET /canned-responses: the common ones and their tiers'),
 * filtered by what follows (in their title or key); ↑/↓ choose, Intro inserts (placeholders {nombre} and {tiquete}
 * filled with the open conversation's contact name and ticket), Esc closes.
 */
import { $, api, clear, el, isObject, str } from "../core.js";
import { live } from "./state.js";

var picker = { responses: null, loading: null, open: false, items: [], active: 0, start: 0 };
var TRIGGER = /(^|\s)\/([^\s/]*)$/;

function fold(text) {
  return str(text)
    .toLowerCase()
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "");
}

function load() {
  if (picker.responses) return Promise.resolve(picker.responses);
  if (!picker.loading) {
    picker.loading = api("GET", "/canned-responses").then(
      function (data) {
        picker.responses = isObject(data) && Array.isArray(data.responses) ? data.responses : [];
        picker.loading = null;
        return picker.responses;
      },
      function (err) {
        picker.loading = null;
        throw err;
      }
    );
  }
  return picker.loading;
}

/** Forget the responses (sign-out): the next user has other tiers. */
export function forgetCanned() {
  picker.responses = null;
  closePicker();
}

/** The text with {nombre} and {tiquete} of `conv`; a placeholder without a value stays for the agent to edit. */
export function fillPlaceholders(text, conv) {
  var s = (conv && conv.summary) || {};
  var values = { nombre: str(s.name || s.customer_name), tiquete: str(s.ticket) };
  return str(text).replace(/\{(nombre|tiquete)\}/g, function (whole, name) {
    return values[name] || whole;
  });
}

function announce(text) {
  $("canned-status").textContent = text;
}

export function closePicker() {
  var list = $("canned-list");
  picker.open = false;
  picker.items = [];
  if (!list) return;
  list.hidden = true;
  clear(list);
  $("reply-text").removeAttribute("aria-activedescendant");
  announce("");
}

function render(query) {
  var list = $("canned-list");
  var q = fold(query);
  picker.items = (picker.responses || []).filter(function (r) {
    return !q || fold(r.title).indexOf(q) !== -1 || fold(r.key).indexOf(q) !== -1;
  });
  if (picker.active >= picker.items.length) picker.active = 0;
  clear(list);
  if (!picker.items.length) {
    var none = el("li", "canned-empty", "Ninguna respuesta predefinida coincide.");
    none.setAttribute("role", "option");
    none.setAttribute("aria-disabled", "true");
    none.id = "canned-none";
    list.appendChild(none);
  }
  picker.items.forEach(function (r, i) {
    var li = el("li", "canned-option");
    li.id = "canned-option-" + i;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", i === picker.active ? "true" : "false");
    li.setAttribute("data-key", str(r.key));
    li.appendChild(el("span", "canned-title", str(r.title)));
    li.appendChild(el("span", "canned-text", fillPlaceholders(r.text, live.convs[live.current])));
    li.addEventListener("mousedown", function (event) {
      event.preventDefault(); // keep the focus in the textarea
      picker.active = i;
      insert();
    });
    list.appendChild(li);
  });
  list.hidden = false;
  picker.open = true;
  var input = $("reply-text");
  if (picker.items.length) input.setAttribute("aria-activedescendant", "canned-option-" + picker.active);
  else input.removeAttribute("aria-activedescendant");
  announce(
    picker.items.length === 1
      ? "1 respuesta predefinida."
      : picker.items.length + " respuestas predefinidas. Flechas para elegir, Intro para insertar, Esc para cerrar."
  );
}

function move(step) {
  if (!picker.items.length) return;
  picker.active = (picker.active + step + picker.items.length) % picker.items.length;
  var options = $("canned-list").querySelectorAll(".canned-option");
  for (var i = 0; i < options.length; i++) options[i].setAttribute("aria-selected", i === picker.active ? "true" : "false");
  $("reply-text").setAttribute("aria-activedescendant", "canned-option-" + picker.active);
  if (options[picker.active] && options[picker.active].scrollIntoView) options[picker.active].scrollIntoView({ block: "nearest" });
  announce(str(picker.items[picker.active].title));
}

function insert() {
  var r = picker.items[picker.active];
  var input = $("reply-text");
  if (!r) return;
  var caret = input.selectionStart;
  var text = fillPlaceholders(r.text, live.convs[live.current]);
  input.value = input.value.slice(0, picker.start) + text + input.value.slice(caret);
  var at = picker.start + text.length;
  input.setSelectionRange(at, at);
  closePicker();
  input.focus();
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

/** On every input of the composer: open, filter or close the picker. */
export function onCannedInput() {
  var input = $("reply-text");
  var before = input.value.slice(0, input.selectionStart);
  var match = TRIGGER.exec(before);
  if (!match) {
    if (picker.open) closePicker();
    return;
  }
  picker.start = before.length - match[2].length - 1;
  var query = match[2];
  load().then(
    function () {
      // Still the same «/» word when the answer comes back?
      var now = TRIGGER.exec(input.value.slice(0, input.selectionStart));
      if (now && now[2] === query) render(query);
    },
    function (err) {
      announce(err.message);
    }
  );
}

/** Keys in the composer while the picker is open; true when the key was the picker's. */
export function onCannedKeydown(event) {
  if (!picker.open) return false;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    move(event.key === "ArrowDown" ? 1 : -1);
    return true;
  }
  if (event.key === "Tab") {
    closePicker(); // Tab keeps moving the focus
    return false;
  }
  if (event.key === "Enter") {
    if (!picker.items.length) return false;
    event.preventDefault();
    insert();
    return true;
  }
  if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    closePicker();
    return true;
  }
  return false;
}
