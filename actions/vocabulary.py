"""The action server's words for tickets: tiers, statuses and kinds of request, and the update cadence.

The one place of these in the action server, which is its own process (its own environment) and
talks to the backend only over HTTP. The backend keeps the same codes in
`backend/promptlink/vocabulary.py`; the words here are what the customer reads in the chat, so a
status is worded to follow «está …» («en espera de su respuesta» where agents read «en espera del
cliente»). What tiers, priorities and the cadence mean: docs/support-plan.md.
"""

from __future__ import annotations

# docs/support-plan.md#tiers
TIER_NAMES = {"L1": "Soporte de Nivel 1", "L2": "Soporte de Nivel 2", "L3": "Soporte de Nivel 3"}
UNKNOWN_TIER = "nuestro equipo de soporte"

# The customer reads these after «está …» (never the backend's English codes).
STATUS_NAMES = {
    "new": "registrado",
    "open": "en curso",
    "pending_customer": "en espera de su respuesta",
    "resolved": "resuelto",
    "closed": "cerrado",
}
UNKNOWN_STATUS = "en seguimiento"

# The kinds of request the intake form files (ticket types).
TYPE_NAMES = {
    "network_outage": "falla de red",
    "software_bug": "falla de software",
    "hardware_failure": "falla de hardware",
    "enhancement": "solicitud de mejora",
    "configuration": "solicitud de ayuda de configuración",
}

# docs/support-plan.md#update-cadence, after «le informaremos …».
CADENCE = {1: "cada dos horas", 2: "al final de cada día", 3: "al final de cada día", 4: "cada semana"}
