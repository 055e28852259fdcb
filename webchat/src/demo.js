/*
 * Demo site page script (served at /webchat/demo.js, used by the page at "/").
 * Lets the visitor pick which demo contact is chatting, fetches a signed widget
 * identity for it and (re)mounts the chat widget. No inline scripts, so the page
 * works under a strict Content-Security-Policy (script-src 'self').
 */
(function () {
  "use strict";

  var SELECTED_KEY = "promptlink.demo.contact";

  var select = document.getElementById("pl-identity");
  var root = document.getElementById("pl-chat-root");
  var messageEl = document.getElementById("pl-demo-message");
  var current = null; // mounted widget
  var generation = 0; // ignores stale identity responses after a quick change

  function showMessage(text) {
    if (!messageEl) return;
    if (text) {
      messageEl.textContent = text;
      messageEl.hidden = false;
    } else {
      messageEl.textContent = "";
      messageEl.hidden = true;
    }
  }

  function loadSelected() {
    try {
      return window.localStorage.getItem(SELECTED_KEY);
    } catch (e) {
      return null;
    }
  }

  function saveSelected(value) {
    try {
      window.localStorage.setItem(SELECTED_KEY, value);
    } catch (e) {
      /* storage unavailable: the choice is just not remembered */
    }
  }

  function fetchJson(url, options) {
    return window.fetch(url, options).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json();
    });
  }

  function unmount() {
    if (current) {
      current.destroy();
      current = null;
    }
  }

  function mountWidget(identity, storageKey) {
    unmount();
    current = window.PromptlinkChat.mount({
      element: root,
      identity: identity,
      storageKey: storageKey,
      url: "",
      launcher: true,
    });
  }

  function choose(contact) {
    var gen = ++generation;
    saveSelected(contact);
    showMessage("");
    if (!contact) {
      mountWidget(null, "promptlink.chat.anonymous");
      return;
    }
    unmount();
    fetchJson("/demo/identity", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ contact: contact }),
    })
      .then(function (data) {
        if (gen !== generation) return;
        if (!data || typeof data.token !== "string" || !data.token) throw new Error("token missing");
        mountWidget(data.token, "promptlink.chat." + contact);
      })
      .catch(function () {
        if (gen !== generation) return;
        showMessage(
          "No se pudo obtener la identidad de demostración para este contacto. " +
            "Inténtelo de nuevo o elija «Visitante anónimo»."
        );
      });
  }

  function renderOptions(identities) {
    // Keep the first option ("Visitante anónimo", value "") from the HTML.
    while (select.options.length > 1) select.remove(1);
    identities.forEach(function (item) {
      if (!item || typeof item.contact !== "string" || !item.contact) return;
      var opt = document.createElement("option");
      opt.value = item.contact;
      opt.textContent = typeof item.label === "string" && item.label ? item.label : item.contact;
      select.appendChild(opt);
    });
  }

  function hasOption(value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) return true;
    }
    return false;
  }

  function start() {
    if (!select || !root) return;
    if (!window.PromptlinkChat) {
      showMessage("No se pudo cargar el chat de soporte.");
      return;
    }
    select.addEventListener("change", function () {
      choose(select.value);
    });

    fetchJson("/demo/identities", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (data) {
        renderOptions(data && Array.isArray(data.identities) ? data.identities : []);
      })
      .catch(function () {
        showMessage("No se pudo cargar la lista de contactos de demostración; se usará un visitante anónimo.");
      })
      .then(function () {
        var saved = loadSelected();
        var value;
        if (saved !== null && hasOption(saved)) {
          value = saved;
        } else {
          value = select.options.length > 1 ? select.options[1].value : "";
        }
        select.value = value;
        choose(value);
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
