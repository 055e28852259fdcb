/*
 * Promptlink Assist — agent console (entry module).
 *
 * Vanilla JS ES modules, no build step, served from /console/assets/ under a strict CSP
 * (script-src 'self'; style-src 'self'): no inline scripts, styles or handlers.
 *
 *   labels.js  constants and the Spanish texts      core.js    helpers, REST client, state, countdowns
 *   queues.js  queues per tier and search           ticket.js  one ticket: facts, history, actions
 *   linked.js  bugs and RMAs of a ticket            phone.js   «Registrar llamada»
 *   shell.js   views, login, logout (also admin)    alarms.js  «Alarmas sin asignar»
 *   livechat.js  live chat: presence, chat queues, conversations (socket.io /agent; parts in chat/)
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
import { $, dueText, roleText, showBanner, state, str, tick } from "./core.js";
import { REFRESH_MS, STAFF_ROLES, TEXT, TICK_MS } from "./labels.js";
import { refreshChats, showChats, startLiveChat, stopLiveChat } from "./livechat.js";
import { forgetPhoneForm, loadCustomers, wirePhoneForm } from "./phone.js";
import { loadQueues, wireSearch } from "./queues.js";
import { startShell } from "./shell.js";
import { loadTicket, openTicket, wireTicketActions } from "./ticket.js";
import "./alarms.js";

var VIEWS = ["login", "denied", "queues", "ticket", "phone", "chats"];
var shell = null; // startShell's answer: showView

// ------------------------------------------------------------------- auth

function signIn(me) {
  state.me = {
    role: str(me.role),
    email: str(me.email),
    name: str(me.name),
    tiers: Array.isArray(me.tiers) ? me.tiers.map(String) : [],
  };
  // A customer or the action server's identity is not a console user.
  return { label: state.me.name + " · " + roleText(state.me), allowed: !!STAFF_ROLES[state.me.role] };
}

function start() {
  startTimers();
  startLiveChat();
  route(true);
}

function signOut() {
  stopTimers();
  stopLiveChat();
  state.me = null;
  showBanner("");
}

function loggedOut() {
  state.ticket = null;
  state.ticketNumber = null;
  state.myTickets = {};
  state.agentNames = {};
  forgetPhoneForm();
  $("queues").textContent = "";
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
  var showView = shell.showView;
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
  wireSearch();
  wireTicketActions();
  wirePhoneForm();
  shell = startShell({
    views: VIEWS,
    missingText: TEXT.loginMissing,
    signIn: signIn,
    start: start,
    signOut: signOut,
    loggedOut: loggedOut,
    route: route,
    onView: function (name) {
      state.view = name;
      document.body.setAttribute("data-view", name); // the live chat is a full-height workspace (CSS)
    },
  });
}

// For tests and the curious: the countdown wording.
window.PromptlinkConsole = { dueText: dueText };

boot(); // module scripts run after the document is parsed
