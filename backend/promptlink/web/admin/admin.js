/*
 * Promptlink Assist — administration (entry module): review inbox, models, dashboard,
 * users and audit log. Vanilla ES modules under the console's CSP (script-src 'self');
 * the REST client and DOM helpers are the agent console's (core.js). Chart.js comes from
 * npm (webchat/node_modules), served by the backend at /admin/vendor/chart.umd.min.js.
 *
 * Security: all server and user text goes through textContent; never innerHTML.
 */
import { $, api, hooks, isObject, setBusy, showBanner, str } from "/console/assets/core.js";
import { wireModels, loadModels, stopPolling } from "./models.js";
import { loadPanel, wirePanel } from "./panel.js";
import { loadReview } from "./review.js";
import { loadAudit, loadUsers, wireUsers } from "./users.js";

var VIEWS = ["login", "denied", "revision", "modelos", "panel", "usuarios", "auditoria"];
var me = null;

function showView(name, focus) {
  $("loading").hidden = true;
  for (var i = 0; i < VIEWS.length; i++) $(VIEWS[i] + "-view").hidden = VIEWS[i] !== name;
  var links = document.querySelectorAll("[data-nav]");
  for (var j = 0; j < links.length; j++) {
    if (links[j].getAttribute("data-nav") === name) links[j].setAttribute("aria-current", "page");
    else links[j].removeAttribute("aria-current");
  }
  if (focus) {
    var heading = $(name + "-view").querySelector("h1");
    if (heading) heading.focus();
  }
}

function showLogin(message) {
  me = null;
  stopPolling();
  $("nav").hidden = true;
  $("whoami").hidden = true;
  var error = $("login-error");
  error.textContent = message || "";
  error.hidden = !message;
  showView("login");
  $("login-email").focus();
}

hooks.sessionExpired = function () {
  if (me) showLogin("Su sesión ha caducado; inicie sesión de nuevo.");
};

function signedIn(who) {
  me = { role: str(who.role), name: str(who.name), email: str(who.email) };
  $("whoami").hidden = false;
  $("whoami-name").textContent = me.name + " · " + (me.role === "admin" ? "Administrador" : me.role);
  if (me.role !== "admin") {
    $("nav").hidden = true;
    showView("denied", true);
    return;
  }
  $("nav").hidden = false;
  route(true);
}

function route(focus) {
  if (!me || me.role !== "admin") return;
  showBanner("");
  var name = (window.location.hash || "").replace(/^#\//, "");
  if (VIEWS.indexOf(name) < 2) name = "revision";
  if (name !== "modelos") stopPolling();
  showView(name, focus);
  if (name === "revision") loadReview();
  else if (name === "modelos") loadModels();
  else if (name === "panel") loadPanel();
  else if (name === "usuarios") loadUsers();
  else if (name === "auditoria") loadAudit();
}

function onLogin(event) {
  event.preventDefault();
  var form = $("login-form");
  var email = $("login-email").value.trim();
  var password = $("login-password").value;
  var error = $("login-error");
  if (!email || !password) {
    error.textContent = "Escriba el correo y la contraseña.";
    error.hidden = false;
    return;
  }
  setBusy(form, true);
  api("POST", "/auth/login", { email: email, password: password })
    .then(
      function (data) {
        $("login-password").value = "";
        signedIn(isObject(data) && isObject(data.agent) ? data.agent : {});
      },
      function (err) {
        error.textContent = err.status === 401 ? "Correo o contraseña incorrectos." : err.message;
        error.hidden = false;
      }
    )
    .then(function () {
      setBusy(form, false);
    });
}

function onLogout() {
  var done = function () {
    showLogin("");
  };
  api("POST", "/auth/logout", {}).then(done, done);
}

function boot() {
  $("login-form").addEventListener("submit", onLogin);
  $("logout-button").addEventListener("click", onLogout);
  $("denied-logout").addEventListener("click", onLogout);
  wireModels();
  wirePanel();
  wireUsers();
  window.addEventListener("hashchange", function () {
    route(true);
  });
  api("GET", "/auth/me").then(signedIn, function (err) {
    showLogin(err.status === 401 ? "" : err.message);
  });
}

boot();
