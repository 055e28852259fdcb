/*
 * Agent console, live chat: «Historial de chats» — «Recientes» (the chats the agent took) and
 * «Cerradas» (closed chats the agent may read), with a search over the customer's name and code,
 * the ticket number and the messages (GET /api/v1/conversations/history). Opening one shows its
 * transcript read-only (the agent does not handle it: no reply).
 */
import { $, api, clear, el, formatDateTime, isObject, onSubmit, state, str } from "../core.js";
import { customerTitle, live, MODE_NAMES } from "./state.js";

var PAGE = 20;
var history = { status: "recent", q: "", seq: 0 }; // q: the submitted search

/** (Re)load the list shown: on opening the view, every refresh, and when the agent's chats change. */
export function loadHistory() {
  if (!state.me || state.view !== "chats") return;
  var seq = ++history.seq;
  var q = history.q;
  var path = "/conversations/history?status=" + history.status + "&limit=" + PAGE;
  if (q) path += "&q=" + encodeURIComponent(q);
  api("GET", path).then(
    function (data) {
      if (seq !== history.seq) return;
      var items = isObject(data) && Array.isArray(data.conversations) ? data.conversations.filter(isObject) : [];
      renderHistory(items, isObject(data) ? Number(data.total) || 0 : 0, q);
    },
    function (err) {
      if (seq !== history.seq || err.status === 401) return;
      clear($("history-list"));
      $("history-summary").textContent = err.message;
    }
  );
}

function renderHistory(items, total, q) {
  var list = $("history-list");
  clear(list);
  for (var i = 0; i < items.length; i++) list.appendChild(historyRow(items[i]));
  var what = history.status === "recent" ? ["reciente", "recientes"] : ["cerrada", "cerradas"];
  var text;
  if (!items.length) {
    text = q ? "Ninguna conversación " + what[0] + " coincide con «" + q + "»." : "No hay conversaciones " + what[1] + ".";
  } else {
    if (total === 1) text = "1 conversación " + what[0];
    else text = (total > items.length ? items.length + " de " : "") + total + " conversaciones " + what[1];
    text += (q ? " con «" + q + "»" : "") + ".";
  }
  $("history-summary").textContent = text;
}

function historyRow(s) {
  var id = str(s.conversation_id);
  var li = el("li", "chat-item history-row");
  li.setAttribute("data-conversation-id", id);
  if (live.current === id) li.classList.add("chat-item-current");
  var link = el("a", "chat-link");
  link.href = "#/chats/" + encodeURIComponent(id);
  link.appendChild(el("span", "chat-who", customerTitle(s)));
  var when = s.closed_at || s.claimed_at || s.queued_at;
  var meta = (MODE_NAMES[s.mode] || str(s.mode)) + (s.ticket ? " · " + str(s.ticket) : "");
  if (when) meta += " · " + formatDateTime(when);
  link.appendChild(el("span", "chat-meta", meta));
  if (s.last_message) link.appendChild(el("span", "chat-preview", "«" + str(s.last_message) + "»"));
  li.appendChild(link);
  return li;
}

function choose(status) {
  history.status = status;
  $("history-recent").setAttribute("aria-pressed", status === "recent" ? "true" : "false");
  $("history-closed").setAttribute("aria-pressed", status === "closed" ? "true" : "false");
  loadHistory();
}

export function wireHistory() {
  $("history-recent").addEventListener("click", function () {
    choose("recent");
  });
  $("history-closed").addEventListener("click", function () {
    choose("closed");
  });
  onSubmit($("history-form"), function () {
    history.q = $("history-q").value.trim();
    loadHistory();
  });
}
