/*
 * Promptlink Assist — administration (entry module): review inbox, models, dashboard,
 * users and audit log. Vanilla ES modules under the console's CSP (script-src 'self');
 * the REST client and DOM helpers are the agent console's (core.js), and so are the views,
 * login and logout (shell.js). Chart.js comes from npm (webchat/node_modules), served by the
 * backend at /admin/vendor/chart.umd.min.js.
 *
 * Security: all server and user text goes through textContent; never innerHTML.
 */
import { showBanner, str } from "/console/assets/core.js";
import { startShell } from "/console/assets/shell.js";
import { wireModels, loadModels, stopPolling } from "./models.js";
import { loadPanel, wirePanel } from "./panel.js";
import { loadReview } from "./review.js";
import { loadAudit, loadUsers, wireUsers } from "./users.js";

var VIEWS = ["login", "denied", "revision", "modelos", "panel", "usuarios", "auditoria"];
var me = null;
var shell = null; // startShell's answer: showView

function signIn(who) {
  me = { role: str(who.role), name: str(who.name), email: str(who.email) };
  return { label: me.name + " · " + (me.role === "admin" ? "Administrador" : me.role), allowed: me.role === "admin" };
}

function signOut() {
  me = null;
  stopPolling();
}

function route(focus) {
  if (!me || me.role !== "admin") return;
  showBanner("");
  var name = (window.location.hash || "").replace(/^#\//, "");
  if (VIEWS.indexOf(name) < 2) name = "revision";
  if (name !== "modelos") stopPolling();
  shell.showView(name, focus);
  if (name === "revision") loadReview();
  else if (name === "modelos") loadModels();
  else if (name === "panel") loadPanel();
  else if (name === "usuarios") loadUsers();
  else if (name === "auditoria") loadAudit();
}

function boot() {
  wireModels();
  wirePanel();
  wireUsers();
  shell = startShell({
    views: VIEWS,
    missingText: "Escriba el correo y la contraseña.",
    signIn: signIn,
    start: function () {
      route(true);
    },
    signOut: signOut,
    route: route,
  });
}

boot();
