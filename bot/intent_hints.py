"""Two confusions of the classifier that the message's own words settle, corrected before Rasa picks the next action.

- **A bare call for help** («ayuda», «¡Auxilio!», «necesito ayuda por favor»): the classifier learnt «gracias por la
  ayuda» as thanks and calls «ayuda» `thank` (0.61), or cannot place it (`nlu_fallback`). It asks what the assistant
  can do: it is read as `greet` (outside a form; inside one the form's question comes back as before).
- **How often the customer is kept informed, naming a priority** («si abro un caso de prioridad 2, ¿cada cuánto me
  van a estar dando razón?»): the classifier says `ask_priority_levels` (0.74) and a rule would describe the four
  priorities. It is read as `ask_update_frequency`, unless the message also asks what the priorities are.

Done here, in the channel, rather than by a custom action: an action call costs the Rasa server about 5 ms of CPU per
turn (docs/performance.md, «Session 19»), and «gracias» and the priority questions are common turns. Adding training
examples instead moved six other conversations (session 18). The corrected parse keeps what the classifier said in
`intent.corrected_from`, and the words are checked against every training example of the intents involved
(`tests/bot/test_intent_hints.py`).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional

from actions.answers import plain

# The whole message (plain text: lowercase, no accents or punctuation) is a call for help and nothing else.
HELP_CALL = re.compile(
    r"(?:(?:hola|buenas|buenos dias|buenas tardes|buenas noches|oiga|oigan|disculpe|por favor|porfa)\s+)*"
    r"(?:(?:necesito|necesitamos|requiero|requerimos|quiero|queremos|pido|solicito)\s+)?"
    r"(?:una\s+|un\s+poco\s+de\s+|de\s+)?(?:ayuda|auxilio|socorro|help|asistencia)"
    r"(?:\s+(?:por favor|porfa|porfavor|urgente|please|plis|aqui|aca))*"
)
# «¿Cada cuánto…?», «¿me van a estar dando razón?», «¿con qué frecuencia…?», «¿semanal?», «¿me mantienen informado?».
CADENCE_WORDS = re.compile(
    r"\b(?:cada\s+cuan(?:to|tas?|do)|con\s+que\s+(?:frecuencia|regularidad)|que\s+tan\s+seguido|periodicidad"
    r"|regularidad|cuantas\s+veces\s+(?:al|por|a\s+la|me|nos)|frecuencia\s+de\s+(?:las\s+)?(?:actualiz|notific|inform|avis)\w*"
    r"|(?:dar|dando|daran|dan|den|darian)(?:\s+\w+)?\s+razon|al\s+tanto|informad[oa]s?"
    r"|(?:me|nos)\s+(?:van\s+a\s+)?(?:estar\s+|seguir\s+)?(?:informando|avisando|actualizando|reportando|contando)"
    r"|(?:dan|dar|daran|envian|mandan|recibo|recibimos|llegan)\s+(?:las\s+)?actualizaciones"
    r"|actualizaciones\s+(?:de(?:l)?\s+(?:estado|caso|tiquete|ticket|avance))|entre\s+una\s+actualizacion"
    r"|tiempos?\s+de\s+actualizacion|diari[oa]|semanal\w*|al\s+final\s+del?\s+(?:cada\s+)?dia"
    r"|cada\s+(?:\w+\s+)?(?:horas?|dias?|semanas?))\b"
)
# What the priorities are («¿qué es una prioridad 1?», «¿cuáles son los niveles?»): then the priorities are asked too.
PRIORITY_DEFINITION_WORDS = re.compile(
    r"\b(?:que\s+(?:es|son|significa\w*|quiere\s+decir)|niveles|cuales\s+son|diferencia\w*|defin\w*|clasific\w*)\b"
)

GREET = "greet"
UPDATE_FREQUENCY = "ask_update_frequency"


def is_help_call(text: str) -> bool:
    """Whether the whole message is a call for help and nothing else."""
    return bool(HELP_CALL.fullmatch(plain(text)))


def asks_cadence(text: str) -> bool:
    """Whether the message asks how often the customer is kept informed."""
    return bool(CADENCE_WORDS.search(plain(text)))


def corrected_intent(intent: Optional[str], text: str) -> Optional[str]:
    """The intent the message's words call for instead of `intent`, or None to keep it."""
    if intent in ("thank", "nlu_fallback"):
        return GREET if is_help_call(text) else None
    if intent == "ask_priority_levels":
        words = plain(text)
        if CADENCE_WORDS.search(words) and not PRIORITY_DEFINITION_WORDS.search(words):
            return UPDATE_FREQUENCY
    return None


def correct(parse: Optional[Dict[str, Any]], text: str, *, in_form: bool) -> Optional[str]:
    """Apply `corrected_intent` to Rasa's `parse` in place; the new intent's name, or None when nothing changed.

    A call for help inside a form is left to the form (its question comes back)."""
    if not parse:
        return None
    intent = parse.get("intent") or {}
    new = corrected_intent(intent.get("name"), text)
    if new is None or (new == GREET and in_form):
        return None
    parse["intent"] = {
        "name": new,
        "confidence": 1.0,
        "corrected_from": {"name": intent.get("name"), "confidence": intent.get("confidence")},
    }
    return new
