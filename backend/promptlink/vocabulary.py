"""The backend's words for tickets: tiers, statuses, channels, types, priorities, and their Spanish names.

The one place of these codes in the backend process: models, services and transports import them
from here. The action server is another process (its own environment) and has its own module,
`actions/vocabulary.py`, with the same codes and the customer's wording in the chat. What the
tiers, priorities, channels and the update cadence mean: docs/support-plan.md.
"""

from __future__ import annotations

# docs/support-plan.md#tiers
TIERS = ("L1", "L2", "L3")
TIER_NAMES = {"L1": "Soporte de Nivel 1", "L2": "Soporte de Nivel 2", "L3": "Soporte de Nivel 3"}

# A ticket's life; the open ones are those the update cadence runs for.
STATUSES = ("new", "open", "pending_customer", "resolved", "closed")
OPEN_STATUSES = ("new", "open", "pending_customer")
# As customers (mail, history) and agents (console) read them.
STATUS_NAMES = {
    "new": "nuevo",
    "open": "en curso",
    "pending_customer": "en espera del cliente",
    "resolved": "resuelto",
    "closed": "cerrado",
}

# Where a ticket came from (docs/support-plan.md#support-channels); `api` is an integration.
CHANNELS = ("chat", "email", "phone", "snmp", "api")
# «Tiquete registrado por …».
CHANNEL_NAMES = {
    "chat": "chat",
    "email": "correo electrónico",
    "phone": "teléfono",
    "snmp": "trampa SNMP",
    "api": "API",
}

TYPES = (
    "information",
    "configuration",
    "network_outage",
    "software_bug",
    "hardware_failure",
    "enhancement",
    "special_development",
)

# docs/support-plan.md#priorities: P1 (production down, no solution) to P4 (information).
PRIORITIES = (1, 2, 3, 4)
# docs/support-plan.md#update-cadence, after «Le informaremos …».
CADENCE_TEXT = {
    1: "cada dos horas",
    2: "al final de cada día",
    3: "al final de cada día",
    4: "cada semana",
}

# The assistant's intents (domain.yml) as the administrators read them in the review inbox;
# tests/backend/services/test_review.py checks every intent of the domain has its name here.
INTENT_NAMES = {
    "greet": "Saludo",
    "goodbye": "Despedida",
    "affirm": "Dice que sí",
    "deny": "Dice que no",
    "thank": "Agradece",
    "bot_challenge": "Pregunta si habla con un robot",
    "out_of_scope": "Fuera de tema",
    "nlu_fallback": "No entendido",
    "request_human": "Pide hablar con una persona",
    "ask_support_plan": "Pregunta por el plan de soporte",
    "ask_hardware_coverage": "Pregunta por la cobertura del hardware",
    "report_hardware_failure": "Reporta una falla de hardware",
    "report_network_outage": "Reporta una caída de la red",
    "report_software_bug": "Reporta un error de software",
    "request_enhancement": "Pide una mejora",
    "request_configuration_help": "Pide ayuda con una configuración",
    "ask_ticket_status": "Pregunta por el estado de un tiquete",
    "ask_priority_levels": "Pregunta por los niveles de prioridad",
    "ask_update_frequency": "Pregunta cada cuánto le informan",
    "ask_contact_channels": "Pregunta por los canales de contacto",
    "ask_deployment_plan": "Pregunta por el plan de despliegue",
    "ask_deployment_status": "Pregunta por el estado de un despliegue",
    "ask_training": "Pregunta por las capacitaciones",
    "request_training": "Pide una capacitación",
    "inform": "Da un dato pedido",
    "stop": "Quiere dejarlo",
    "ask_team": "Pregunta por el equipo de soporte",
    "report_problem": "Reporta un problema",
    "ask_network_alarms": "Pregunta por las alarmas de la red",
}
