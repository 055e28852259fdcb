/*
 * Demo mailbox page (served at /webchat/mailbox.js, used by /demo/mailbox).
 * Lists the e-mails in the backend's outbox, newest first, optionally for one
 * recipient. Text is only ever set with textContent (mail bodies come from
 * customers' subjects and agents' updates), and there are no inline scripts or
 * styles, so the page works under the strict Content-Security-Policy.
 */
(function () {
  "use strict";

  var root = document.getElementById("pl-mailbox");
  var form = document.getElementById("pl-mailbox-filter");
  var input = document.getElementById("pl-mailbox-to");
  var list = document.getElementById("pl-mailbox-list");
  var statusEl = document.getElementById("pl-mailbox-status");
  var STATES = { sent: "entregado", pending: "pendiente", failed: "fallido" };
  var VIA = { "demo-mailbox": "buzón de demostración", smtp: "servidor SMTP" };

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function when(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? iso : date.toLocaleString("es");
  }

  function render(items) {
    list.textContent = "";
    items.forEach(function (mail) {
      var item = el("li", null, "pl-mail");
      item.appendChild(el("h2", mail.subject || "(sin asunto)", "pl-mail-subject"));
      var meta = el("p", "Para: " + mail.recipient + " · " + when(mail.created_at), "pl-mail-meta");
      var state = STATES[mail.state] || mail.state;
      if (mail.delivered_via) state += " (" + (VIA[mail.delivered_via] || mail.delivered_via) + ")";
      meta.appendChild(el("span", state, "pl-mail-state " + mail.state));
      item.appendChild(meta);
      item.appendChild(el("pre", mail.body, "pl-mail-body"));
      list.appendChild(item);
    });
  }

  function load() {
    var to = input.value.trim();
    var url = root.dataset.api + (to ? "?to=" + encodeURIComponent(to) : "");
    statusEl.textContent = "Cargando…";
    window
      .fetch(url, { headers: { Accept: "application/json" } })
      .then(function (res) {
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      })
      .then(function (data) {
        var items = data.items || [];
        render(items);
        if (!items.length) {
          statusEl.textContent = to ? "No hay correos para " + to + "." : "El buzón está vacío.";
        } else {
          statusEl.textContent = items.length === 1 ? "1 correo." : items.length + " correos.";
        }
      })
      .catch(function () {
        statusEl.textContent = "No se pudo cargar el buzón. Inténtelo de nuevo.";
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    load();
  });
  document.getElementById("pl-mailbox-all").addEventListener("click", function () {
    input.value = "";
    load();
  });
  document.getElementById("pl-mailbox-refresh").addEventListener("click", load);

  var initial = new URLSearchParams(window.location.search).get("to");
  if (initial) input.value = initial;
  load();
})();
