/*
 * Agent console, live chat: telling the agent that chats are waiting — whatever view is open.
 *
 *   - the «Chat en vivo» badge counts the chats waiting in the queues the agent works;
 *   - the page title starts with that count, «(2) Consola de agentes — …» (see core.js `tick`);
 *   - a chat that starts waiting beeps (Web Audio, nothing downloaded; a P1 is louder and longer,
 *     three beeps) unless «Silenciar avisos» is pressed (remembered in localStorage), and shows a desktop
 *     notification when the agent allowed them (asked on a click: browsers refuse otherwise).
 *
 * The first queue list after signing in only sets the baseline: chats already waiting are counted,
 * not announced.
 */
import { $, isObject, state, str } from "../core.js";
import { customerTitle } from "./state.js";

var SOUND_KEY = "promptlink.console.sound";
var alerts = { known: null, audio: null };

export function soundOn() {
  try {
    return window.localStorage.getItem(SOUND_KEY) !== "off";
  } catch (e) {
    return true;
  }
}

// «Silenciar avisos», pressed while muted (one name, the state in aria-pressed).
function renderSoundToggle() {
  $("alert-sound").setAttribute("aria-pressed", soundOn() ? "false" : "true");
}

function notificationsAsked() {
  return typeof window.Notification === "function" && window.Notification.permission === "default";
}

function renderDesktopToggle() {
  $("alert-desktop").hidden = !notificationsAsked();
}

// Browsers start an AudioContext only after a user gesture: made (or resumed) on the first one.
function audioContext() {
  var Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  if (!alerts.audio) alerts.audio = new Ctx();
  if (alerts.audio.state === "suspended" && alerts.audio.resume) alerts.audio.resume().catch(function () {});
  return alerts.audio;
}

/** One beep per entry of `pattern` ([seconds, gain]), 0.15 s apart. */
function beep(urgent) {
  var ctx = audioContext();
  if (!ctx) return;
  var pattern = urgent ? [[0.45, 0.6], [0.45, 0.6], [0.45, 0.6]] : [[0.2, 0.25]];
  var at = ctx.currentTime + 0.02;
  for (var i = 0; i < pattern.length; i++) {
    var osc = ctx.createOscillator();
    var gain = ctx.createGain();
    osc.type = urgent ? "square" : "sine";
    osc.frequency.value = urgent ? 988 : 660;
    gain.gain.setValueAtTime(pattern[i][1], at);
    gain.gain.exponentialRampToValueAtTime(0.001, at + pattern[i][0]);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start(at);
    osc.stop(at + pattern[i][0]);
    at += pattern[i][0] + 0.15;
  }
}

function notify(chat) {
  if (typeof window.Notification !== "function" || window.Notification.permission !== "granted") return;
  var p1 = Number(chat.priority) === 1;
  var body = customerTitle(chat) + (chat.ticket ? " · " + str(chat.ticket) : "");
  if (chat.last_message) body += "\n«" + str(chat.last_message) + "»";
  try {
    var n = new window.Notification((p1 ? "P1 — " : "") + "Chat en espera en " + str(chat.tier), {
      body: body,
      tag: "promptlink-chat-" + str(chat.conversation_id),
      requireInteraction: p1,
    });
    n.onclick = function () {
      window.focus();
      window.location.hash = "#/chats";
      n.close();
    };
  } catch (e) {
    /* some browsers allow notifications from a service worker only: the sound and title remain */
  }
}

/** The queues were (re)loaded: badge, title, and an alert per chat that started waiting. */
export function onQueues(queues) {
  var waiting = [];
  for (var i = 0; i < queues.length; i++) {
    var items = Array.isArray(queues[i].conversations) ? queues[i].conversations.filter(isObject) : [];
    waiting = waiting.concat(items);
  }
  var ids = {};
  var fresh = [];
  for (var j = 0; j < waiting.length; j++) {
    var id = str(waiting[j].conversation_id);
    ids[id] = true;
    if (alerts.known && !alerts.known[id]) fresh.push(waiting[j]);
  }
  alerts.known = ids;
  renderCount(waiting.length);
  $("nav-chat-count").classList.toggle(
    "nav-count-p1",
    waiting.some(function (c) {
      return Number(c.priority) === 1;
    })
  );
  if (!fresh.length) return;
  var urgent = fresh.some(function (c) {
    return Number(c.priority) === 1;
  });
  // Screen readers hear it too (the sound and the notification are not for everyone).
  $("alert-live").textContent =
    (fresh.length === 1 ? "Nuevo chat en espera: " : fresh.length + " chats nuevos en espera: ") +
    fresh
      .map(function (c) {
        return (Number(c.priority) === 1 ? "P1, " : "") + customerTitle(c);
      })
      .join("; ");
  if (soundOn()) beep(urgent);
  for (var k = 0; k < fresh.length; k++) notify(fresh[k]);
}

function renderCount(n) {
  state.waitingChats = n;
  var count = $("nav-chat-count");
  count.textContent = String(n);
  count.hidden = !n;
  $("nav-chat-count-label").textContent = n ? (n === 1 ? " (1 chat en espera)" : " (" + n + " chats en espera)") : "";
}

/** Signed out: forget the baseline and the count. */
export function resetAlerts() {
  alerts.known = null;
  renderCount(0);
  $("alert-live").textContent = "";
}

export function wireAlerts() {
  renderSoundToggle();
  renderDesktopToggle();
  $("alert-sound").addEventListener("click", function () {
    try {
      window.localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
    } catch (e) {
      /* private mode without storage: the toggle lasts this page */
    }
    renderSoundToggle();
    if (soundOn()) audioContext();
  });
  $("alert-desktop").addEventListener("click", function () {
    if (!notificationsAsked()) return;
    var asked = window.Notification.requestPermission(renderDesktopToggle);
    if (asked && asked.then) asked.then(renderDesktopToggle, renderDesktopToggle);
  });
  // The first click or key anywhere unlocks the sound (autoplay rules).
  var unlock = function () {
    if (soundOn()) audioContext();
    document.removeEventListener("click", unlock, true);
    document.removeEventListener("keydown", unlock, true);
  };
  document.addEventListener("click", unlock, true);
  document.addEventListener("keydown", unlock, true);
}
