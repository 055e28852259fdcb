/* «Modelos»: retrain with live progress, the evaluation side by side, activate and roll back. */
import { $, api, clear, el, formatDateTime, formMessage, setBusy, table } from "./ui.js";

var STATUS_NAMES = {
  training: "entrenando",
  evaluating: "evaluando",
  ready: "listo",
  failed: "falló",
  active: "activo",
};
var POLL_MS = 1000;
var pollTimer = null;
var candidateId = null;

export function stopPolling() {
  if (pollTimer) window.clearTimeout(pollTimer);
  pollTimer = null;
}

function pct(value) {
  return value === null || value === undefined ? "—" : (100 * value).toFixed(1) + " %";
}

export function loadModels() {
  api("GET", "/admin/models").then(renderList, function (err) {
    $("models-summary").textContent = err.message;
  });
}

/** «Modelo en uso»: the file the assistant runs, its fingerprint, version and since when. */
function renderRunning(running) {
  var card = $("running-card");
  card.hidden = !running;
  if (!running) return;
  var facts = $("running-facts");
  clear(facts);
  function fact(key, name, value) {
    var item = el("div", "fact");
    item.setAttribute("data-fact", key);
    item.appendChild(el("dt", null, name));
    item.appendChild(el("dd", null, value));
    facts.appendChild(item);
  }
  fact("file", "Archivo", running.file);
  fact("fingerprint", "Huella", running.fingerprint || "—");
  fact("version", "Versión", running.version_id !== null ? "#" + running.version_id : "la de la instalación");
  fact("since", "Desde", running.since ? formatDateTime(running.since) : "—");
  var note = $("running-note");
  note.hidden = running.answered && running.exists;
  note.textContent = !running.answered
    ? "El asistente (Rasa) no responde ahora: este es el modelo con el que arrancará."
    : running.exists
      ? ""
      : "El archivo de este modelo ya no está en disco.";
}

function renderList(data) {
  renderRunning(data.running);
  var items = data.items || [];
  var active = null;
  var running = null;
  var latestReady = null;
  for (var i = 0; i < items.length; i++) {
    if (items[i].status === "active") active = items[i];
    if (items[i].status === "training" || items[i].status === "evaluating") running = running || items[i];
    if (items[i].status === "ready" && !latestReady) latestReady = items[i];
  }
  $("models-summary").textContent = active
    ? "Modelo activo: " + active.file + (active.metrics ? " · macro-F1 " + pct(active.metrics.macro_f1) : "")
    : items.length
      ? ""
      : "Aún no hay versiones entrenadas desde la administración.";
  var rows = items.map(function (v) {
    var action = "";
    if (v.status === "ready") {
      var button = el("button", "button activate-version", "Activar");
      button.type = "button";
      button.setAttribute("data-version", String(v.id));
      button.addEventListener("click", function () {
        activate(v, button);
      });
      action = button;
    }
    var row = [
      v.id,
      formatDateTime(v.created_at),
      v.fingerprint || "—",
      STATUS_NAMES[v.status] || v.status,
      v.recipe_name,
      v.examples_added,
      v.metrics ? pct(v.metrics.accuracy) : "—",
      v.metrics ? pct(v.metrics.macro_f1) : "—",
      v.train_seconds !== null ? Math.round(v.train_seconds) + " s" : "—",
      v.trained_by,
      v.activated_at ? formatDateTime(v.activated_at) + " · " + v.activated_by : "—",
      action,
    ];
    return row;
  });
  var body = table(
    $("models-table"),
    ["#", "Fecha", "Huella", "Estado", "Configuración", "Ejemplos revisados", "Exactitud", "Macro-F1",
      "Entrenamiento", "Entrenado por", "Activado", ""],
    rows
  );
  for (var r = 0; r < items.length; r++) body.children[r].setAttribute("data-status", items[r].status);
  if (running) follow(running.id);
  else if (latestReady && (!active || latestReady.id > active.id)) showEvaluation(latestReady, active);
  else if (candidateId === null) $("evaluation-card").hidden = true;
}

function follow(id) {
  stopPolling();
  candidateId = id;
  $("training-card").hidden = false;
  $("evaluation-card").hidden = true;
  api("GET", "/admin/models/" + id).then(
    function (v) {
      $("training-progress").value = v.progress;
      $("training-stage").textContent = (STATUS_NAMES[v.status] || v.status) + " · " + v.progress + " % · " + v.stage;
      if (v.status === "training" || v.status === "evaluating") {
        pollTimer = window.setTimeout(function () {
          follow(id);
        }, POLL_MS);
        return;
      }
      $("training-card").hidden = true;
      api("GET", "/admin/models").then(function (data) {
        var active = (data.items || []).filter(function (x) {
          return x.status === "active";
        })[0];
        renderList(data);
        if (v.status === "failed") {
          $("training-card").hidden = false;
          $("training-stage").textContent = "El entrenamiento falló: " + v.error;
        } else showEvaluation(v, active);
      });
    },
    function (err) {
      $("training-stage").textContent = err.message;
    }
  );
}

function showEvaluation(candidate, active) {
  candidateId = candidate.id;
  var card = $("evaluation-card");
  card.hidden = false;
  card.setAttribute("data-version", String(candidate.id));
  var verdict = $("evaluation-verdict");
  var cmp = candidate.comparison || {};
  var before = active && active.metrics ? active.metrics : null;
  var text = "Modelo nuevo #" + candidate.id + ": exactitud " + pct(candidate.metrics.accuracy) + ", macro-F1 " +
    pct(candidate.metrics.macro_f1);
  if (before) text += " · activo: exactitud " + pct(before.accuracy) + ", macro-F1 " + pct(before.macro_f1);
  if (cmp.verdict === "not_worse") text += ". No es peor que el activo.";
  else if (cmp.verdict === "worse") text += ". Es peor que el activo: actívelo solo si está seguro.";
  verdict.textContent = text;
  verdict.setAttribute("data-verdict", cmp.verdict || "unknown");
  var names = Object.keys(candidate.metrics.per_intent).sort();
  table(
    $("evaluation-table"),
    ["Intención", "F1 activo", "F1 nuevo", "Diferencia", "Ejemplos"],
    names.map(function (name) {
      var now = candidate.metrics.per_intent[name];
      var old = before && before.per_intent[name] ? before.per_intent[name].f1 : null;
      return [name, old === null ? "—" : old.toFixed(2), now.f1.toFixed(2),
        old === null ? "—" : (now.f1 - old >= 0 ? "+" : "") + (now.f1 - old).toFixed(2), now.support];
    })
  );
  table(
    $("confusion-table"),
    ["Intención real", "Predicha", "Veces"],
    candidate.metrics.confusion.length ? candidate.metrics.confusion : [["—", "ninguna confusión", 0]]
  );
  var button = $("activate-candidate");
  button.hidden = candidate.status !== "ready";
  button.disabled = false;
  button.dataset.version = String(candidate.id);
}

function activate(version, button) {
  var worse = version.comparison && version.comparison.verdict === "worse";
  var msg = $("activate-msg");
  msg.hidden = false;
  msg.classList.remove("form-msg-error");
  if (worse && button.dataset.confirmed !== String(version.id)) {
    // A worse model needs a second, deliberate click.
    button.dataset.confirmed = String(version.id);
    msg.textContent =
      "El modelo #" + version.id + " es peor que el activo en el conjunto reservado. Pulse de nuevo para activarlo igualmente.";
    msg.classList.add("form-msg-error");
    return;
  }
  button.disabled = true;
  msg.textContent = "Cargando el modelo en el asistente…";
  api("POST", "/admin/models/" + version.id + "/activate", worse ? { force: true } : {}).then(
    function () {
      waitForActivation(version.id, button, msg);
    },
    function (err) {
      button.disabled = false;
      msg.textContent = err.message;
      msg.classList.add("form-msg-error");
    }
  );
}

// Loading a model takes from seconds to minutes: the backend does it in the background.
function waitForActivation(id, button, msg) {
  api("GET", "/admin/activation").then(
    function (state) {
      if (state && state.version_id === id && state.state === "running") {
        window.setTimeout(function () {
          waitForActivation(id, button, msg);
        }, POLL_MS);
        return;
      }
      if (state && state.state === "done") {
        msg.textContent = "Modelo #" + id + " activo (cargado en " + Number(state.load_seconds).toFixed(1) + " s).";
        $("activate-candidate").hidden = true;
      } else {
        button.disabled = false;
        msg.textContent = (state && state.message) || "No se pudo activar el modelo.";
        msg.classList.add("form-msg-error");
      }
      loadModels();
    },
    function (err) {
      button.disabled = false;
      msg.textContent = err.message;
      msg.classList.add("form-msg-error");
    }
  );
}

export function wireModels() {
  var form = $("train-form");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    setBusy(form, true);
    formMessage(form, "");
    api("POST", "/admin/models", { recipe: $("train-recipe").value }).then(
      function (v) {
        setBusy(form, false);
        formMessage(form, "Entrenamiento #" + v.id + " iniciado.");
        loadModels();
        follow(v.id);
      },
      function (err) {
        setBusy(form, false);
        formMessage(form, err.message, true);
      }
    );
  });
  $("activate-candidate").addEventListener("click", function () {
    var id = Number($("activate-candidate").dataset.version);
    api("GET", "/admin/models/" + id).then(function (v) {
      activate(v, $("activate-candidate"));
    });
  });
}
