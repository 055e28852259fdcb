/* «Revisión»: the inbox of misunderstood messages, grouped; label (intent + entities) or dismiss. */
import { $, api, clear, el, formMessage, setBusy } from "./ui.js";

var vocabulary = { intents: [], entities: [], new_intents: [] };

export function loadReview() {
  Promise.all([api("GET", "/admin/vocabulary"), api("GET", "/admin/review")]).then(
    function (answers) {
      vocabulary = answers[0];
      fillIntents();
      render(answers[1]);
    },
    function (err) {
      $("review-summary").textContent = err.message;
    }
  );
}

function fillIntents() {
  var list = $("intent-options");
  clear(list);
  var names = vocabulary.intents.concat(vocabulary.new_intents || []);
  for (var i = 0; i < names.length; i++) {
    var option = el("option");
    option.value = names[i];
    list.appendChild(option);
  }
}

function render(data) {
  var box = $("review-groups");
  clear(box);
  var groups = data.groups || [];
  $("review-summary").textContent = groups.length
    ? data.messages + " mensajes por revisar en " + groups.length + " grupos"
    : "No hay mensajes por revisar.";
  for (var g = 0; g < groups.length; g++) box.appendChild(groupCard(groups[g], g));
}

function groupCard(group, index) {
  var card = el("section", "card review-group");
  card.setAttribute("data-group", String(index));
  var head = el("h2", "group-title", "«" + group.representative + "»");
  card.appendChild(head);
  var meta = el("p", "muted", group.count + (group.count === 1 ? " mensaje" : " mensajes"));
  if (group.predicted.length) meta.textContent += " · el asistente entendió: " + group.predicted.join(", ");
  card.appendChild(meta);

  var bulk = el("form", "form form-inline group-form");
  var label = el("label", null, "Intención para todo el grupo");
  var input = intentInput("group-intent-" + index);
  label.htmlFor = input.id;
  bulk.appendChild(label);
  bulk.appendChild(input);
  var labelAll = el("button", "button", "Etiquetar el grupo");
  labelAll.type = "submit";
  var dismissAll = el("button", "button button-quiet", "Descartar el grupo");
  dismissAll.type = "button";
  bulk.appendChild(labelAll);
  bulk.appendChild(dismissAll);
  card.appendChild(bulk);

  var list = el("ul", "review-items");
  var rows = [];
  for (var i = 0; i < group.items.length; i++) {
    var row = itemRow(group.items[i]);
    rows.push(row);
    list.appendChild(row.node);
  }
  card.appendChild(list);

  bulk.addEventListener("submit", function (event) {
    event.preventDefault();
    var intent = input.value.trim();
    if (!intent) return formMessage(bulk, "Escriba la intención.", true);
    runAll(bulk, rows, function (row) {
      row.intent.value = intent;
      return row.label();
    });
  });
  dismissAll.addEventListener("click", function () {
    runAll(bulk, rows, function (row) {
      return row.dismiss();
    });
  });
  return card;
}

function runAll(form, rows, action) {
  setBusy(form, true);
  var chain = Promise.resolve();
  var failed = 0;
  rows.forEach(function (row) {
    if (row.done) return;
    chain = chain.then(function () {
      return action(row).then(null, function () {
        failed++;
      });
    });
  });
  chain.then(function () {
    setBusy(form, false);
    formMessage(form, failed ? failed + " mensajes no se pudieron guardar (vea el motivo en cada uno)." : "Grupo revisado.", !!failed);
  });
}

function intentInput(id) {
  var input = el("input", "intent-input");
  input.id = id;
  input.type = "text";
  input.maxLength = 64;
  input.setAttribute("list", "intent-options");
  input.setAttribute("autocomplete", "off");
  input.placeholder = "p. ej. ask_contact_channels";
  return input;
}

function itemRow(item) {
  var node = el("li", "review-item");
  node.setAttribute("data-message-id", String(item.message_id));
  var text = el("p", "review-text", item.text);
  node.appendChild(text);
  var meta =
    item.reason_name +
    " · entendió " +
    (item.intent || "—") +
    (item.confidence !== null ? " (" + Math.round(item.confidence * 100) + " %)" : "");
  node.appendChild(el("p", "muted review-meta", meta));

  var form = el("form", "form form-inline item-form");
  var intentLabel = el("label", null, "Intención");
  var intent = intentInput("intent-" + item.message_id);
  intentLabel.htmlFor = intent.id;
  form.appendChild(intentLabel);
  form.appendChild(intent);

  var entity = el("select", "entity-select");
  entity.id = "entity-" + item.message_id;
  entity.setAttribute("aria-label", "Entidad");
  for (var i = 0; i < vocabulary.entities.length; i++) {
    var option = el("option", null, vocabulary.entities[i]);
    option.value = vocabulary.entities[i];
    entity.appendChild(option);
  }
  var mark = el("button", "button button-quiet mark-entity", "Marcar la selección como entidad");
  mark.type = "button";
  var marks = el("ul", "entity-marks");
  var save = el("button", "button button-primary", "Etiquetar");
  save.type = "submit";
  var dismissButton = el("button", "button button-quiet dismiss", "Descartar");
  dismissButton.type = "button";
  form.appendChild(entity);
  form.appendChild(mark);
  form.appendChild(save);
  form.appendChild(dismissButton);
  node.appendChild(form);
  node.appendChild(marks);

  var spans = [];
  var row = { node: node, intent: intent, done: false };

  mark.addEventListener("click", function () {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || !text.contains(selection.anchorNode)) {
      return formMessage(form, "Seleccione con el ratón un fragmento del mensaje.", true);
    }
    var range = selection.getRangeAt(0);
    var start = Math.min(range.startOffset, range.endOffset);
    var end = Math.max(range.startOffset, range.endOffset);
    if (start === end) return formMessage(form, "Seleccione con el ratón un fragmento del mensaje.", true);
    spans.push({ start: start, end: end, entity: entity.value });
    var li = el("li", "entity-mark", "«" + item.text.slice(start, end) + "» → " + entity.value);
    marks.appendChild(li);
    formMessage(form, "");
  });

  function finish(message) {
    row.done = true;
    node.classList.add("review-done");
    clear(form);
    form.appendChild(el("p", "form-msg", message));
  }

  row.label = function () {
    var value = intent.value.trim();
    if (!value) {
      formMessage(form, "Escriba la intención.", true);
      return Promise.reject(new Error("no intent"));
    }
    setBusy(form, true);
    return api("POST", "/admin/review/" + item.message_id + "/label", { intent: value, entities: spans }).then(
      function (answer) {
        finish("Etiquetado como «" + answer.intent + "»: " + answer.example);
      },
      function (err) {
        setBusy(form, false);
        formMessage(form, err.message, true);
        throw err;
      }
    );
  };
  row.dismiss = function () {
    setBusy(form, true);
    return api("POST", "/admin/review/" + item.message_id + "/dismiss", {}).then(
      function () {
        finish("Descartado.");
      },
      function (err) {
        setBusy(form, false);
        formMessage(form, err.message, true);
        throw err;
      }
    );
  };
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    row.label().then(null, function () {});
  });
  dismissButton.addEventListener("click", function () {
    row.dismiss().then(null, function () {});
  });
  return row;
}
