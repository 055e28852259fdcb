/*
 * Agent console, live chat: limits, Spanish names and texts, the shared `live` state and the
 * small helpers every part uses (who may act, conversation records, paths).
 */
import { state } from "../core.js";

export var ACK_TIMEOUT_MS = 10000;
export var RETRY_MS = 2000;
export var TYPING_IDLE_MS = 2500;
export var CUSTOMER_TYPING_MAX_MS = 15000;
export var MAX_REPLY = 2000;

export var PRESENCE_NAMES = { online: "Conectado", away: "Ausente", offline: "Desconectado" };
export var MODE_NAMES = { bot: "Con el asistente", queued: "En cola", human: "Con un especialista", closed: "Cerrada" };
export var ROLE_LABELS = { customer: "Cliente", bot: "Asistente", agent: "Agente", system: "Sistema" };
export var CONTRACT_NAMES = { software: "Software", hardware: "Hardware" };
export var EVENT_NAMES = {
  queued: "En cola",
  offered: "Ofrecida",
  claimed: "Tomada",
  transferred: "Transferida",
  handed_back: "Devuelta al asistente",
  closed: "Cerrada",
  rated: "Calificada",
  no_agents: "Sin especialistas conectados",
  note: "Nota interna",
};
export var LT = {
  connecting: "Conectando…",
  online: "Chat en vivo conectado",
  offline: "Chat en vivo sin conexión. Reintentando…",
  sending: "Enviando…",
  unconfirmed: "Sin confirmar; se reenviará al reconectar.",
  retrying: "Reintentando…",
  failed: "No enviado",
  customerTyping: "El cliente está escribiendo…",
  noChats: "No atiende ninguna conversación.",
  emptyChatQueue: "No hay chats en espera.",
  unverified: "Visitante sin verificar",
  gone: "Ya no tiene acceso a esta conversación.",
  chooseTier: "Elija el nivel de destino.",
  reasonRequired: "Indique el motivo de la transferencia.",
  resolutionRequired: "Indique la resolución de la conversación.",
  noteRequired: "Escriba la nota antes de guardarla.",
  tooLong: "La respuesta supera el máximo de " + MAX_REPLY + " caracteres.",
};

export var live = {
  socket: null,
  wired: false,
  me: null, // hello.agent {id, name, email, role, tiers, presence, capacity}
  myChats: [],
  queues: [],
  agents: [],
  offset: 0, // server clock - browser clock, ms
  convs: {}, // conversation id -> conv (watched conversations)
  current: null,
  gen: 0, // connection generation: stale acks are ignored
  typingOn: false,
  typingConv: null,
  typingTimer: null,
  tickTimer: null,
  reloadTimers: {},
};

// ---------------------------------------------------------------- helpers

export function isSupervisor() {
  var role = live.me ? live.me.role : state.me ? state.me.role : "";
  return role === "supervisor" || role === "admin";
}

export function myTiers() {
  if (live.me && Array.isArray(live.me.tiers)) return live.me.tiers;
  return state.me && Array.isArray(state.me.tiers) ? state.me.tiers : [];
}

export function worksTier(tier) {
  var role = live.me ? live.me.role : state.me ? state.me.role : "";
  return role !== "admin" && myTiers().indexOf(tier) !== -1;
}

export function convPath(id) {
  return "/conversations/" + encodeURIComponent(id);
}

export function waitText(ms) {
  var s = Math.max(0, Math.floor(ms / 1000));
  var h = Math.floor(s / 3600);
  var m = Math.floor((s % 3600) / 60);
  var sec = s % 60;
  if (h > 0) return h + " h " + m + " min";
  if (m > 0) return m + " min " + sec + " s";
  return sec + " s";
}

export function later(key, fn, ms) {
  if (live.reloadTimers[key]) return;
  live.reloadTimers[key] = window.setTimeout(function () {
    live.reloadTimers[key] = null;
    fn();
  }, ms);
}

export function customerTitle(s) {
  var who = s.customer_name || s.customer || LT.unverified;
  return s.name ? who + " · " + s.name : who;
}

export function getConv(id) {
  var conv = live.convs[id];
  if (!conv) {
    conv = live.convs[id] = {
      id: id,
      summary: null,
      detail: null,
      messages: {}, // seq -> message
      lastSeq: 0,
      pending: [], // [{client_msg_id, text, sent, status, el}]
      inflight: null,
      customerTyping: false,
      typingTimer: null,
      unread: 0,
      gone: false,
    };
  }
  return conv;
}

export function canAct(conv) {
  var s = conv.summary;
  if (!s || s.mode !== "human" || !live.me) return false;
  return s.agent_id === live.me.id || isSupervisor();
}
