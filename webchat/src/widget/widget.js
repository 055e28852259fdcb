/*
 * Chat widget: the Widget — its state and its life (mount, destroy). The methods live in one
 * module per concern and are mixed into Widget.prototype here:
 *
 *   store.js       persistence (localStorage)      connection.js     socket.io /chat, server events
 *   view.js        the frame and the input box     messages.js       the message list
 *   status.js      handoff, queue, typing, end     quick-replies.js  the assistant's buttons
 *   rating.js      the satisfaction rating         sending.js        the customer's messages, acks
 *   transcript.js  the ended chat by e-mail        unavailable.js    nobody of the level online
 *   attachments.js files: paperclip, upload, attachment bubbles
 *   launcher.js    the floating button (options.launcher)    rich-text.js  lists and links
 */
import { isObject } from "../common/util.js";
import { attachments } from "./attachments.js";
import { connection } from "./connection.js";
import { launcher } from "./launcher.js";
import { messages } from "./messages.js";
import { rating } from "./rating.js";
import { sending } from "./sending.js";
import { status } from "./status.js";
import { persistence, Store } from "./store.js";
import { transcriptMail } from "./transcript.js";
import { unavailable } from "./unavailable.js";
import { toSeq } from "./util.js";
import { view } from "./view.js";

export function Widget(options) {
  if (!isObject(options) || !options.element || options.element.nodeType !== 1) {
    throw new TypeError("PromptlinkChat.mount: options.element must be an HTMLElement");
  }
  if (typeof window.io !== "function") {
    throw new Error("PromptlinkChat.mount: socket.io client (window.io) is not loaded");
  }
  this.container = options.element;
  this.identity = options.identity ? String(options.identity) : null;
  this.url = options.url ? String(options.url).replace(/\/+$/, "") : "";
  this.store = new Store(options.storageKey ? String(options.storageKey) : "promptlink.chat.anonymous");

  this.destroyed = false;
  this.socket = null;
  this.connGen = 0; // incremented on every connect: stale ack callbacks are ignored
  this.sessionReady = false;
  this.inflight = null; // client_msg_id awaiting ack on this connection
  this.sentThisConn = {}; // client_msg_ids already emitted on this connection
  this.ackTimer = null;
  this.retryTimer = null;
  this.retryDelay = 0;
  this.slowDownTimer = null; // the server asked to wait (rate limit): pending messages wait too
  this.slowDownDelay = 0;
  this.typingTimer = null;
  this.mode = null; // bot | queued | human | closed (from the server)
  this.agent = null; // {name, tier} while a person attends the chat
  this.queue = null; // {tier, position, eta_seconds} while queued
  this.rating = "none"; // none | requested | done
  this.ratingScore = null;
  this.unavailableOffer = null; // {text, ticket} while nobody of the level is online
  this.nobodyOnline = false; // the server said nobody of the queue's level is online
  this.launcherEl = null; // the floating button, with options.launcher
  this.open = true;
  this.ownTyping = false;
  this.ownTypingTimer = null;

  // Persistent state.
  this.conversationId = this.store.get("conversation_id", null);
  this.resumeToken = this.store.get("resume_token", null);
  this.lastSeq = toSeq(this.store.get("last_seq", 0)) || 0;
  this.transcript = this.loadTranscript(); // rendered entries, sorted
  this.pending = this.loadPending(); // [{client_msg_id, text, payload, created_at}]

  this.rendered = {}; // seq -> element
  this.pendingEls = {}; // client_msg_id -> element

  this.buildDom();
  if (options.launcher) this.buildLauncher();
  this.renderInitial();
  this.connect();
}

Object.assign(Widget.prototype, persistence, view, status, messages, rating, connection, sending, attachments);
Object.assign(Widget.prototype, transcriptMail, unavailable, launcher);

Widget.prototype.destroy = function () {
  if (this.destroyed) return;
  this.destroyed = true;
  this.clearInflight();
  if (this.retryTimer) window.clearTimeout(this.retryTimer);
  if (this.slowDownTimer) window.clearTimeout(this.slowDownTimer);
  if (this.typingTimer) window.clearTimeout(this.typingTimer);
  if (this.ownTypingTimer) window.clearTimeout(this.ownTypingTimer);
  this.retryTimer = this.typingTimer = this.ownTypingTimer = null;
  if (this.socket) {
    this.socket.off();
    this.socket.disconnect();
    this.socket = null;
  }
  if (this.resizeObserver) this.resizeObserver.disconnect();
  if (this.root && this.root.parentNode) this.root.parentNode.removeChild(this.root);
  if (this.launcherEl && this.launcherEl.parentNode) this.launcherEl.parentNode.removeChild(this.launcherEl);
  this.root = this.launcherEl = null;
};
