/*
 * Agent console: «Registrar llamada» — a ticket for a customer's phone call (channel
 * "phone"), with the priority questions of docs/support-plan.md#priorities. Filed with an
 * Idempotency-Key kept until it succeeds, so a double click or a resubmit after a lost answer
 * files one ticket.
 */
import { $, api, fillSelect, isObject, randomId, setBusy, state, str } from "./core.js";
import { FACTS, TEXT, TYPE_NAMES } from "./labels.js";

/** Fill the customer list once per session (the form keeps what was chosen). */
export function loadCustomers() {
  if (state.customers) return;
  var select = $("phone-customer");
  api("GET", "/customers").then(
    function (data) {
      state.customers = isObject(data) && Array.isArray(data.items) ? data.items : [];
      var options = [["", "— Elija el cliente —"]];
      for (var i = 0; i < state.customers.length; i++) {
        var c = state.customers[i];
        options.push([str(c.code), str(c.name) + " (" + str(c.code) + ")"]);
      }
      fillSelect(select, options, select.value);
      onCustomerChange();
    },
    function (err) {
      phoneError(err.message);
    }
  );
}

function selectedCustomer() {
  var code = $("phone-customer").value;
  var list = state.customers || [];
  for (var i = 0; i < list.length; i++) if (list[i].code === code) return list[i];
  return null;
}

function entitlementText(customer) {
  var ent = isObject(customer.entitlement) ? customer.entitlement : {};
  var covered = [];
  if (ent.software) covered.push("software");
  if (ent.hardware) covered.push("hardware");
  return covered.length
    ? "Contratos vigentes: " + covered.join(" y ") + "."
    : "Sin contrato de soporte vigente: la solicitud se registra igualmente y se indica al cliente.";
}

// The chosen customer decides the contacts and devices offered.
function onCustomerChange() {
  var customer = selectedCustomer();
  var contacts = [["", customer ? "— Elija el contacto —" : "— Elija primero el cliente —"]];
  var devices = [["", "— Ninguno —"]];
  if (customer) {
    var cs = Array.isArray(customer.contacts) ? customer.contacts : [];
    for (var i = 0; i < cs.length; i++) {
      contacts.push([str(cs[i].email), str(cs[i].name) + " <" + str(cs[i].email) + ">"]);
    }
    var ds = Array.isArray(customer.devices) ? customer.devices : [];
    for (var j = 0; j < ds.length; j++) {
      devices.push([str(ds[j].name), str(ds[j].name) + " — " + str(ds[j].model) + " (" + str(ds[j].serial) + ")"]);
    }
  }
  fillSelect($("phone-contact"), contacts, contacts.length === 2 ? contacts[1][0] : "");
  fillSelect($("phone-device"), devices, "");
  $("phone-entitlement").textContent = customer ? entitlementText(customer) : "";
}

function phoneError(text, focusId) {
  var box = $("phone-error");
  box.textContent = text || "";
  box.hidden = !text;
  if (focusId) $(focusId).focus();
}

function resetPhoneForm() {
  $("phone-form").reset();
  state.phoneKey = null;
  phoneError("");
  onCustomerChange();
}

function phonePayload() {
  var facts = {};
  for (var i = 0; i < FACTS.length; i++) facts[FACTS[i]] = $("fact-" + FACTS[i]).checked;
  var payload = {
    customer: $("phone-customer").value,
    contact: $("phone-contact").value,
    channel: "phone",
    type: $("phone-type").value,
    title: $("phone-title-input").value.trim(),
    description: $("phone-description").value.trim(),
    facts: facts,
    complex: $("phone-complex").checked,
  };
  if ($("phone-device").value) payload.device = $("phone-device").value;
  return payload;
}

function onPhoneSubmit(event) {
  event.preventDefault();
  var form = $("phone-form");
  if (form.getAttribute("aria-busy") === "true") return;
  var payload = phonePayload();
  if (!payload.customer) return phoneError(TEXT.chooseCustomer, "phone-customer");
  if (!payload.contact) return phoneError(TEXT.chooseContact, "phone-contact");
  if (!payload.title) return phoneError(TEXT.titleRequired, "phone-title-input");
  if (!state.phoneKey) state.phoneKey = randomId();
  phoneError("");
  setBusy(form, true);
  api("POST", "/tickets", payload, { "Idempotency-Key": state.phoneKey })
    .then(
      function (ticket) {
        resetPhoneForm();
        if (isObject(ticket) && ticket.number) {
          window.location.hash = "#/tickets/" + encodeURIComponent(ticket.number);
        }
      },
      function (err) {
        phoneError(err.message);
      }
    )
    .then(function () {
      setBusy(form, false);
    });
}

/** Attach the phone form's handlers once, at start-up. */
export function wirePhoneForm() {
  var types = [];
  for (var t in TYPE_NAMES) types.push([t, TYPE_NAMES[t]]);
  fillSelect($("phone-type"), types, "information");
  $("phone-form").setAttribute("novalidate", "");
  $("phone-form").addEventListener("submit", onPhoneSubmit);
  $("phone-reset").addEventListener("click", resetPhoneForm);
  $("phone-customer").addEventListener("change", onCustomerChange);
}

/** Forget what belongs to the signed-out agent. */
export function forgetPhoneForm() {
  state.customers = null;
  resetPhoneForm();
}
