/*
 * Chat widget: limits, timings and every Spanish text the customer reads.
 */

export var MAX_LENGTH = 2000;
export var MAX_TRANSCRIPT = 200;
export var ACK_TIMEOUT_MS = 10000;
export var TYPING_TIMEOUT_MS = 30000;
export var TYPING_IDLE_MS = 2500;
export var MAX_COMMENT = 1000;
// The suggested topics of an empty chat: questions the assistant answers (data/nlu), sent as
// the customer's own words.
export var TOPICS = [
  "¿Qué cubre el plan de soporte?",
  "Reportar una incidencia",
  "¿Cuáles son las prioridades?",
  "¿Dan cursos de formación?",
  "¿Cubren el reemplazo de hardware?",
];
export var ROLES = { customer: true, bot: true, agent: true, system: true };

export var TEXT = {
  title: "Soporte Técnico Promptlink",
  connecting: "Conectando…",
  online: "Conectado",
  offline: "Sin conexión. Reintentando…",
  placeholder: "Escriba su mensaje…",
  send: "Enviar",
  inputLabel: "Mensaje",
  messagesLabel: "Mensajes de la conversación",
  you: "Usted",
  bot: "Asistente",
  agent: "Agente",
  system: "Sistema",
  sending: "Enviando…",
  unconfirmed: "Pendiente de confirmación; se reenviará al reconectar.",
  failed: "No enviado",
  tooFast: "Demasiados mensajes seguidos; se enviará en unos segundos.",
  tooLong: "El mensaje supera el máximo de " + MAX_LENGTH + " caracteres.",
  typingBot: "El asistente está escribiendo…",
  typingAgent: "El agente está escribiendo…",
  end: "Terminar conversación",
  endShort: "Terminar",
  ending: "Terminando…",
  endQuestion: "¿Terminar la conversación?",
  endYes: "Sí, terminar",
  endNo: "No, seguir",
  newMessages: "Nuevos mensajes ↓",
  welcome: "¡Hola! Soy el asistente de Soporte Técnico de Promptlink. Escriba su consulta o elija un tema:",
  topicsLabel: "Temas sugeridos",
  launcherOpen: "Abrir el chat de soporte",
  launcherClose: "Cerrar el chat de soporte",
  minimize: "Minimizar el chat",
  unreadOne: "1 mensaje nuevo",
  unreadMany: " mensajes nuevos",
  rateQuestion: "¿Cómo calificaría la atención recibida?",
  rateHint: "De 1 (mala) a 5 (excelente)",
  rateComment: "Comentario (opcional)",
  rateSend: "Enviar calificación",
  rateChoose: "Elija una calificación de 1 a 5.",
  rateThanks: "¡Gracias!",
  commentTooLong: "El comentario supera el máximo de " + MAX_COMMENT + " caracteres.",
  noConnection: "Sin conexión. Inténtelo de nuevo en unos segundos.",
};
