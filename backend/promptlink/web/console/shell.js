/*
 * The signed-in shell shared by the agent console and the administration (served at
 * /console/assets/shell.js). Both pages have the same top bar (sections, who is signed in,
 * «Cerrar sesión»), a login view and an «Acceso no permitido» view; this module owns them:
 * it switches views, signs in and out, and shows the login again when the session expires.
 * Each page says what its views are and what to do when someone signs in or out.
 *
 * Security: text goes through textContent; never innerHTML.
 */
import { $, api, el, hooks, isObject, setBusy } from "./core.js";
import { TEXT } from "./labels.js";

/**
 * Wire the shell and ask the server who is signed in. `page`:
 *   views        the view names; each is the section `<name>-view` (the first two: login, denied)
 *   missingText  the Spanish message when the e-mail or the password is empty
 *   signIn(agent)  remember the signed-in `agent`; returns {label, allowed} (label: after the name)
 *   start()      the agent may use the page: start it (timers, sockets) and route
 *   signOut()    forget who was signed in (the login view is about to show)
 *   loggedOut()  optional: after «Cerrar sesión», forget what the page showed
 *   route(focus) the URL hash changed
 *   onView(name) optional: a view is about to show
 * Returns {showView}.
 */
export function startShell(page) {
  var signedIn = false;

  function showView(name, focus) {
    if (page.onView) page.onView(name);
    $("loading").hidden = true;
    for (var i = 0; i < page.views.length; i++) {
      $(page.views[i] + "-view").hidden = page.views[i] !== name;
    }
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
    page.signOut();
    signedIn = false;
    $("nav").hidden = true;
    $("whoami").hidden = true;
    var error = $("login-error");
    error.textContent = message || "";
    error.hidden = !message;
    showView("login");
    $("login-email").focus();
  }

  function onSignedIn(agent) {
    var who = page.signIn(agent);
    signedIn = true;
    $("whoami").hidden = false;
    $("whoami-name").textContent = who.label;
    if (!who.allowed) {
      $("nav").hidden = true;
      showView("denied", true);
      return;
    }
    $("nav").hidden = false;
    page.start();
  }

  function onLogin(event) {
    event.preventDefault();
    var form = $("login-form");
    var email = $("login-email").value.trim();
    var password = $("login-password").value;
    var error = $("login-error");
    error.textContent = email && password ? "" : page.missingText;
    error.hidden = !error.textContent;
    if (!error.hidden) return;
    setBusy(form, true);
    api("POST", "/auth/login", { email: email, password: password })
      .then(
        function (data) {
          $("login-password").value = "";
          onSignedIn(isObject(data) && isObject(data.agent) ? data.agent : {});
        },
        function (err) {
          error.textContent = err.status === 401 ? TEXT.badLogin : err.message;
          error.hidden = false;
          $("login-password").focus();
        }
      )
      .then(function () {
        setBusy(form, false);
      });
  }

  function onLogout() {
    var done = function () {
      if (page.loggedOut) page.loggedOut();
      showLogin("");
    };
    api("POST", "/auth/logout", {}).then(done, done);
  }

  hooks.sessionExpired = function () {
    forgetSignedIn();
    if (signedIn) showLogin(TEXT.expired);
  };
  document.querySelector(".topbar").appendChild(whoamiBox());
  $("login-form").addEventListener("submit", onLogin);
  $("logout-button").addEventListener("click", onLogout);
  $("denied-logout").addEventListener("click", onLogout);
  window.addEventListener("hashchange", function () {
    page.route(true);
  });
  if (SIGNED_IN.test(document.cookie)) {
    api("GET", "/auth/me").then(onSignedIn, function (err) {
      if (err.status === 401) forgetSignedIn();
      showLogin(err.status === 401 ? "" : err.message);
    });
  } else {
    showLogin(""); // nobody signed in from this browser: no need to ask (and no 401 in the browser's console)
  }
  return { showView: showView };
}

// Set beside the HttpOnly session cookie at login, cleared at logout (transports/http/auth.py): not a
// credential, only whether asking /auth/me can succeed.
var SIGNED_IN = /(?:^|;\s*)pl_signed_in=1(?:;|$)/;

function forgetSignedIn() {
  document.cookie = "pl_signed_in=; Max-Age=0; path=/; SameSite=Strict";
}

// Who is signed in and «Cerrar sesión», at the end of the top bar (hidden until someone signs in).
function whoamiBox() {
  var box = el("div", "whoami");
  box.id = "whoami";
  box.hidden = true;
  var name = el("span", "whoami-name");
  name.id = "whoami-name";
  var logout = el("button", "button button-quiet", "Cerrar sesión");
  logout.id = "logout-button";
  logout.type = "button";
  box.appendChild(name);
  box.appendChild(logout);
  return box;
}
