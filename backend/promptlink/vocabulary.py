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
