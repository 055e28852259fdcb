/*
 * Agent console: constants and every Spanish text the console shows (the API speaks English).
 */

export var API = "/api/v1";
export var REFRESH_MS = 15000;
export var TICK_MS = 1000;
export var STAFF_ROLES = { agent: true, supervisor: true, admin: true };
export var TIERS = ["L1", "L2", "L3"];
export var OPEN_STATUSES = "new,open,pending_customer";

export var TIER_NAMES = { L1: "Soporte de Nivel 1", L2: "Soporte de Nivel 2", L3: "Soporte de Nivel 3" };
export var ROLE_NAMES = { agent: "Agente", supervisor: "Supervisor", admin: "Administrador" };
export var PRIORITY_NAMES = { 1: "crítica", 2: "alta", 3: "media", 4: "baja" };
export var TYPE_NAMES = {
  information: "Información o asistencia",
  configuration: "Ayuda de configuración u operación",
  network_outage: "Caída de red",
  software_bug: "Falla de software",
  hardware_failure: "Falla de hardware",
  enhancement: "Solicitud de mejora",
  special_development: "Desarrollo especial",
};
export var STATUS_NAMES = {
  new: "Nuevo",
  open: "En curso",
  pending_customer: "En espera del cliente",
  resolved: "Resuelto",
  closed: "Cerrado",
};
export var CHANNEL_NAMES = {
  chat: "Chat",
  email: "Correo electrónico",
  phone: "Teléfono",
  snmp: "Trampa SNMP",
  api: "API",
};
export var KIND_NAMES = {
  attachment: "Archivo adjunto",
  attachment_refused: "Adjunto rechazado",
  created: "Registro",
  prioritized: "Prioridad calculada",
  routed: "Enrutamiento",
  coverage: "Cobertura",
  quote_request: "Solicitud de cotización",
  update: "Actualización al cliente",
  note: "Nota interna",
  customer_message: "Mensaje del cliente",
  priority_changed: "Cambio de prioridad",
  tier_changed: "Transferencia de nivel",
  status_changed: "Cambio de estado",
  assigned: "Asignación",
  bug_linked: "Falla vinculada",
  bug_changed: "Cambio en la falla",
  rma: "RMA",
  linked: "Tiquete relacionado",
  reminder: "Recordatorio",
  breach: "Plazo incumplido",
  transcript_sent: "Transcripción del chat enviada",
};
export var BUG_STATE_NAMES = {
  new: "nuevo",
  confirmed: "confirmado",
  in_progress: "en progreso",
  fixed: "corregido",
  released: "publicado",
  wont_fix: "no se corregirá",
};
export var RMA_STATUS_NAMES = {
  requested: "Solicitada",
  approved: "Aprobada",
  shipped: "Enviada",
  delivered: "Entregada",
  closed: "Cerrada",
};
export var FACTS = [
  "production_down",
  "severely_damaged",
  "damaged",
  "solution_available",
  "most_operations_proceed",
  "information_request",
];

export var TEXT = {
  title: "Consola de agentes — Promptlink Assist",
  badLogin: "Correo o contraseña incorrectos.",
  loginMissing: "Indique su correo y su contraseña.",
  expired: "Su sesión ha caducado; inicie sesión de nuevo.",
  forbidden: "No tiene permiso para esta acción.",
  notFound: "No encontrado.",
  notAllowed: "El servidor no admite esta operación todavía.",
  invalid: "Datos no válidos: ",
  conflict: "Conflicto: ",
  tooMany: "Demasiadas solicitudes; espere un momento y vuelva a intentarlo.",
  server: "Error del servidor; inténtelo de nuevo en unos momentos.",
  network: "No se pudo conectar con el servidor. Compruebe la conexión e inténtelo de nuevo.",
  unexpected: "Error inesperado",
  loading: "Cargando…",
  noDue: "Sin próxima actualización pendiente",
  overdue: "Vencido",
  unassigned: "Sin asignar",
  assignedToMe: "Asignado a mí",
  assignedOther: "Asignado a otro agente",
  emptyQueue: "No hay tiquetes abiertos en este nivel.",
  emptyText: "Escriba el texto antes de enviarlo.",
  reasonRequired: "Indique el motivo.",
  chooseTier: "Elija el nivel de destino.",
  chooseStatus: "Elija el nuevo estado.",
  resolutionRequired: "Describa la resolución para marcar el tiquete como resuelto.",
  bugKeyRequired: "Indique la clave de la falla, p. ej. BUG-000001.",
  bugTitleRequired: "Indique el título de la falla.",
  versionRequired: "Indique la versión que corrige la falla.",
  trackingRequired: "Indique el número de seguimiento del envío.",
  chooseCustomer: "Elija el cliente.",
  chooseContact: "Elija el contacto que llama.",
  titleRequired: "Indique un título para la incidencia.",
  updateSent: "Actualización enviada al cliente.",
  noteSaved: "Nota interna guardada.",
  prioritySaved: "Prioridad cambiada.",
  tierSaved: "Tiquete transferido.",
  statusSaved: "Estado cambiado.",
  bugLinked: "Falla vinculada.",
  bugCreated: "Falla registrada y vinculada.",
  bugChanged: "Estado de la falla actualizado.",
  rmaSaved: "RMA actualizado.",
  rmaUnavailable:
    "No se pudo actualizar el RMA: el servidor todavía no ofrece esta función o el RMA no existe",
};
