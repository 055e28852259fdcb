/* «Revisión»: the inbox of misunderstood messages, grouped; label (intent + entities) or dismiss.
 *
 * A compact list: each message with what the assistant understood (the intent's Spanish name,
 * its code in small type) and the confidence, and one row of actions. The labelling form opens
 * on one message at a time (the selected one); a group can be labelled or dismissed at once. */
import { $, api, clear, el, formMessage, setBusy } from "./ui.js";

var vocabulary = { intents: [], entities: [], new_intents: [], labels: {} };
var selected = null; // the item row whose labelling form is open

export function loadReview() {
  Promise.all([api("GET", "/admin/vocabulary"), api("GET", "/admin/review")]).then(
    function (answers) {
      vocabulary = answers[0];
      vocabulary.labels = vocabulary.labels || {};
      fillIntents();
      render(answers[1]);
    },
    function (err) {
      $("review-summary").textContent = err.message;
    }
  );
}

/** The Spanish name of an intent («—» for none; the code itself for an intent added by review). */
export function intentName(intent) {
  if (!intent) return "—";
  return vocabulary.labels[intent] || intent;
}

/** «Pregunta por los canales de contacto» and, in small type, `ask_contact_channels`. */
function intentTag(intent) {
  var tag = el("span", "intent-tag");
  tag.appendChild(el("span", "intent-label", intentName(intent)));
  if (intent && vocabulary.labels[intent]) {
    tag.appendChild(document.createTextNode(" "));
    tag.appendChild(el("code", "intent-code", intent));
  }
  return tag;
}

function fillIntents() {
  var list = $("intent-options");
  clear(list);
  var names = vocabulary.intents.concat(vocabulary.new_intents || []);
  for (var i = 0; i < names.length; i++) {
    var option = el("option");
    option.value = names[i];
    if (vocabulary.labels[names[i]]) option.label = vocabulary.labels[names[i]];
    list.appendChild(option);
  }
}

function render(data) {
  var box = $("review-groups");
  clear(box);
  selected = null;
  var groups = data.groups || [];
  $("review-summary").textContent = groups.length
    ? data.messages + " mensajes por revisar en " + groups.length + " grupos"
    : "No hay mensajes por revisar.";
  for (var g = 0; g < groups.length; g++) box.appendChild(groupCard(groups[g], g));
}

function groupCard(group, index) {
  var card = el("section", "card review-group");
  card.setAttribute("data-group", String(index));
  var titleId = "group-title-" + index;
  card.setAttribute("aria-labelledby", titleId);
  var head = el("h2", "group-title", "«" + group.representative + "»");
  head.id = titleId;
  card.appendChild(head);
  var meta = el("p", "muted group-meta", group.count + (group.count === 1 ? " mensaje" : " mensajes"));
  if (group.predicted.length) {
    meta.appendChild(document.createTextNode(" · el asistente entendió: "));
    group.predicted.forEach(function (intent, i) {
      if (i) meta.appendChild(document.createTextNode(", "));
      meta.appendChild(intentTag(intent));
    });
  }
  card.appendChild(meta);

  var rows = [];
  if (group.items.length > 1) card.appendChild(groupActions(index, rows));

  var list = el("ul", "review-items");
  for (var i = 0; i < group.items.length; i++) {
    var row = itemRow(group.items[i]);
    rows.push(row);
    list.appendChild(row.node);
  }
  card.appendChild(list);
  return card;
}

/** «Etiquetar el grupo…» (opens a one-field form) and «Descartar el grupo». */
function groupActions(index, rows) {
  var box = el("div", "group-actions");
  var bar = el("div", "action-row");
  var open = el("button", "button button-quiet group-open", "Etiquetar el grupo…");
  open.type = "button";
  open.setAttribute("aria-expanded", "false");
  var dismissAll = el("button", "button button-quiet group-dismiss", "Descartar el grupo");
  dismissAll.type = "button";
  bar.appendChild(open);
  bar.appendChild(dismissAll);
  box.appendChild(bar);

  var bulk = el("form", "form form-inline group-form");
  bulk.hidden = true;
  var label = el("label", null, "Intención para todo el grupo");
  var input = intentInput("group-intent-" + index);
  label.htmlFor = input.id;
  bulk.appendChild(label);
  bulk.appendChild(input);
  var labelAll = el("button", "button button-primary", "Etiquetar el grupo");
  labelAll.type = "submit";
  var cancel = el("button", "button button-quiet", "Cancelar");
  cancel.type = "button";
  bulk.appendChild(labelAll);
  bulk.appendChild(cancel);
  box.appendChild(bulk);

  function show(visible) {
    bulk.hidden = !visible;
    open.setAttribute("aria-expanded", visible ? "true" : "false");
    if (visible) input.focus();
    else open.focus();
  }
  open.addEventListener("click", function () {
    show(bulk.hidden);
  });
  cancel.addEventListener("click", function () {
    show(false);
  });
  bulk.addEventListener("submit", function (event) {
    event.preventDefault();
    var intent = input.value.trim();
    if (!intent) return formMessage(bulk, "Escriba la intención.", true);
    runAll(box, rows, function (row) {
      return row.label(intent);
    });
  });
  dismissAll.addEventListener("click", function () {
    runAll(box, rows, function (row) {
      return row.dismiss();
    });
  });
  return box;
}

function runAll(box, rows, action) {
  setBusy(box, true);
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
    setBusy(box, false);
    var form = box.querySelector(".group-form");
    form.hidden = false;
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
  var meta = el("p", "muted review-meta");
  meta.appendChild(el("span", "review-reason", item.reason_name));
  meta.appendChild(document.createTextNode(" · entendió "));
  meta.appendChild(intentTag(item.intent));
  if (item.confidence !== null) {
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", "review-confidence", Math.round(item.confidence * 100) + " %"));
  }
  node.appendChild(meta);

  var actions = el("div", "action-row item-actions");
  var open = el("button", "button button-quiet label-open", "Etiquetar…");
  open.type = "button";
  open.setAttribute("aria-expanded", "false");
  open.setAttribute("aria-label", "Etiquetar «" + item.text.slice(0, 60) + "»");
  var dismissButton = el("button", "button button-quiet dismiss", "Descartar");
  dismissButton.type = "button";
  dismissButton.setAttribute("aria-label", "Descartar «" + item.text.slice(0, 60) + "»");
  actions.appendChild(open);
  actions.appendChild(dismissButton);
  node.appendChild(actions);

  var row = { node: node, done: false, form: null };

  function finish(message) {
    row.done = true;
    if (selected === row) close(false);
    node.classList.add("review-done");
    clear(actions);
    actions.appendChild(el("p", "form-msg", message));
  }

  function fail(err) {
    setBusy(actions, false);
    if (row.form) setBusy(row.form, false);
    formMessage(row.form || actions, err.message, true);
    throw err;
  }

  function close(focus) {
    if (row.form) node.removeChild(row.form);
    row.form = null;
    open.setAttribute("aria-expanded", "false");
    node.classList.remove("review-selected");
    if (selected === row) selected = null;
    if (focus) open.focus();
  }

  function select() {
    if (selected && selected !== row) selected.close(false);
    selected = row;
    node.classList.add("review-selected");
    open.setAttribute("aria-expanded", "true");
    row.form = labelForm(item, text, row, close);
    node.appendChild(row.form);
    row.form.querySelector(".intent-input").focus();
  }
  row.close = close;

  /** Label as `intent` (from the group) or as the open form says; a rejected promise when it fails. */
  row.label = function (intent) {
    var value = (intent || (row.form ? row.form.querySelector(".intent-input").value : "")).trim();
    if (!value) {
      formMessage(row.form || actions, "Escriba la intención.", true);
      return Promise.reject(new Error("no intent"));
    }
    var spans = row.form ? row.form.spans : [];
    setBusy(row.form || actions, true);
    return api("POST", "/admin/review/" + item.message_id + "/label", { intent: value, entities: spans }).then(
      function (answer) {
        finish("Etiquetado como «" + answer.intent + "»: " + answer.example);
      },
      fail
    );
  };
  row.dismiss = function () {
    setBusy(actions, true);
    return api("POST", "/admin/review/" + item.message_id + "/dismiss", {}).then(function () {
      finish("Descartado.");
    }, fail);
  };
  open.addEventListener("click", function () {
    if (selected === row) close(true);
    else select();
  });
  dismissButton.addEventListener("click", function () {
    row.dismiss().then(null, function () {});
  });
  return row;
}

/** The labelling form of the selected message: intent, entity spans marked with the mouse. */
function labelForm(item, text, row, close) {
  var form = el("form", "form item-form");
  form.spans = [];
  var line = el("div", "form-inline");
  var intentLabel = el("label", null, "Intención");
  var intent = intentInput("intent-" + item.message_id);
  intentLabel.htmlFor = intent.id;
  line.appendChild(intentLabel);
  line.appendChild(intent);
  var chosen = el("span", "muted intent-chosen");
  chosen.setAttribute("aria-live", "polite");
  line.appendChild(chosen);
  function showChosen() {
    var value = intent.value.trim();
    chosen.textContent = vocabulary.labels[value] ? "«" + vocabulary.labels[value] + "»" : "";
  }
  intent.addEventListener("input", showChosen);
  showChosen();
  form.appendChild(line);

  var entityLine = el("div", "form-inline");
  var entityLabel = el("label", null, "Entidad");
  var entity = el("select", "entity-select");
  entity.id = "entity-" + item.message_id;
  entityLabel.htmlFor = entity.id;
  for (var i = 0; i < vocabulary.entities.length; i++) {
    var option = el("option", null, vocabulary.entities[i]);
    option.value = vocabulary.entities[i];
    entity.appendChild(option);
  }
  var mark = el("button", "button button-quiet mark-entity", "Marcar la selección como entidad");
  mark.type = "button";
  entityLine.appendChild(entityLabel);
  entityLine.appendChild(entity);
  entityLine.appendChild(mark);
  form.appendChild(entityLine);
  var marks = el("ul", "entity-marks");
  form.appendChild(marks);

  var buttons = el("div", "action-row");
  var save = el("button", "button button-primary", "Etiquetar");
  save.type = "submit";
  var cancel = el("button", "button button-quiet", "Cancelar");
  cancel.type = "button";
  buttons.appendChild(save);
  buttons.appendChild(cancel);
  form.appendChild(buttons);

  mark.addEventListener("click", function () {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || !text.contains(selection.anchorNode)) {
      return formMessage(form, "Seleccione con el ratón un fragmento del mensaje.", true);
    }
    var range = selection.getRangeAt(0);
    var start = Math.min(range.startOffset, range.endOffset);
    var end = Math.max(range.startOffset, range.endOffset);
    if (start === end) return formMessage(form, "Seleccione con el ratón un fragmento del mensaje.", true);
    form.spans.push({ start: start, end: end, entity: entity.value });
    marks.appendChild(el("li", "entity-mark", "«" + item.text.slice(start, end) + "» → " + entity.value));
    formMessage(form, "");
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    row.label().then(null, function () {});
  });
  cancel.addEventListener("click", function () {
    close(true);
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close(true);
  });
  return form;
}
