/* «Usuarios» and «Auditoría»: support staff accounts and the administrators' audit log. */
import { $, api, el, formatDateTime, formMessage, setBusy, table } from "./ui.js";

var ROLE_NAMES = { agent: "Agente", supervisor: "Supervisor", admin: "Administrador" };
var TIERS = ["L1", "L2", "L3"];
var ACTION_NAMES = {
  "review.label": "Etiquetó un mensaje",
  "review.dismiss": "Descartó un mensaje",
  "model.train": "Inició un entrenamiento",
  "model.activate": "Activó un modelo",
  "user.create": "Creó una cuenta",
  "user.update": "Cambió una cuenta",
  "user.reset_password": "Restableció una contraseña",
};

function checked(form, name) {
  var boxes = form.querySelectorAll('input[name="' + name + '"]');
  var out = [];
  for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) out.push(boxes[i].value);
  return out;
}

export function wireUsers() {
  var form = $("user-form");
  var opener = $("user-create-open");
  function showForm(visible) {
    form.hidden = !visible;
    opener.setAttribute("aria-expanded", visible ? "true" : "false");
    if (visible) $("user-email").focus();
    else opener.focus();
  }
  opener.addEventListener("click", function () {
    showForm(form.hidden);
  });
  $("user-create-cancel").addEventListener("click", function () {
    formMessage(form, "");
    showForm(false);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var payload = {
      email: $("user-email").value.trim(),
      name: $("user-name").value.trim(),
      role: $("user-role").value,
      tiers: checked(form, "tier"),
      password: $("user-password").value,
    };
    if (payload.password.length < 10) return formMessage(form, "La contraseña debe tener al menos 10 caracteres.", true);
    setBusy(form, true);
    api("POST", "/admin/users", payload).then(
      function (agent) {
        setBusy(form, false);
        form.reset();
        formMessage(form, "Cuenta creada: " + agent.email);
        loadUsers();
      },
      function (err) {
        setBusy(form, false);
        formMessage(form, err.message, true);
      }
    );
  });
}

export function loadUsers() {
  api("GET", "/admin/users").then(function (data) {
    var rows = (data.items || []).map(userRow);
    var body = table($("users-table"), ["Correo", "Nombre", "Rol", "Niveles", "Activa", "", "Contraseña"], rows.map(function (r) {
      return r.cells;
    }));
    for (var i = 0; i < rows.length; i++) body.children[i].setAttribute("data-email", rows[i].email);
  });
}

function userRow(agent) {
  var role = el("select", "user-role");
  role.setAttribute("aria-label", "Rol de " + agent.email);
  Object.keys(ROLE_NAMES).forEach(function (key) {
    var option = el("option", null, ROLE_NAMES[key]);
    option.value = key;
    option.selected = key === agent.role;
    role.appendChild(option);
  });
  var tiers = el("span", "user-tiers");
  TIERS.forEach(function (tier) {
    var label = el("label", "check");
    var box = el("input");
    box.type = "checkbox";
    box.value = tier;
    box.checked = agent.tiers.indexOf(tier) !== -1;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + tier));
    tiers.appendChild(label);
  });
  var active = el("input", "user-active");
  active.type = "checkbox";
  active.checked = agent.active;
  active.setAttribute("aria-label", "Cuenta activa");
  var save = el("form", "form-inline user-save");
  var saveButton = el("button", "button", "Guardar");
  saveButton.type = "submit";
  save.appendChild(saveButton);
  save.addEventListener("submit", function (event) {
    event.preventDefault();
    var selected = [];
    var boxes = tiers.querySelectorAll("input");
    for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) selected.push(boxes[i].value);
    api("PATCH", "/admin/users/" + agent.id, { role: role.value, tiers: selected, active: active.checked }).then(
      function () {
        formMessage(save, "Guardado.");
      },
      function (err) {
        formMessage(save, err.message, true);
      }
    );
  });
  var reset = el("form", "form-inline user-password");
  var password = el("input");
  password.type = "password";
  password.maxLength = 256;
  password.autocomplete = "new-password";
  password.setAttribute("aria-label", "Nueva contraseña de " + agent.email);
  var resetButton = el("button", "button button-quiet", "Restablecer");
  resetButton.type = "submit";
  reset.appendChild(password);
  reset.appendChild(resetButton);
  reset.addEventListener("submit", function (event) {
    event.preventDefault();
    api("POST", "/admin/users/" + agent.id + "/password", { password: password.value }).then(
      function () {
        password.value = "";
        formMessage(reset, "Contraseña restablecida.");
      },
      function (err) {
        formMessage(reset, err.message, true);
      }
    );
  });
  return { email: agent.email, cells: [agent.email, agent.name, role, tiers, active, save, reset] };
}

export function loadAudit() {
  api("GET", "/admin/audit?limit=200").then(function (data) {
    table(
      $("audit-table"),
      ["Fecha", "Quién", "Acción", "Objeto", "Detalle"],
      (data.items || []).map(function (e) {
        return [formatDateTime(e.at), e.actor, ACTION_NAMES[e.action] || e.action, e.target, JSON.stringify(e.detail)];
      })
    );
  });
}
