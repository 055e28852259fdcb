"""Yes/no answers written freely ("sí, todo caído", "no hay forma") and small parsers."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, Dict, Optional

YES = re.compile(
    r"^(si|sip|claro|correcto|exacto|asi es|afirmativo|por supuesto|efectivamente|dale|ok|vale|listo|de acuerdo|"
    r"totalmente|todo caido|esta caido|esta caida|caido|caida|sin servicio)\b"
)
NO = re.compile(r"^(no|nop|negativo|para nada|ninguna|ninguno|tampoco|nada|aun no|todavia no)\b")
# An answer that describes the outage instead of saying «sí» («la producción está parada»).
DOWN = re.compile(r"\b(parad[ao]s?|caid[ao]s?|todo abajo|sin servicio|no funciona nada|no levanta)\b")
MONTHS = {
    "enero": 1,
    "febrero": 2,
    "marzo": 3,
    "abril": 4,
    "mayo": 5,
    "junio": 6,
    "julio": 7,
    "agosto": 8,
    "septiembre": 9,
    "setiembre": 9,
    "octubre": 10,
    "noviembre": 11,
    "diciembre": 12,
}


def plain(text: str) -> str:
    """Lowercase, no accents, single spaces."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w@./\- ]", " ", text).split())


def yes_no(message: Dict[str, Any]) -> Optional[bool]:
    """True/False for an affirm/deny intent or a sentence that starts with yes/no; None otherwise."""
    intent = (message.get("intent") or {}).get("name")
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    text = plain(str(message.get("text") or ""))
    if text.startswith("/"):
        return None
    if NO.match(text):
        return False
    if YES.match(text) or DOWN.search(text):
        return True
    return None


def parse_date(text: str, *, today: date) -> Optional[date]:
    """ISO (2026-12-10), dd/mm/yyyy, or «15 de marzo [de 2027]» (next occurrence)."""
    value = plain(text)
    iso = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", value)
    try:
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        dmy = re.search(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", value)
        if dmy:
            return date(int(dmy.group(3)), int(dmy.group(2)), int(dmy.group(1)))
        spoken = re.search(r"\b(\d{1,2}) de (" + "|".join(MONTHS) + r")(?: de (\d{4}))?\b", value)
        if spoken:
            day, month = int(spoken.group(1)), MONTHS[spoken.group(2)]
            if spoken.group(3):
                return date(int(spoken.group(3)), month, day)
            candidate = date(today.year, month, day)
            return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None
    return None


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def parse_email(text: str) -> Optional[str]:
    match = EMAIL.search(text.strip().lower())
    return match.group(0) if match else None
