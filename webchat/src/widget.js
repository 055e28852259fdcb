/*
 * Promptlink Assist — customer chat widget (entry module).
 *
 * Vanilla JS ES modules, no build step: load it with
 *   <script type="module" src="/webchat/widget.js"></script>
 * after the socket.io client (global `io`, served by the backend at
 * /webchat/vendor/socket.io.min.js), with /webchat/widget.css. The pieces are under
 * widget/ (see widget/widget.js); common/util.js is shared with the agent console.
 *
 * Usage (the global is set when this module runs; a deferred classic script placed after
 * it, like demo.js, runs later and can use it):
 *   const chat = window.PromptlinkChat.mount({
 *     element: document.getElementById("chat"),
 *     identity: "<signed widget JWT>" | null,   // null = anonymous visitor
 *     storageKey: "promptlink.chat.ana.gomez@cableandina.example",
 *     url: "",                                  // "" = same origin
 *     launcher: true,                           // optional: floating button (default: inline)
 *   });
 *   chat.destroy();
 *
 * Protocol (socket.io namespace /chat), see docs/chat-protocol.md:
 *   connect auth {identity, conversation_id, resume_token, last_seq}
 *   server -> session {conversation_id, mode, resume_token}
 *   client -> message {client_msg_id, text, payload?}  ack {seq} | {error} | {error, retry: true} (too fast)
 *   server -> message {conversation_id, seq, role, text, buttons?, created_at, author_name?}
 *   server -> typing {role, on, name?}; handoff {tier, position, eta_seconds}; agent_joined {name, tier}
 *   server -> state {mode}; closed {rating_requested, by}; rated {score}
 *   client -> resume {conversation_id, last_seq}; typing {on}; end {comment?} ack {mode} | {error}
 *   client -> rate {score 1..5, comment?} ack {rated} | {error}
 *
 * Security: every piece of server or user text is rendered with textContent /
 * createTextNode. Never use innerHTML in the widget.
 */
import { Widget } from "./widget/widget.js";

window.PromptlinkChat = {
  mount: function (options) {
    var w = new Widget(options);
    return {
      destroy: function () {
        w.destroy();
      },
    };
  },
};
