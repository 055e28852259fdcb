"""Who the customer is: the widget identity (message metadata) or an e-mail verification."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Optional

from rasa_sdk import Tracker

from .answers import plain
from .understanding import PLACES

VERIFICATION_SLOTS = ["customer_code", "contact_email", "otp_code"]


@dataclass(frozen=True)
class Customer:
    contact: str
    customer: str
    name: str


def identity_of(tracker: Tracker) -> Optional[Customer]:
    """The identified contact: from the backend's metadata, else from a verification."""
    metadata: Dict[str, Any] = tracker.latest_message.get("metadata") or {}
    if isinstance(metadata.get("contact"), str) and isinstance(metadata.get("customer"), str):
        return Customer(metadata["contact"], metadata["customer"], str(metadata.get("name") or ""))
    if tracker.get_slot("verified") and tracker.get_slot("verified_contact"):
        return Customer(
            str(tracker.get_slot("verified_contact")),
            str(tracker.get_slot("verified_customer") or ""),
            str(tracker.get_slot("verified_name") or ""),
        )
    return None


def conversation_id(tracker: Tracker) -> str:
    """The backend's conversation id (the backend uses it as Rasa's sender id)."""
    metadata: Dict[str, Any] = tracker.latest_message.get("metadata") or {}
    value = metadata.get("conversation_id")
    return str(value) if isinstance(value, str) and value else tracker.sender_id


def first_name(customer: Optional[Customer]) -> str:
    return customer.name.split()[0][:60] if customer and customer.name.strip() else ""


# Words in capitals that are not a company's code: network gear, units, channels.
NOT_CODES = frozenset(
    {
        "CMTS", "OLT", "ONT", "ONU", "DOCSIS", "GPON", "SNMP", "RMA", "VPN", "API", "CPU", "RAM", "HTTP", "HTTPS",
        "SMTP", "PDF", "CSV", "EXCEL", "URGENTE", "URGENCIA", "EMERGENCIA", "NUEVO", "AYUDA", "HOLA", "BUENAS",
        "BUENOS", "GRACIAS", "PROMPTLINK",
    }
)  # fmt: skip
# «soy Luis de CABLEANDINA», «la empresa TELECARIBE», «código de cliente: CABLEANDINA»; and where the
# customer writes or calls from: «Les escribo de CABLEANDINA», «le escribo desde TELECARIBE», «llamo de …»,
# «hablo de …» (the code right after «de»/«desde», capitals in a message that is not: «les escribo de nuevo»,
# «le escribo desde la OFICINA», «hablo de la FALLA» and «LES ESCRIBO DE NUEVO» give none).
CODE_CUE = re.compile(
    r"(?:\b(?:soy\s+\w+\s+de|somos(?:\s+de)?|empresa|compa[ñn][ií]a|cliente|c[oó]digo(?:\s+de\s+cliente)?(?:\s+es)?)"
    r"\s*:?\s+(?:la\s+|el\s+)?"
    r"|\b(?:(?:[Ll]es?|[Tt]e)\s+)?(?:[Ee]scrib(?:o|imos)|[Ll]lam(?:o|amos)|[Hh]abl(?:o|amos))\s+(?:de|desde)\s+)"
    r"([A-Z][A-Z0-9_]{3,31})\b"
)
# What people put before the code when they answer the question.
ANSWER_LEAD = re.compile(
    r"^(?:(?:mi|el|nuestro)\s+)?(?:c[oó]digo(?:\s+de\s+cliente)?\s*(?:es)?\s*:?|es|somos|soy\s+de|de)\s+",
    re.IGNORECASE,
)
# «…, mi correo es ana@x.example», «… y el correo ana@x.example»: the e-mail given with the code.
EMAIL_CLAUSE = re.compile(
    r"[\s,;]*(?:y\s+)?(?:(?:mi|el|nuestro)\s+)?(?:correo|e-?mail|mail)?(?:\s+electr[oó]nico)?\s*(?:es)?\s*:?\s*"
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+\.?",
    re.IGNORECASE,
)
# One-word answers that are not a code.
NOT_CODE_ANSWERS = frozenset(
    {"hola", "si", "no", "ok", "vale", "gracias", "ayuda", "humano", "agente", "persona", "ninguno", "nose", "cancelar"}
)


# Places in capitals are where the customer is («le escribo desde MEDELLIN», «… SANTO DOMINGO»), not a code.
PLACE_NAME = re.compile(r"(?:" + "|".join(place for places in PLACES.values() for place in places) + r")\b")


def customer_code_in(text: str) -> Optional[str]:
    """A customer code the customer states in passing («soy Luis de CABLEANDINA»), written in capitals."""
    for match in CODE_CUE.finditer(text):
        word = match.group(1)
        place = PLACE_NAME.match(plain(text[match.start(1) :]))
        if word not in NOT_CODES and not place and not any(ch.isdigit() for ch in word[:3]):
            return word
    return None


def code_answer(text: str) -> Optional[str]:
    """The customer code when the whole answer is one (any case: «cableandina», «es TELECARIBE»), also
    when the e-mail comes with it («TELECARIBE, mi correo es maria@…»)."""
    answer = EMAIL_CLAUSE.sub("", " ".join(text.strip().split()))
    answer = ANSWER_LEAD.sub("", answer).strip(" .!¡¿?,;:\"'«»")
    if not re.fullmatch(r"[A-Za-z0-9_\-]{3,32}", answer):
        return None
    if plain(answer) in NOT_CODE_ANSWERS or answer.upper() in NOT_CODES:
        return None
    return answer.upper()
