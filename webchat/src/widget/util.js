/*
 * Chat widget: pure helpers — seq numbers, times, level names, quick-reply buttons, order.
 */
import { isObject } from "../common/util.js";

export function toSeq(v) {
  var n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && isFinite(n) && n > 0 && Math.floor(n) === n ? n : null;
}

export function formatTime(iso) {
  if (!iso) return "";
  var d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  try {
    return d.toLocaleTimeString("es-ES", { hour: "2-digit", minute: "2-digit" });
  } catch (e) {
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
}

export function tierLabel(tier) {
  if (tier === null || tier === undefined || tier === "") return "";
  var s = String(tier);
  var m = /^(?:L|N|nivel\s*)(\d+)$/i.exec(s);
  return m ? m[1] : s;
}

export function sanitizeButtons(buttons) {
  if (!Array.isArray(buttons)) return [];
  var out = [];
  for (var i = 0; i < buttons.length; i++) {
    var b = buttons[i];
    if (!isObject(b)) continue;
    var title = b.title === undefined || b.title === null ? "" : String(b.title);
    if (!title) continue;
    out.push({ title: title, payload: b.payload === undefined ? null : b.payload });
  }
  return out;
}

// Server messages sort by seq; local notices (handoff, agent_joined) sit right
// after the last seq known when they arrived; pending messages go last.
export function sortKey(entry) {
  if (entry.local) return (entry.after_seq || 0) + 0.5;
  if (entry.seq) return entry.seq;
  return Infinity;
}
