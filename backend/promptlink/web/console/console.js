/*
 * Promptlink Assist — agent console (entry module).
 *
 * Vanilla JS ES modules, no build step, served from /console/assets/ under a strict CSP
 * (script-src 'self'; style-src 'self'): no inline scripts, styles or handlers.
 *
 *   labels.js  constants and the Spanish texts      core.js    helpers, REST client, state, countdowns
 *   queues.js  queues per tier and search           ticket.js  one ticket: facts, history, actions
 *   linked.js  bugs and RMAs of a ticket            phone.js   «Registrar llamada»
 *   livechat.js  live chat: presence, chat queues, conversations (socket.io /agent)
 *
 * Views (URL hash, so a reload keeps the place):
 *   #/queues                  open tickets per tier with live update-due countdowns
 *   #/tickets/PL-2026-000001  one ticket
 *   #/phone                   file a ticket for a phone call
 *   #/chats[/<conversation>]  live chat: queues, my conversations, one conversation
 *
 * Talks to /api/v1 with the HttpOnly `pl_session` cookie set by POST /api/v1/auth/login.
 * Security: all text goes through textContent; never use innerHTML in the console.
 */
import { $, api, dueText, hooks, isObject, roleText, setBusy, showBanner, state, str, tick } from "./core.js";
import { REFRESH_MS, STAFF_ROLES, TEXT, TICK_MS } from "./labels.js";
import { refreshChats, showChats, startLiveChat, stopLiveChat } from "./livechat.js";
import { forgetPhoneForm, loadCustomers, wirePhoneForm } from "./phone.js";
import { loadQueues, wireSearch } from "./queues.js";
import { loadTicket, openTicket, wireTicketActions } from "./ticket.js";
import "./alarms.js";

var VIEWS = ["login", "denied", "queues", "ticket", "phone", "chats"];

function showView(name, focus) {
  state.view = name;
  $("loading").hidden = true;
  for (var i = 0; i < VIEWS.length; i++) {
    $(VIEWS[i] + "-view").hidden = VIEWS[i] !== name;
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

// ------------------------------------------------------------------- auth

function showLogin(message) {
  stopTimers();
  stopLiveChat();
  state.me = null;
  $("nav").hidden = true;
  $("whoami").hidden = true;
  showBanner("");
  var error = $("login-error");
  error.textContent = message || "";
  error.hidden = !message;
  showView("login");
  $("login-email").focus();
}

hooks.sessionExpired = function () {
  if (state.me) showLogin(TEXT.expired);
};

function signedIn(me) {
  state.me = {
    role: str(me.role),
    email: str(me.email),
    name: str(me.name),
    tiers: Array.isArray(me.tiers) ? me.tiers.map(String) : [],
  };
  $("whoami").hidden = false;
  $("whoami-name").textContent = state.me.name + " · " + roleText(state.me);
  if (!STAFF_ROLES[state.me.role]) {
    // A customer or the action server's identity: not a console user.
    $("nav").hidden = true;
    showView("denied", true);
    return;
  }
  $("nav").hidden = false;
  startTimers();
  startLiveChat();
  route(true);
}

function onLogin(event) {
  event.preventDefault();
  var form = $("login-form");
  var email = $("login-email").value.trim();
  var password = $("login-password").value;
  var error = $("login-error");
  error.textContent = email && password ? "" : TEXT.loginMissing;
  error.hidden = !error.textContent;
  if (!error.hidden) return;
  setBusy(form, true);
  api("POST", "/auth/login", { email: email, password: password })
    .then(
      function (data) {
        $("login-password").value = "";
        signedIn(isObject(data) && isObject(data.agent) ? data.agent : {});
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
    state.ticket = null;
    state.ticketNumber = null;
    state.myTickets = {};
    state.agentNames = {};
    forgetPhoneForm();
    $("queues").textContent = "";
    showLogin("");
  };
  api("POST", "/auth/logout", {}).then(done, done);
}

// ---------------------------------------------------------------- routing

function parseRoute() {
  var hash = window.location.hash || "";
  var m = /^#\/tickets\/([^/?#]+)$/.exec(hash);
  if (m) {
    var number;
    try {
      number = decodeURIComponent(m[1]);
    } catch (e) {
      number = m[1];
    }
    return { name: "ticket", number: number };
  }
  if (hash === "#/phone") return { name: "phone" };
  var c = /^#\/chats(?:\/([^/?#]+))?$/.exec(hash);
  if (c) {
    var id = null;
    try {
      id = c[1] ? decodeURIComponent(c[1]) : null;
    } catch (e) {
      id = c[1];
    }
    return { name: "chats", id: id };
  }
  return { name: "queues" };
}

function route(focus) {
  if (!state.me || !STAFF_ROLES[state.me.role]) return;
  showBanner("");
  var r = parseRoute();
  if (r.name === "ticket") {
    showView("ticket");
    openTicket(r.number); // focuses the heading once loaded
  } else if (r.name === "chats") {
    state.ticketNumber = null;
    showView("chats", focus && !r.id);
    showChats(r.id);
  } else if (r.name === "phone") {
    showView("phone", focus);
    loadCustomers();
  } else {
    state.ticketNumber = null;
    showView("queues", focus);
    loadQueues();
  }
}

// ----------------------------------------------------------------- timers

function startTimers() {
  stopTimers();
  state.tickTimer = window.setInterval(tick, TICK_MS);
  state.refreshTimer = window.setInterval(refresh, REFRESH_MS);
}

function stopTimers() {
  if (state.tickTimer) window.clearInterval(state.tickTimer);
  if (state.refreshTimer) window.clearInterval(state.refreshTimer);
  state.tickTimer = state.refreshTimer = null;
}

function refresh() {
  if (!state.me) return;
  if (state.view === "queues") loadQueues();
  else if (state.view === "ticket" && state.ticketNumber) loadTicket(state.ticketNumber, true);
  else if (state.view === "chats") refreshChats();
}

// ------------------------------------------------------------------- boot

function boot() {
  $("login-form").addEventListener("submit", onLogin);
  $("logout-button").addEventListener("click", onLogout);
  $("denied-logout").addEventListener("click", onLogout);
  wireSearch();
  wireTicketActions();
  wirePhoneForm();
  window.addEventListener("hashchange", function () {
    route(true);
  });
  api("GET", "/auth/me").then(signedIn, function (err) {
    showLogin(err.status === 401 ? "" : err.message);
  });
}

// For tests and the curious: the countdown wording.
window.PromptlinkConsole = { dueText: dueText };

boot(); // module scripts run after the document is parsed
