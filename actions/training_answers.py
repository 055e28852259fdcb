"""What a customer's message says about a course: the date, the site, the facilities, which answer to correct.

Pure functions over the message text (no tracker, no clock: callers pass `today`), so the
training form can read every message for every answer, whatever it asked; and the words
the assistant uses to say the facilities back.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from .answers import MONTHS, plain
from .counts import WORDS

MAX_DAYS_AHEAD = 730  # the backend refuses dates more than two years ahead
WEEKDAYS = {
    "lunes": 0,
    "martes": 1,
    "miercoles": 2,
    "jueves": 3,
    "viernes": 4,
    "sabado": 5,
    "domingo": 6,
}
MONTH = "(" + "|".join(MONTHS) + ")"
WEEKDAY = "(" + "|".join(WEEKDAYS) + ")"
DAY_WORDS = {**{k: v for k, v in WORDS.items() if v <= 31}, "primero": 1, "1ro": 1, "1o": 1}
DAY = r"(\d{1,2}|" + "|".join(sorted(DAY_WORDS, key=len, reverse=True)) + ")"


@dataclass(frozen=True)
class DateReading:
    """`day` when the message names a calendar day; `mentioned` when it tried to (even a vague «en mayo»)."""

    day: Optional[date] = None
    mentioned: bool = False


def parse_course_date(text: str, *, today: date, asked: bool = False) -> DateReading:
    """«15 de marzo», «el lunes 18 de enero», «2027-03-15», «15/03/2027», «15/03», «la próxima semana».

    Without a year, the next such day from `today`; a weekday that does not match («el
    lunes 19 de enero» when the 19th is a Tuesday) picks the next year where it does, if
    any within two years. `asked`: the message answers the date question, so «el 18» is
    read as a day of this month (or the next).
    """
    value = plain(text)
    try:
        found = _explicit(value, today) or _relative(value, today) or (_day_only(value, today) if asked else None)
    except ValueError:
        return DateReading(mentioned=True)
    if found is not None:
        return DateReading(day=found, mentioned=True)
    vague = re.search(r"\b" + MONTH + r"\b|\b(?:proximo|siguiente|que viene)\s+mes\b|\bmes\s+que\s+viene\b", value)
    return DateReading(mentioned=bool(vague))


def _explicit(value: str, today: date) -> Optional[date]:
    iso = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", value)
    if iso:
        return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    # «15/03», «15/03/2027», «15-03-2027»; not «# 12-05» in an address (a dash needs the year).
    dmy = re.search(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b", value) or re.search(
        r"\b(\d{1,2})-(\d{1,2})-(\d{4})\b", value
    )
    if dmy:
        year = _year(dmy.group(3))
        return _next(today, int(dmy.group(2)), int(dmy.group(1)), year, None)
    spoken = re.search(
        r"(?:\b" + WEEKDAY + r"\s+)?\b" + DAY + r"\s+(?:de\s+)?" + MONTH + r"(?:\s+(?:de|del)\s+(\d{4}))?\b", value
    )
    if spoken:
        day = _day_number(spoken.group(2))
        weekday = WEEKDAYS[spoken.group(1)] if spoken.group(1) else None
        return _next(today, MONTHS[spoken.group(3)], day, _year(spoken.group(4)), weekday)
    month_first = re.search(r"\b" + MONTH + r"\s+(\d{1,2})\b(?:\s+(?:de|del)\s+(\d{4}))?", value)
    if month_first:
        return _next(today, MONTHS[month_first.group(1)], int(month_first.group(2)), _year(month_first.group(3)), None)
    return None


def _relative(value: str, today: date) -> Optional[date]:
    if re.search(r"\bpasado\s+manana\b", value):
        return today + timedelta(days=2)
    if re.search(r"(?<!\bla )(?<!\bpor la )\bmanana\b", value) and not re.search(r"\b(?:la|esta|de)\s+manana\b", value):
        return today + timedelta(days=1)
    if re.search(r"\b(?:proxima|siguiente|otra)\s+semana\b|\bsemana\s+(?:que\s+viene|entrante|proxima)\b", value):
        return today + timedelta(days=7 - today.weekday())  # the Monday of next week
    weeks = re.search(r"\b(?:en|dentro\s+de)\s+(\d{1,2}|" + "|".join(WORDS) + r")\s+semanas?\b", value)
    if weeks:
        count = int(weeks.group(1)) if weeks.group(1).isdigit() else WORDS[weeks.group(1)]
        return today + timedelta(weeks=count)
    weekday = re.search(r"\b(?:el|este|proximo|siguiente)\s+(?:proximo\s+)?" + WEEKDAY + r"\b", value)
    if weekday:
        ahead = (WEEKDAYS[weekday.group(1)] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    return None


def _day_only(value: str, today: date) -> Optional[date]:
    """«el 18», «el lunes 18», «18»: a day of this month, or of the next when it has passed."""
    match = re.fullmatch(r"\s*(?:para\s+)?(?:el\s+)?(?:dia\s+)?(?:" + WEEKDAY + r"\s+)?(\d{1,2})\s*", value)
    if not match:
        return None
    day = int(match.group(2))
    month, year = today.month, today.year
    for _ in range(3):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate > today:
            return candidate
        month, year = (1, year + 1) if month == 12 else (month + 1, year)
    raise ValueError(f"no day {day} soon")


def _next(today: date, month: int, day: int, year: Optional[int], weekday: Optional[int]) -> date:
    if year is not None:
        return date(year, month, day)
    first = date(today.year, month, day) if _valid(today.year, month, day) else date(today.year + 1, month, day)
    if first < today:
        first = date(today.year + 1, month, day)
    if weekday is not None and first.weekday() != weekday:
        for later in (first.year + 1, first.year + 2):
            if _valid(later, month, day) and date(later, month, day).weekday() == weekday:
                candidate = date(later, month, day)
                if (candidate - today).days <= MAX_DAYS_AHEAD:
                    return candidate
    return first


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _year(raw: Optional[str]) -> Optional[int]:
    if not raw:
        return None
    year = int(raw)
    return year + 2000 if year < 100 else year


def _day_number(raw: str) -> int:
    return int(raw) if raw.isdigit() else DAY_WORDS[raw]


def date_problem(day: date, *, today: date) -> Optional[str]:
    """Why `day` cannot be a course date («past», «too_far»), or None when it can."""
    if day <= today:
        return "past"
    if (day - today).days > MAX_DAYS_AHEAD:
        return "too_far"
    return None


# --- The site -------------------------------------------------------------------------

CITIES = (
    "bogota|medellin|cali|barranquilla|cartagena|bucaramanga|pereira|manizales|cucuta|ibague|santa marta|villavicencio|"
    "pasto|neiva|armenia|monteria|tunja|popayan|valledupar|sincelejo|quito|guayaquil|cuenca|lima|arequipa|trujillo|"
    "caracas|maracaibo|valencia|panama|san jose|ciudad de mexico|monterrey|guadalajara|santiago|buenos aires|"
    "cordoba|rosario|montevideo|asuncion|la paz|santa cruz|santo domingo|san juan|guatemala|tegucigalpa|"
    "san salvador|managua|madrid|barcelona|miami"
)
PLACE_WORDS = r"(?:sede|oficina|oficinas|planta|instalaciones|sucursal|edificio|campus|centro de datos|headend|nodo)"
END = (
    r"(?=\s*(?:$|[,.;!?]|\s(?:el|los|para|con|y|a partir|desde|somos|seremos|son|tenemos|contamos|hay|pero|"
    r"porque)\b))"
)
# Words before the site in an answer to «¿En qué sede…?»: «pues en nuestra sede…», «perdón, en Cali».
FILLERS = (
    r"(?:(?:pues|bueno|ah|eh|perdon|perdón|disculpe|ok|seria|sería|sera|será|es|en|la|el|las|los|nuestra|nuestro|"
    r"nuestras|nuestros)\b[\s,.;:]*)+"
)
NOT_PLACES = {*MONTHS, *WEEKDAYS, "dos", "grupos", "total", "sitio", "linea", "persona", "realidad", "principio"}


CITY_NAMES = {
    plain(name): name
    for name in (
        "Bogotá",
        "Medellín",
        "Cúcuta",
        "Ibagué",
        "Popayán",
        "Montería",
        "Panamá",
        "San José",
        "Ciudad de México",
        "Asunción",
        "Córdoba",
    )
}


def parse_site(text: str, *, asked: bool = False) -> Optional[str]:
    """The site in `text` («en Bogotá», «en la sede de Medellín», «la sede es Cali»), as the customer wrote it.

    `asked`: the message answers «¿En qué sede…?», so the whole answer is the site («Sede
    norte, calle 100», «nuestra sede de Bogotá, calle 100» → «Sede de Bogotá, calle 100»),
    minus leading words such as «en la»; only «la sede es …» beats it.
    """
    original = " ".join(text.split())
    lowered = _aligned(original)
    named = re.search(
        r"\b(?:la\s+)?(?:sede|ciudad|lugar)\s+(?:es|seria|sera|:)\s+(?:en\s+)?(?:la\s+de\s+|la\s+|el\s+de\s+)?"
        r"(.+?)" + END,
        lowered,
    )
    if named and named.group(1).split()[0] not in NOT_PLACES:
        return _site_name(original[named.start(1) : named.end(1)])
    if asked:
        return _site_name(re.sub(r"^" + FILLERS, "", original, flags=re.IGNORECASE)) or None
    patterns = [
        r"\b(?:en|desde|para)\s+(?:la|las|el|los|nuestra|nuestras|nuestro|nuestros|su|sus)?\s*("
        + PLACE_WORDS
        + r"\b.*?)"
        + END,
        r"\b(?:en|de)\s+(" + CITIES + r")\b",
    ]
    for pattern in patterns:
        match = re.search(pattern, lowered)
        if match and match.group(1).split()[0] not in NOT_PLACES:
            return _site_name(original[match.start(1) : match.end(1)])
    capital = re.search(r"\ben\s+((?:[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+)(?:\s+(?:de(?:l)?\s+)?[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+)*)", original)
    if capital and plain(capital.group(1)).split()[0] not in NOT_PLACES:
        return _site_name(capital.group(1))
    return None


def _aligned(text: str) -> str:
    """Lowercase, unaccented, punctuation but «,;.:» blanked: the same length as `text`, so spans map back."""
    value = "".join(
        "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))[:1] or " "
        for ch in text.lower()
    )
    return re.sub(r"[^\w,;.:]", " ", value)


def _site_name(raw: str) -> str:
    """The site as written, trimmed, with the well-known cities capitalised and accented («bogota» → «Bogotá»)."""
    value = raw.strip(" ,.;:!¡¿?")[:300]
    value = re.sub(
        r"\b(?:" + CITIES + r")\b",
        lambda m: CITY_NAMES.get(plain(m.group(0)), m.group(0).title()),
        value,
        flags=re.IGNORECASE,
    )
    return value


# --- The facilities -------------------------------------------------------------------

FACILITIES = ("room", "projector", "whiteboard", "workstations_internet")
FACILITY_WORDS: Dict[str, Tuple[str, ...]] = {
    "room": ("sala", "salas", "salon", "aula", "auditorio"),
    "projector": ("proyector", "proyectores", "videobeam", "video beam", "beam", "videoproyector"),
    "whiteboard": ("pizarra", "pizarras", "pizarron", "tablero", "tableros"),
    "workstations_internet": (
        "internet",
        "wifi",
        "wi fi",
        "conexion",
        "computador",
        "computadores",
        "computadora",
        "computadoras",
        "pc",
        "pcs",
        "portatiles",
        "portatil",
        "laptops",
        "estaciones",
        "puestos",
        "areas de trabajo",
        "area de trabajo",
        "escritorios",
    ),
}
# How the assistant names each facility: (article, name).
FACILITY_NAMES = {
    "room": ("la", "sala"),
    "projector": ("el", "proyector"),
    "whiteboard": ("la", "pizarra"),
    "workstations_internet": ("las", "áreas de trabajo con Internet"),
}


def listed(items: Sequence[str]) -> str:
    """«a», «a y b», «a, b y c»."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " y " + items[-1]


def facilities_in_words(missing: Sequence[str]) -> str:
    """«cuenta con todo (sala, …)», «falta el proyector (cuenta con sala, …)», «faltan la sala, el proyector, …»."""
    present = [FACILITY_NAMES[key][1] for key in FACILITIES if key not in missing]
    absent = [" ".join(FACILITY_NAMES[key]) for key in FACILITIES if key in missing]
    if not absent:
        return f"cuenta con todo ({listed(present)})"
    verb = "faltan" if len(absent) > 1 or "workstations_internet" in missing else "falta"
    return f"{verb} {listed(absent)}" + (f" (cuenta con {listed(present)})" if present else "")


def missing_in_words(missing: Sequence[str]) -> str:
    """«el proyector y la pizarra»."""
    return listed([" ".join(FACILITY_NAMES[key]) for key in FACILITIES if key in missing])


HAVE = (
    r"\b(?:tenemos|tengo|tiene|tienen|hay|contamos|cuenta|cuentan|disponemos|dispone|si|listo|lista|listos|"
    r"listas|con|incluye|esta|estan)\b"
)
LACK = (
    r"\b(?:falta|faltan|faltaria|faltarian|faltaba|faltaban|necesitamos|necesitariamos|necesitaria|carecemos|"
    r"carece|sin|pendiente|pendientes)\b"
)
NEGATION = r"\b(?:no|tampoco|nunca)\b"
# A facility that is there but broken is one the site lacks: «el proyector está dañado», «no sirve», «se dañó».
BROKEN = (
    r"\b(?:danad[oa]s?|averiad[oa]s?|estropead[oa]s?|descompuest[oa]s?|quemad[oa]s?|rot[oa]s?|"
    r"(?:esta|estan) mal[oa]s?|se (?:dano|danaron|rompio|rompieron|quemo|quemaron|averio|descompuso)|"
    r"fuera de servicio)\b"
)
BROKEN_NEGATED = r"\bno (?:funciona|funcionan|sirve|sirven|prende|prenden|enciende|encienden|anda|andan)\b"
ALL = r"\b(?:todo|todos|todas|completo|completa)\b"
NOTHING = r"\b(?:nada|ninguno|ninguna|ningun)\b"
EXCEPT = r"\s*(?:menos|excepto|salvo)\b"
REST = r"\b(?:lo\s+demas|los\s+demas|las\s+demas|el\s+resto|lo\s+otro|lo\s+restante)\b"
NOT_ALL = (
    r"^(?:no)$|\bno\s+todo\b|\bno\s+del\s+todo\b|\bno\s+completo\b|\bno\s+tenemos\s+todo\b|\bcasi\s+todo\b|"
    r"\bmas\s+o\s+menos\b|\bla\s+mayoria\b|\balgunas\s+cosas\b|\ben\s+parte\b|\bparcialmente\b|\bno\s+exactamente\b"
)


@dataclass(frozen=True)
class FacilitiesReading:
    """`missing`: the facilities the site lacks (empty: it has them all); None when unknown.

    `not_all`: the customer said some are missing without saying which («no todo», «no»).
    """

    missing: Optional[FrozenSet[str]] = None
    not_all: bool = False


def parse_facilities(text: str, *, question: Optional[str] = None) -> FacilitiesReading:
    """The facilities a message says the site has or lacks.

    `question` is "have" when it answers «¿Su sede cuenta con …?», "lack" when it answers
    «¿Qué le falta?», None elsewhere. Outside those questions only a sentence that names a
    facility with a verb counts («no tenemos proyector»), so «la sala de juntas» in an
    address is no answer, and naming some facilities one has says nothing of the others.
    """
    value = _lowered(text)
    default = {"have": True, "lack": False}.get(question or "")
    present: Dict[str, bool] = {}
    everything: Optional[bool] = None
    polarity: Optional[bool] = default
    partial = False
    listing = False  # the previous clause named facilities: «tenemos sala, proyector, pizarra e internet»
    for separator, clause in _clauses(value):
        if re.search(NOT_ALL, clause):
            polarity, partial, listing = False, True, False
            continue
        items = _items(clause)
        own = _own_polarity(clause)
        continues, listing = listing, bool(items)
        if separator in ("menos", "excepto", "salvo", "aparte de") and polarity is not None:
            polarity = not polarity
        elif own is not None:
            polarity = own
        elif separator in ("y", "e", "ni") or question is not None or continues:
            negated = bool(re.search(NEGATION, clause)) and not re.search(NOTHING, clause)
            base = polarity if polarity is not None else default
            polarity = None if base is None else (not base if negated else base)
        else:
            polarity = None
        after = value[value.find(clause) + len(clause) :]
        if polarity is None and question is None and re.search(ALL, clause) and re.match(EXCEPT, after):
            polarity = True  # «todo menos el proyector» in a sentence about something else
        if polarity is None or (question is None and not items and not re.search(ALL, clause)):
            continue
        if re.search(REST, clause):
            for key in FACILITIES:
                present.setdefault(key, polarity)
        elif not items and (re.search(ALL, clause) or re.search(NOTHING, clause)):
            negated = bool(re.search(NEGATION, clause))
            everything = polarity if re.search(ALL, clause) or negated else not polarity
            present = {}
        for key in items:
            present[key] = polarity
    if everything is None and not present:
        return FacilitiesReading(not_all=partial and question is not None)
    if everything is not None:
        result = {key: present.get(key, everything) for key in FACILITIES}
    elif any(v is False for v in present.values()):
        result = {key: present.get(key, True) for key in FACILITIES}
    elif question is None and len(present) < len(FACILITIES):
        return FacilitiesReading()  # «tenemos sala» in passing: the rest is still unknown
    else:
        result = {key: present.get(key, False) for key in FACILITIES}
    return FacilitiesReading(missing=frozenset(k for k, v in result.items() if not v))


def _lowered(text: str) -> str:
    """Lowercase without accents, keeping the punctuation that separates clauses (`plain` drops it)."""
    value = unicodedata.normalize("NFKD", text.lower())
    value = "".join(c for c in value if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w,;.: ]", " ", value).split())


def _clauses(value: str) -> List[Tuple[str, str]]:
    """(separator before, clause) pairs: split at punctuation, «pero», «y», «ni», «menos», «excepto», «salvo»."""
    parts = re.split(r"\s*(?:[,;.:]|\b(pero|y|e|ni|menos|excepto|salvo|aparte\s+de)\b)\s*", value)
    result: List[Tuple[str, str]] = []
    separator = ""
    for index, part in enumerate(parts):
        if index % 2 == 1:
            separator = part or separator
            continue
        if part and part.strip():
            result.append((separator, part.strip()))
            separator = ""
    return result


def _items(clause: str) -> List[str]:
    return [
        key
        for key, words in FACILITY_WORDS.items()
        if any(re.search(r"\b" + re.escape(word) + r"\b", clause) for word in words)
    ]


def _own_polarity(clause: str) -> Optional[bool]:
    """What the clause's own verb says: True «we have», False «we lack», None when it has no verb.

    A negation flips the verb («no tenemos» lacks, «no falta» has); «sin» always lacks, and so does a broken
    facility («el proyector está dañado», «no funciona»).
    """
    if re.search(r"\bsin\b", clause) or re.search(BROKEN_NEGATED, clause):
        return False
    if re.search(BROKEN, clause):
        base = False  # «el proyector está dañado» (and «no está dañado» has it)
    elif re.search(LACK, clause):
        base = False
    elif re.search(HAVE, clause):
        base = True
    else:
        return None
    return not base if re.search(NEGATION, clause) else base


FIELDS = ("attendees", "date", "site", "facilities")
FIELD_WORDS: Dict[str, str] = {
    "attendees": (
        r"\b(?:asistentes?|personas?|numero|cantidad|cuantos|cuantas|participantes?|grupos?|cursos?|division)\b"
    ),
    "date": r"\b(?:fecha|dia|cuando)\b",
    "site": r"\b(?:sede|lugar|ciudad|donde|oficina|direccion|sitio)\b",
    "facilities": r"\b(?:facilidades|sala|proyector|pizarra|internet|equipos|recursos|instalaciones|areas?)\b",
}


CHANGE = re.compile(
    r"\b(?:corregir|corrijo|corrija|cambiar|cambie|cambia|modificar|modifique|editar|mal|error|equivoc\w*)\b"
)


def wants_change(text: str) -> bool:
    """«corregir la fecha», «la sede está mal»: the customer asks to change something (naming it or not)."""
    return bool(CHANGE.search(plain(text)))


def field_named(text: str) -> Optional[str]:
    """Which answer the customer wants to correct: «la fecha», «la sede», «los asistentes», «las facilidades»."""
    value = plain(text)
    found = [field for field in FIELDS if re.search(FIELD_WORDS[field], value)]
    return found[0] if len(found) == 1 else None


YES = re.compile(
    r"^(?:si|sip|claro|correcto|exacto|asi es|afirmativo|por supuesto|efectivamente|dale|ok|okay|vale|listo|"
    r"de acuerdo|perfecto|esta bien|todo bien|todo correcto|adelante|confirmo|confirmado|registr\w*|hagalo|proceda)\b"
)
NO = re.compile(
    r"^(?:no|nop|negativo|incorrecto|corregir|corrijo|corrige|cambiar|cambia|modificar|editar|esta mal|hay un error)\b"
)
NOTHING_TO_CORRECT = re.compile(r"^(?:nada|ninguno|ninguna|ningun dato|esta bien asi|todo bien)\b")


def yes_or_no(text: str, intent: Optional[str]) -> Optional[bool]:
    """The yes/no a message gives: an affirm/deny intent, or a sentence that starts with one.

    A question («sí, pero ¿cuánto dura?») is no answer: it is answered, then asked again.
    «corregir», «cambiar» say no to «¿Es correcto?».
    """
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    value = plain(text)
    if not value or value.startswith("/") or "?" in text:
        return None
    if NO.match(value):
        return False
    if YES.match(value):
        return True
    return None


def nothing_to_correct(text: str) -> bool:
    """«nada», «ninguno», «está bien así»: the answer to «¿Qué dato desea corregir?» that corrects nothing."""
    return bool(NOTHING_TO_CORRECT.match(plain(text)))
