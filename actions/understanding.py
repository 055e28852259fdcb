"""What one customer message states, whatever question is pending.

The intake form asks for a device, since when, a version, an error message, a serial
number and the support plan's priority questions. Customers give several of these in one
sentence («se cayó toda la red en el cmts 2 desde las 9 y no tenemos alternativa»), in
passing, or as a correction («no, el equipo es cmts-bog-02»). `understand` reads every
message for all of them, so the form asks only what is still missing and never stores a
correction as the answer to another question.

Pure functions, no I/O: the caller passes the customer's registered devices, time zone
and the current time.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Dict, Iterable, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

from .answers import MONTHS
from .counts import WORDS as COUNT_WORDS

# The slots the incident form fills from free text.
TEXT_FIELDS = ("description", "device", "since", "version", "error_message", "serial_number")
YES_NO_FIELDS = ("production_down", "most_operations_proceed", "solution_available")
NOT_GIVEN = "no indicado"  # the customer does not know or has none (version, serial, error, since)

# Spoken numbers: the course counts' table (up to «veinte…») plus «un» and «media» («hace media hora»).
NUMBER_WORDS: Dict[str, float] = {**COUNT_WORDS, "un": 1, "una": 1, "media": 0.5}
WEEKDAYS = {"lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6}
# Parts of the day as people say them, and the hour they usually mean.
DAY_PARTS = {"madrugada": 3, "manana": 8, "mediodia": 12, "tarde": 15, "noche": 20}
# When each part of the day begins: «desde esta mañana» said at 07:00 began this morning, before now.
DAY_PART_STARTS = {"madrugada": 0, "manana": 6, "mediodia": 12, "tarde": 13, "noche": 19}
# Site codes in device names and the places customers call them by.
PLACES = {
    "bog": ("bogota",),
    "sdq": ("santo domingo", "santodomingo"),
    "med": ("medellin",),
    "cal": ("cali",),
    "baq": ("barranquilla",),
    "stg": ("santiago",),
    "lim": ("lima",),
    "uio": ("quito",),
    "ccs": ("caracas",),
    "pty": ("panama",),
    "mex": ("mexico",),
}
DEVICE_KINDS = (
    "cmts",
    "olt",
    "onu",
    "ont",
    "router",
    "switch",
    "servidor",
    "server",
    "firewall",
    "nodo",
    "ccap",
    "bras",
)


def plain(text: str) -> str:
    """Lowercase, without accents, punctuation reduced to spaces (keeps @ . / - : for values)."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w@./\-: ]", " ", text).split())


def squash(text: str) -> str:
    """Letters and digits only: «CMTS BOG 01», «cmts-bog-01» and «cmtsbog01» are the same."""
    return re.sub(r"[^a-z0-9]", "", plain(text))


@dataclass(frozen=True)
class KnownDevice:
    name: str
    serial: str = ""
    model: str = ""


@dataclass
class Understanding:
    """Everything one message states. None means «not said»."""

    device: Optional[str] = None
    device_registered: bool = False
    device_candidates: Tuple[str, ...] = ()  # registered devices it could mean (ambiguous mention)
    serial_number: Optional[str] = None
    version: Optional[str] = None
    error_message: Optional[str] = None
    since: Optional[str] = None  # ISO 8601 in the customer's zone, or NOT_GIVEN
    production_down: Optional[bool] = None
    most_operations_proceed: Optional[bool] = None
    solution_available: Optional[bool] = None
    kind: Optional[str] = None
    correction: bool = False  # «no, …», «perdón», «me equivoqué»
    named_field: Optional[str] = None  # the field the message names («el equipo es …»)
    answer: Optional[bool] = None  # a plain yes/no at the start of the message
    unknown: bool = False  # «no sé», «no tengo», «ninguno»
    facts: Dict[str, object] = field(default_factory=dict)

    def values(self) -> Dict[str, object]:
        """The slots this message fills, by slot name."""
        found: Dict[str, object] = {}
        for name in ("device", "serial_number", "version", "error_message", "since", *YES_NO_FIELDS):
            value = getattr(self, name)
            if value is not None:
                found[name] = value
        return found


# --- yes / no ---------------------------------------------------------------------

YES_START = re.compile(
    r"^(si|sip|sii+|claro|correcto|exacto|asi es|afirmativo|por supuesto|efectivamente|dale|ok|okey|vale|listo|"
    r"de acuerdo|totalmente|eso es|en efecto|obvio|sisi)\b"
)
NO_START = re.compile(r"^(no|nop|nope|negativo|para nada|nada que ver|tampoco|aun no|todavia no|nel)\b")
CORRECTION = re.compile(
    r"\b(perdon|perdone|disculpe?|me equivoque|me confundi|corrijo|correccion|corregir|en realidad|mejor dicho|"
    r"quise decir|error mio|mas bien|fe de erratas|rectifico|(?:esta|estan) mal|es incorrect[oa]|"
    r"(?:esta|estan) equivocad[oa]s?)\b"
)
# What people say before a «no sé»: «uf, la verdad no sabría decirle», «pues no sé».
HEDGE = (
    r"(?:(?:uf+|uy|ay|eh+|mm+|hmm+|pues|bueno|este|la verdad|sinceramente|disculpe|perdon|lo siento|ahorita)"
    r"[\s,.!]*)*"
)
UNKNOWN = re.compile(
    HEDGE + r"(no se|no lo se|ni idea|no sabria|no estoy segur[oa]|no recuerdo|no me acuerdo|desconozco|no tengo idea|"
    r"no tengo (?:ese dato|el dato|esa informacion)|ninguno|ninguna|no hay|no aparece (?:ningun|nada)|"
    r"no sale (?:ningun|nada)|no tiene|sin mensaje|no muestra|no tengo|no lo tengo|no la tengo|no lo tenemos|"
    r"no aplica|n/a)\b"
)


# --- priority facts -----------------------------------------------------------------
# Checked in order: a negative pattern wins over the positive one it contains.

DOWN_NO = re.compile(
    r"\b(no (?:esta|estan) (?:caid[ao]s?|abajo|parad[ao]s?)|no (?:se ha|se) caido|sigue(?:n)? funcionando|"
    r"no hay (?:una )?caida|funciona(?:n)? (?:a medias|parcialmente|lento|con lentitud)|no es (?:una )?caida total|"
    r"podemos seguir (?:trabajando|operando)|(?:seguimos|estamos) (?:trabajando|operando|funcionando|andando)|"
    r"andando con|(?:el resto|lo demas|todo lo demas)(?: \w+){0,3} (?:funciona|sigue|anda|opera)|"
    r"(?:la )?(?:red|produccion|operacion) (?:sigue|funciona)|la mitad|algun[oa]s|parte de|unos cuantos|"
    r"intermitente|de vez en cuando|a ratos|lent[oa]s?|degradad[oa]s?)\b"
)
DOWN_YES = re.compile(
    r"\b((?:red|produccion|todo|servicio|sistema)(?: \w+){0,4} abajo|"
    r"se (?:nos )?(?:cayo|callo|cayeron|murio|murieron|fue|apago)|(?:esta|estan|quedo|quedaron) (?:tod[oa]s? )?"
    r"(?:caid[ao]s?|abajo|parad[ao]s?|muert[oa]s?|fuera de servicio)|caida (?:total|general|completa)|"
    r"tod[oa]s? (?:caid[ao]s?|abajo|parad[ao]s?)|(?:sin|no hay|no tienen|no tenemos|ningun abonado tiene|"
    r"nadie tiene) (?:servicio|internet|senal|conexion|trafico)|ningun (?:abonado|cliente|usuario)|"
    r"no funciona nada|nada funciona|no levanta|no responde nada|"
    r"(?:produccion|operacion|red) (?:caida|parada|detenida)|"
    r"(?:red|produccion|operacion|servicio) (?:esta|estan) (?:caid[ao]|parad[ao]|detenid[ao])|"
    r"(?:caid[ao]|parad[ao]|detenid[ao]) (?:la|el|toda la|todo el) (?:red|produccion|operacion|servicio|sistema)|"
    r"(?:esta|estan) (?:caid[ao]s?|parad[ao]s?)|caid[ao]s?|todo abajo|apagon)\b"
)
PROCEED_NO = re.compile(
    r"\b((?:la )?mayoria de (?:los|las) \w+(?: \w+){0,3} no "
    r"(?:pueden|puede|tienen|tiene|funciona|funcionan|navega|navegan)|"
    r"muy degradad[ao]s?|muy afectad[ao]s?|gravemente|(?<!no es )(?<!nada )(?<!no tan )grave|seriamente|"
    r"casi nada funciona|"
    r"no podemos (?:operar|trabajar|seguir)|"
    r"no se puede (?:operar|trabajar|seguir)|la mayoria (?:no|de los \w+ no|de las \w+ no)|"
    r"(?:la )?mitad de (?:los|las)|impacto (?:fuerte|grande|grave|critico|significativo)|"
    r"(?:muchos|muchas|la mayoria de) (?:abonados|clientes|usuarios|nodos|operaciones) (?:sin|no)|"
    r"(?:operacion|operaciones) (?:muy )?(?:afectada|afectadas|comprometida)|paralizad[ao]s?)\b"
)
PROCEED_YES = re.compile(
    r"\b(podemos seguir(?: trabajando| operando)?|(?:seguimos|estamos) (?:trabajando|operando|funcionando|andando)|"
    r"(?:casi )?tod[oa] (?:la |el )?(?:operacion|red|servicio|resto|demas) (?:sigue|funciona|anda|opera)|"
    r"(?:la )?mayoria (?:de (?:las|los) \w+ )?(?:sigue|siguen|funciona|funcionan|anda|andan|opera|operan)|"
    r"(?:casi )?todo (?:lo demas )?(?:sigue|funciona|anda)|afecta (?:a )?(?:poc[oa]s|algun[oa]s|un[oa]s)|"
    r"solo (?:afecta|falla|es)|impacto (?:menor|bajo|leve|minimo)|no es grave|podemos trabajar|se puede trabajar|"
    r"se puede seguir|leve|algun[oa]s (?:reportes|usuarios|abonados|clientes|funciones)|"
    # «casi todo el mundo puede navegar», «los clientes siguen navegando», «la mayoría ni lo nota»
    r"(?<!no )(?:casi )?tod[oa]s?(?: el mundo| los \w+| las \w+)? (?:puede|pueden|sigue|siguen) (?:navegando|"
    r"navegar|trabajando|trabajar|operando|operar|funcionando)|(?<!no )(?:casi )?todos navegan|"
    r"(?<!no )(?:sigue|siguen) navegando|"
    r"ni (?:lo|se) (?:nota|notan)|casi no se nota)\b"
)
WORKAROUND_NO = re.compile(
    r"\b((?:no|ni) (?:tenemos|hay|existe|encontramos|contamos con|tengo) (?:ninguna |ningun |nada de |una |un |"
    r"algun[ao]? |otra )?"
    r"(?:solucion|alternativa|workaround|forma|manera|plan b|salida|como|respaldo|backup|contingencia|"
    r"redundancia)|sin (?:ninguna )?(?:solucion|alternativa|"
    r"workaround|plan b|respaldo|backup|contingencia|redundancia)|"
    r"no (?:tenemos|hay|ai|tengo) (?:como|con que|por donde|forma de|manera de|de donde)\b|"
    r"no (?:podemos|se puede) rodear|ni como (?:seguir|operar|trabajar)|"
    r"ningun(?:a)? (?:solucion|alternativa|plan b|respaldo))\b"
)
WORKAROUND_YES = re.compile(
    r"\b((?:tenemos|hay|existe|usamos|encontramos|aplicamos|contamos con) (?:una |un )?(?:solucion provisional|"
    r"solucion temporal|alternativa|workaround|forma de rodearlo|plan b|parche)|lo (?:estamos )?rodea(?:mos|ndo)|"
    r"(?:reiniciando|reinicio|con un reinicio) (?:se |lo )?(?:arregla|resuelve|soluciona|vuelve)|"
    r"por ahora (?:lo )?(?:resolvemos|sacamos|hacemos)|de forma manual|manualmente|(?<!tengo )(?<!tenemos )a mano|"
    r"(?:movimos|pasamos|desviamos|redirigimos|cambiamos) (?:los |las |el |la )?\w+ (?:a|por) otr[oa]|"
    r"(?:movimos|pasamos|desviamos|redirigimos|estamos (?:moviendo|pasando|desviando))\b[^.;]{0,60}?"
    r"\b(?:a|al|por|hacia) (?:el |la )?otr[oa]\b|para salir del paso|"
    # «mientras tanto pasamos a los clientes al cmts-bog-02», «los estamos pasando por el 01»
    r"(?:movimos|pasamos|desviamos|redirigimos|(?:estamos|seguimos) (?:moviendo|pasando|desviando))\b[^.;]{0,40}?"
    r"\b(?:al|por el|por la|a la|hacia el|hacia la) (?:cmts|olt|nodo|enlace|equipo|router|servidor|\d+)|"
    r"(?:tenemos|usamos|hay) (?:un )?(?:respaldo|backup|equipo de respaldo|redundancia)|"
    r"(?:proceso|procedimiento|respaldo) manual|manual de respaldo)\b"
)
# A part of the network failing is not «production down» unless the message says the whole of it is.
PARTIAL = re.compile(
    r"\b(?:un|una|algun[oa]s?|un par de|unos|unas|varios|varias|la mitad de|parte de|ciert[oa]s)\s+"
    r"(?:de (?:los|las) )?(?:puertos?|nodos?|tarjetas?|portadoras|interfaces?|enlaces?|modulos?|clientes|abonados|"
    r"usuarios|sectores?|zonas?|barrios?|equipos?|ont|onts|onus?)\b|\blas portadoras\b|\bel puerto\b|\bun puerto\b"
)
TOTAL = re.compile(
    r"\b(toda la red|todo|todos|toda la produccion|ningun (?:abonado|cliente|usuario)|nadie|caida (?:total|general)|"
    r"sin servicio)\b"
)

# --- kind of request (for openings the classifier did not understand) -------------------

KIND_WORDS: Dict[str, Sequence[str]] = {
    "software_bug": (
        r"\berror\b",
        r"\bbug\b",
        r"\bexcepcion\b",
        r"\b(?:aplicacion|software|sistema|plataforma|portal|panel|modulo|reporte|reportes|informe|informes)\b",
        r"\bse (?:cuelga|colgo|congela|traba|trabo)\b",
        r"\bbota\b",
        r"\bno (?:deja|permite|carga|guarda)\b",
        r"\b(?:sale|aparece|muestra|salta)\s+(?:el |un )?(?:error|mensaje|['\"«]|err)",
        r"\bv?\d+\.\d+\b",
        r"\bfalla(?:n)?\b",
    ),
    "hardware_failure": (
        r"\bno (?:prende|enciende|arranca)\b",
        r"\bse (?:quemo|apago solo|reinicia solo)\b",
        r"\b(?:fuente|ventilador|tarjeta|puerto|modulo optico|sfp|placa|led|leds|luces?)\b",
        r"\b(?:danad[ao]|averiad[ao]|roto|rota|quemad[ao])\b",
        r"\b(?:abanico|ventilador|ventiladores)\b",
        r"\b(?:calentando|sobrecalentando|recalentando|sobrecalentado)\b",
        r"\b(?:reemplazo|sustitucion|cambio del equipo|rma)\b",
        r"\b(?:serie|serial)\b",
    ),
    "network_outage": (
        r"\bred\b",
        r"\bnodos?\b",
        r"\b(?:caid[ao]s?|cayo|caida)\b",
        r"\bsin servicio\b",
        r"\b(?:abonados|suscriptores)\b",
        r"\b(?:enlaces?|latencia|paquetes|trafico|cortes?|intermitencia|senal|lent[oa]s?|lentitud|degradad[oa]s?)\b",
        r"\bno (?:responde|responden|levanta|hay internet)\b",
        r"\b(?:cmts|olt|router|routers)\b",
        r"\b(?:dejo|dejaron) caer\b",
    ),
    "enhancement": (
        r"\bseria (?:bueno|util|genial|ideal)\b",
        r"\bme gustaria que\b",
        r"\b(?:podrian|pueden|se podria) (?:agregar|anadir|incluir|sumar|hacer que)\b",
        r"\b(?:mejora|nueva funcion|funcionalidad nueva|desarrollo)\b",
        r"\bexportar\b",
        r"\bque (?:el sistema|la plataforma|el panel|el portal|la consola) (?:permita|tenga|deje|pueda)\b",
        r"\b(?:una idea|sugerencia|propuesta|propongo|sugiero)\b|\bestaria (?:bueno|bien|genial)\b",
        r"\bnos ayudaria\b",
        r"\ba medida\b",
        r"\b(?:desarrollen|desarrollar|desarrollaran|nos desarrolle)\b",
    ),
    "configuration": (
        r"\bcomo (?:configuro|se configura|hago|puedo|activo|cambio)\b",
        r"\b(?:configurar|configuracion|parametrizar|activar)\b",
        r"\b(?:me echan|echarme|darme) una mano\b",
        r"\bayuda(?:rme)? (?:para|a|con)\b",
        r"\bno se como\b",
        r"\bque (?:las alarmas|los avisos|las alertas) (?:me )?lleguen\b",
    ),
}


FAULT_SIGN = re.compile(
    r"\b(?:caid[ao]s?|cayo|caida|sin servicio|se quemo"
    r"|no (?:responde|responden|levanta|prende|enciende|arranca|deja|permite|carga|guarda))\b"
)


def detect_kind(text: str, *, min_score: int = 1) -> Optional[str]:
    """The kind of request a message describes, when it clearly describes one.

    `min_score` is how many of the kind's signs must appear (2 where a wrong guess would
    start an intake nobody asked for).
    """
    value = plain(text)
    scores = {kind: sum(1 for p in patterns if re.search(p, value)) for kind, patterns in KIND_WORDS.items()}
    if max(scores.values()) < min_score:
        return None
    if scores["enhancement"] and scores["enhancement"] >= max(scores["software_bug"], 1):
        return "enhancement"
    # A sign of a fault («se cayó») outweighs one word of configuration («no se pueden activar clientes»).
    config = scores["configuration"]
    if config and config >= scores["software_bug"] and not (config == 1 and FAULT_SIGN.search(value)):
        return "configuration"
    best = max(scores, key=lambda k: scores[k])
    if scores[best] == 0:
        return None
    if best == "software_bug" and scores["software_bug"] == 1 and re.search(r"\bfalla(?:n)?\b", value):
        return None if not scores["network_outage"] else "network_outage"
    return best


# A part of a device with a fault verb in the same clause («se fastidió el abanico de la olt», «la fuente no
# prende»): a hardware failure, though the classifier may read the device's name as a network outage.
HARDWARE_PART = (
    r"\b(?:abanicos?|ventiladore?s?|ventilacion|fuentes?|discos?|tarjetas?|placas?|sfp|transceptor|modulo optico)\b"
)
PART_FAULT = (
    r"\b(?:se (?:fastidio|jodio|frego|dano|danaron|rompio|quemo|murio|fundio|averio|estropeo)|"
    r"danad[oa]s?|rot[oa]s?|quemad[oa]s?|fundid[oa]s?|averiad[oa]s?|estropead[oa]s?|"
    r"no (?:gira|giran|prende|prenden|enciende|encienden|funciona|funcionan|sirve|sirven|anda|andan)|"
    r"dejo de (?:funcionar|girar|andar)|fallando)\b"
)
# What only the network says: links, service, customers without Internet, packets.
NETWORK_SPECIFIC = re.compile(
    r"\b(?:enlaces?|sin (?:servicio|internet|senal|conexion|navegacion)|(?:cayo|caido|caida)(?: \w+){0,2} servicio|"
    r"servicio (?:esta )?caido|no (?:navegan|hay internet|tienen (?:servicio|internet))|"
    r"(?:clientes|abonados|usuarios|suscriptores|modems|onts?) (?:sin|caidos|desconectados|no)|"
    r"(?:la )?red (?:esta )?caida|se (?:cayo|callo) (?:la |toda la )?red|perdida de paquetes|latencia|trafico)\b"
)


def part_failed(text: str) -> bool:
    """A hardware part failed (a part and a fault verb in one clause) and nothing says the network is out."""
    if NETWORK_SPECIFIC.search(plain(text)):
        return False
    clauses = (plain(c) for c in re.split(r"[,;:!?¿¡()]|\.(?=\s|$)", text))
    return any(re.search(HARDWARE_PART, c) and re.search(PART_FAULT, c) for c in clauses)


KIND_NAMES = (
    ("software_bug", r"(?:el |del |de )?(?:software|aplicacion|programa|sistema de gestion)|un bug"),
    ("network_outage", r"(?:la |de |de la )?red"),
    ("hardware_failure", r"(?:el |de )?hardware|(?:un |el )?equipo (?:fisico|danado|roto)"),
    ("enhancement", r"una mejora|un desarrollo"),
    ("configuration", r"(?:de |una )?configuracion|ayuda para configurar"),
)


def named_kind(text: str) -> Optional[str]:
    """The kind a correction names outright («en realidad no es la red: es el software»)."""
    value = plain(text)
    for kind, words in KIND_NAMES:
        pattern = rf"\b(?:es|era|falla|problema|tema) (?:de |del |con |en (?:el |la )?)?(?:{words})\b"
        for match in re.finditer(pattern, value):
            if not re.search(r"\bno(?:\s+(?:es|era|fue))?\s*$", value[: match.start()]):
                return kind
    return None


def impact(text: str) -> Dict[str, bool]:
    """The priority facts a sentence states (production down, most operations proceed, workaround)."""
    value = plain(text)
    facts: Dict[str, bool] = {}
    if WORKAROUND_NO.search(value):
        facts["solution_available"] = False
    elif WORKAROUND_YES.search(value):
        facts["solution_available"] = True
    # Remove the workaround clause so «no tenemos cómo seguir» (or «movimos una parte de los módems
    # al otro cmts») is not read as an impact.
    rest = WORKAROUND_YES.sub(" ", WORKAROUND_NO.sub(" ", value))
    if PROCEED_NO.search(rest):
        facts["most_operations_proceed"] = False
    elif PROCEED_YES.search(rest):
        facts["most_operations_proceed"] = True
        facts["production_down"] = False
    if DOWN_NO.search(rest):
        facts["production_down"] = False
    elif "production_down" in facts:
        pass  # «… pero la mayoría de los clientes siguen navegando»: not down
    elif DOWN_YES.search(rest) and (not PARTIAL.search(rest) or TOTAL.search(rest)):
        facts["production_down"] = True
        facts.pop("most_operations_proceed", None)  # nothing proceeds when production is down
    return facts


# --- devices ------------------------------------------------------------------------


def _tokens(name: str) -> List[str]:
    return [t for t in re.split(r"[^a-z0-9]+", plain(name)) if t]


def match_device(text: str, devices: Iterable[KnownDevice]) -> Tuple[Optional[str], Tuple[str, ...]]:
    """(registered device, candidates) a text names: exact, without hyphens or accents, partial, fuzzy.

    «el cmts 2» → cmts-bog-02; «la olt de santo domingo» → olt-sdq-01; «cmst-bog-01» → cmts-bog-01.
    An ambiguous mention («el cmts» with two CMTS) gives no device and the candidates.
    """
    devices = list(devices)
    if not devices:
        return None, ()
    value = plain(text)
    flat = squash(text)
    words = set(re.findall(r"[a-z0-9]+", value))
    exact = [d for d in devices if squash(d.name) and squash(d.name) in flat]
    exact += [d for d in devices if d.serial and squash(d.serial) in flat and d not in exact]
    if len(exact) == 1:
        return exact[0].name, ()
    if len(exact) > 1:
        longest = max(exact, key=lambda d: len(squash(d.name)))
        return longest.name, ()
    scored: List[Tuple[int, KnownDevice]] = []
    # Sites the text names by their place («la olt de medellín»): a device of another site is not the one meant.
    said_sites = {site for site, places in PLACES.items() if site in words or any(p in value for p in places)}
    for device in devices:
        tokens = _tokens(device.name)
        kind = next((t for t in tokens if t in DEVICE_KINDS), tokens[0] if tokens else "")
        if not kind or kind not in words:
            continue
        own_sites = {t for t in tokens if t in PLACES}
        if said_sites and own_sites and not own_sites & said_sites:
            continue
        score = 1
        numbers = [int(t) for t in tokens if t.isdigit()]
        # Only a number said next to the kind names the device («el cmts 2», «la olt número 1»).
        # The device's own site code may stand between («el cmts bog 1» for cmts-bog-01).
        sites = "|".join(re.escape(t) for t in tokens if t != kind and not t.isdigit())
        between = rf"(?:(?:{sites})\s*-?\s*)?" if sites else ""
        said_numbers = {
            int(m.group(1)) if m.group(1).isdigit() else int(NUMBER_WORDS[m.group(1)])
            for m in re.finditer(
                rf"\b{kind}\s*-?\s*{between}(?:n(?:umero|ro\.?|o\.?)\s*)?(\d{{1,3}}|uno|una|dos|tres|cuatro|cinco)\b",
                value,
            )
        }
        if numbers and said_numbers:
            if numbers[-1] in said_numbers:
                score += 2
            else:
                continue
        for token in tokens:
            if token in PLACES and (token in words or any(place in value for place in PLACES[token])):
                score += 2
        scored.append((score, device))
    if scored:
        best = max(s for s, _ in scored)
        top = [d for s, d in scored if s == best]
        if len(top) == 1:
            return top[0].name, ()
        return None, tuple(d.name for d in top)
    # Typos: a word close to a device name («cmst-bog-01», «cmtsbog1»).
    for word in re.findall(r"[a-z0-9][a-z0-9\-_.]{4,}", value):
        for device in devices:
            if difflib.SequenceMatcher(None, squash(word), squash(device.name)).ratio() >= 0.84:
                return device.name, ()
    return None, ()


UNREGISTERED = re.compile(r"\b([a-z]{2,}[a-z0-9]*(?:[-_][a-z0-9]+){1,4})\b")
DEVICE_PHRASE = re.compile(
    r"\b(?:el|la|del|de la|en el|en la)\s+((?:" + "|".join(DEVICE_KINDS) + r")(?:\s+(?:de\s+)?[a-z0-9\-]+){0,3})"
)


PRODUCTS = (
    r"(?:software|programa|panel|m[oó]dulo|portal|plataforma|consola|aplicaci[oó]n|app|dashboard|tablero|gestor|"
    r"nms|servidor|sistema)"
)
WORD = r"[a-z0-9áéíóúñü\-]+"
STOP = (
    r"(?!se\b|no\b|y\b|al\b|cuando\b|desde\b|que\b|con\b|para\b|est[aá]\b|anda\b|los\b|las\b|del\b|de\b|la\b"
    r"|el\b|en\b|muestra\b|sale\b|aparece\b|tiene\b|version\b|versi[oó]n\b|v?\d)"
)
PRODUCT_PHRASE = re.compile(
    rf"\b(?:en el|en la|del|de la|el|la)\s+({PRODUCTS}\s+(?:de|del|de la)\s+{STOP}{WORD}(?:\s+{STOP}{WORD})?)"
)


HARDWARE = r"(?:m[oó]dulo|fuente|amplificador|tarjeta|transceptor|sfp|switch|router|servidor|ont|onu|ventilador)"
HARD_STOP = r"(?!se\b|no\b|y\b|que\b|ustedes\b|promptlink\b|en\b|con\b|dañad|danad|quemad|instalad)"
HARDWARE_PHRASE = re.compile(rf"\b(?:un|una|el|la)\s+({HARDWARE}(?:\s+{HARD_STOP}{WORD}){{0,3}})")


# A product by its brand name, capitalised («el Promptlink Provisioner v3.8»).
BRAND_PRODUCT = re.compile(
    r"\b(Promptlink(?:\s+(?!V\d)[A-Z][A-Za-z0-9\-]+){1,2}|PL-[A-Z][A-Za-z]{2,}(?:\s+[A-Z][a-z]+)?)(?![\w-])"
)


# Promptlink's products by the Spanish word customers use for them, in any case («EL PROVISIONADOR»).
SPANISH_PRODUCTS = ((re.compile(r"\ba?provisionador(?:es)?\b"), "Promptlink Provisioner"),)


def product_as_written(text: str) -> Optional[str]:
    """A product, module or part the customer names («el panel de gestión», «una fuente de poder PL-PSU»)."""
    match = PRODUCT_PHRASE.search(text.lower()) or HARDWARE_PHRASE.search(text.lower())
    if not match:
        brand = BRAND_PRODUCT.search(text)  # «el Promptlink Provisioner», «el PL-Manager»
        if brand:
            return brand.group(1)[:100]
        value = plain(text)
        return next((name for pattern, name in SPANISH_PRODUCTS if pattern.search(value)), None)
    return re.sub(r"(?:\s+(?:de|del|la|el|los|las))+$", "", match.group(1))[:100]


def _accents_optional(word: str) -> str:
    marks = {"a": "[aá]", "e": "[eé]", "i": "[ií]", "o": "[oó]", "u": "[uúü]", "n": "[nñ]"}
    return "".join(marks.get(c, re.escape(c)) for c in word).replace(r"\ ", r"\s+")


DEVICE_AT_PLACE = re.compile(
    r"\b((?:" + "|".join(DEVICE_KINDS) + r")\s+(?:de|del|en)\s+(?:la\s+|el\s+)?(?:"
    + "|".join(_accents_optional(p) for places in PLACES.values() for p in places)
    + r"))\b",
    re.IGNORECASE,
)


def device_at_place(text: str) -> Optional[str]:
    """A device named by its kind and a place, none of the customer's («la OLT de Medellín»), as written."""
    match = DEVICE_AT_PLACE.search(text)
    return " ".join(match.group(1).split())[:100] if match else None


def device_as_written(text: str) -> Optional[str]:
    """A device name the customer wrote that is not registered («router-med-03», «el servidor de reportes»)."""
    original = text.strip()
    for match in UNREGISTERED.finditer(plain(original)):
        candidate = match.group(1)
        if any(ch.isdigit() for ch in candidate) and not re.fullmatch(r"(?:sn|plk|v)[-_]?\d.*", candidate):
            # Not an error code («ORA-00942», «ERR-504»): those are the error message.
            if not re.match(r"(?:error|err|http|codigo|cod|code|e\d|ora-\d|sql-?\d|java)", candidate):
                return candidate
    return None


def clean_device_answer(text: str) -> str:
    """An answer to «¿Qué equipo…?» without the filler around the name."""
    value = " ".join(text.strip().split())
    value = re.sub(
        r"^(?:(?:no|si|perdon|disculpe?)[,.]?\s+)?(?:(?:el|es el|es la|la|del|de la|en el|en la)\s+)?"
        r"(?:equipo|producto|dispositivo)\s+(?:afectado\s+)?(?:es\s+)?(?:el\s+|la\s+)?",
        "",
        value,
        flags=re.IGNORECASE,
    )
    value = re.sub(r"^(?:es\s+)?(?:el|la)\s+", "", value, flags=re.IGNORECASE)
    return value.strip(" .,;:")[:100]


# --- serial, version, error -------------------------------------------------------------

SERIAL_LABELLED = re.compile(
    r"(?:\bn(?:u|ú)mero de serie|\bnro\.? de serie|\bserie|\bserial|\bs/n|\bsn)\s*(?:es|:|#|n[oº°]\.?)?\s*(?:el\s+)?"
    r"([A-Za-z0-9][A-Za-z0-9\-/]{2,39})",
    re.IGNORECASE,
)
SERIAL_SHAPE = re.compile(r"\b((?:SN|S/N|PLK|SER)[-/]?[A-Z0-9]*\d[A-Z0-9\-]{2,})\b", re.IGNORECASE)
VERSION_LABELLED = re.compile(
    r"(?:\bversi[oó]n|\brelease|\bfirmware|\bsoftware|\bestamos en(?: la)?|\bcorremos(?: la)?|\btenemos la)"
    r"\s*[,:]?\s*(?:es\s+)?(?:la\s+)?(?:de\s+)?(?::\s*)?v?\.?\s*"
    r"(\d+(?:\.\d+){0,3}[a-z]?)\b",
    re.IGNORECASE,
)
# «v4.2», «v. 4.2», «ver. 10.4.2» (not «ver 3 nodos»: «ver» is also «to see»)
VERSION_SHAPE = re.compile(r"(?<![\w.])(?:v\.?|ver\.)\s?(\d+(?:\.\d+){0,3})\b", re.IGNORECASE)
VERSION_BARE = re.compile(r"(?<![\w.:/])(\d+\.\d+(?:\.\d+){0,2})(?![\w.:/])")
QUOTED = re.compile(r"[«\"“']([^«»\"“”']{3,300})[»\"”']")
ERROR_CODE = re.compile(
    r"\b((?:error|codigo de error|c[oó]digo|fallo|excepci[oó]n)\s*(?:de\s+)?(?:tipo\s+)?[:#]?\s*"
    r"(?:[A-Za-z]{0,6}[-_]?\d{2,}[A-Za-z0-9\-_]*|[A-Z][A-Za-z]+(?:Exception|Error|Timeout)))",
    re.IGNORECASE,
)
ERROR_NAMED = re.compile(
    r"\b(?:sale|aparece|muestra|dice|bota|tira|arroja|lanza|salta|da)\s+(?:el\s+|un\s+|este\s+)?"
    r"(?:mensaje|error|aviso|alerta)\s*(?:de\s+)?(?::\s*)?(.{3,200}?)(?:[.;]|$)",
    re.IGNORECASE,
)
ERROR_WORDS = re.compile(
    r"\b(timeout|time out|connection refused|acceso denegado|access denied|not found|internal server error|"
    r"sin conexi[oó]n con la base de datos|permission denied|out of memory)\b",
    re.IGNORECASE,
)


def find_serial(text: str) -> Optional[str]:
    for pattern in (SERIAL_LABELLED, SERIAL_SHAPE):
        match = pattern.search(text)
        if match:
            value = match.group(1).strip(".,;:").upper()
            if any(ch.isdigit() for ch in value) and value.lower() not in ("es", "el"):
                return value[:100]
    return None


def find_version(text: str, *, asked: bool = False) -> Optional[str]:
    for pattern in (VERSION_LABELLED, VERSION_SHAPE):
        match = pattern.search(text)
        if match:
            return match.group(1)[:50]
    if asked:
        match = VERSION_BARE.search(text) or re.search(r"\b(\d{1,3})\b", text)
        if match:
            return match.group(1)[:50]
    return None


def find_error(text: str) -> Optional[str]:
    quoted = QUOTED.search(text)
    if quoted:
        return quoted.group(1).strip()[:2000]
    code = ERROR_CODE.search(text)
    if code:
        return " ".join(code.group(1).split())[:2000]
    named = ERROR_NAMED.search(text)
    if named and not re.match(r"(?:cuando|al|si)\b", named.group(1).strip(), re.IGNORECASE):
        return named.group(1).strip(" ,")[:2000]
    words = ERROR_WORDS.search(text)
    if words:
        return words.group(1)
    return None


def clean_error_answer(text: str) -> str:
    value = " ".join(text.strip().split())
    quoted = QUOTED.search(value)
    if quoted:
        return quoted.group(1).strip()[:2000]
    value = re.sub(
        r"^(?:(?:el\s+)?mensaje\s+(?:de error\s+)?(?:es|dice)\s*:?\s*|(?:sale|aparece|dice|muestra)\s*:?\s*)",
        "",
        value,
        flags=re.IGNORECASE,
    )
    return value.strip(" .")[:2000]


# --- since when ---------------------------------------------------------------------------

TEMPORAL = re.compile(
    r"\b(desde|hace|ayer|anoche|antier|anteayer|hoy|manana|tarde|noche|madrugada|mediodia|semana|dia|dias|hora|"
    r"horas|minutos|rato|momento|lunes|martes|miercoles|jueves|viernes|sabado|domingo|enero|febrero|marzo|abril|"
    r"mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|empezo|comenzo|inicio|arranco|"
    r"despues|antes|cuando|recien|ahora|temprano|am|pm|\d{1,2}:\d{2}|\d{1,2}h|"
    r"(?:a|de|desde) las? (?:\d{1,2}|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce))\b"
)


def _number(word: str) -> Optional[float]:
    if word.isdigit():
        return float(word)
    return float(NUMBER_WORDS[word]) if word in NUMBER_WORDS else None


def _clock(hour: int, minute: int, part: Optional[str], ampm: Optional[str]) -> Tuple[int, int]:
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    elif part in ("tarde", "noche") and hour < 12:
        hour += 12
    return hour % 24, minute


HOUR_WORDS = "una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce"
# «a las 11 y veinte»: the minutes people say in words after the hour.
MINUTES = {"cinco": 5, "diez": 10, "quince": 15, "veinte": 20, "veinticinco": 25, "treinta": 30, "cuarenta": 40}
MINUTE_WORDS = "|".join(sorted(MINUTES, key=len, reverse=True))
CLOCKS = (
    re.compile(
        r"\b(?:a las|desde las|de las|las|a la|desde la|tipo|como a las|eso de las)\s+"
        rf"(?P<h>\d{{1,2}}|{HOUR_WORDS})(?::(?P<m>\d{{2}})|\s+y\s+(?P<half>media|cuarto|{MINUTE_WORDS}))?\s*"
        r"(?:h|hs|hrs)?\s*"
        r"(?P<ampm>am|pm)?\b"
    ),
    re.compile(r"\b(?P<h>\d{1,2}):(?P<m>\d{2})\s*(?P<ampm>am|pm)?\b"),
    re.compile(r"\b(?P<h>\d{1,2})\s*(?P<ampm>am|pm)\b"),
    re.compile(r"\b(?P<h>\d{1,2})\s*(?:h|hs|hrs)\b"),
)


def _find_clock(value: str) -> Optional[Tuple[int, int, Optional[str]]]:
    for pattern in CLOCKS:
        match = pattern.search(value)
        if match:
            groups = match.groupdict()
            hour_word = groups["h"]
            hour = int(hour_word) if hour_word.isdigit() else int(NUMBER_WORDS[hour_word])
            minute = int(groups.get("m") or 0)
            if groups.get("half") == "media":
                minute = 30
            elif groups.get("half") == "cuarto":
                minute = 15
            elif groups.get("half") in MINUTES:
                minute = MINUTES[groups["half"]]
            return hour, minute, groups.get("ampm")
    return None


def parse_since(text: str, *, now: datetime, tz: str) -> Optional[datetime]:
    """When something started, from how people say it, in the customer's time zone.

    «desde las 9», «hace una hora», «desde ayer», «desde anoche», «desde el lunes»,
    «desde el 1 de diciembre», «desde esta mañana», «hace media hora», «recién».
    Times that would be in the future mean the last time it was that hour.
    """
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    value = plain(text).replace("a.m.", "am").replace("p.m.", "pm").replace("a. m.", "am").replace("p. m.", "pm")
    value = re.sub(r"\b(\d{1,2})\s*(am|pm)\b", r"\1 \2", value)
    value = re.sub(r"\bsanto domingo\b", " ", value)  # a place, not a weekday

    ago = re.search(
        r"\bhace\s+(?:como\s+|unos?\s+|unas\s+|mas de\s+|casi\s+)?(\d+|un|una|dos|tres|cuatro|cinco|seis|siete|ocho|"
        r"nueve|diez|once|doce|media)\s*(?:hora\s+y\s+media\s*)?(minutos?|minutitos?|minuticos?|min|horas?|horitas?|oras?|hrs?|h|dias?|semanas?)?\b",
        value,
    )
    if ago:
        amount = _number(ago.group(1)) or 0.0
        unit = ago.group(2) or ("horas" if ago.group(1) == "media" else "")
        if ago.group(1) == "media" and not ago.group(2):
            return local - timedelta(minutes=30)
        if "y media" in value[ago.start() : ago.end() + 10]:
            amount += 0.5
        if unit.startswith("min"):
            return local - timedelta(minutes=amount)
        if unit.startswith(("h", "o")):
            return local - timedelta(hours=amount)
        if unit.startswith("dia"):
            return (local - timedelta(days=amount)).replace(second=0, microsecond=0)
        if unit.startswith("semana"):
            return (local - timedelta(weeks=amount)).replace(second=0, microsecond=0)
    if re.search(r"\bhace (?:un )?(?:rato|ratito)\b", value):
        return local - timedelta(minutes=30)
    if re.search(r"\b(recien|ahora mismo|hace un momento|justo ahora|en este momento|hace nada)\b", value):
        return local.replace(second=0, microsecond=0)

    # A day: ayer, anoche, anteayer, hoy, a weekday, or a date.
    day: Optional[datetime] = None
    default_hour: Optional[int] = None
    if re.search(r"\b(anteayer|antier|antes de ayer)\b", value):
        day = local - timedelta(days=2)
    elif re.search(r"\banoche\b", value):
        day, default_hour = local - timedelta(days=1), 21
    elif re.search(r"\bayer\b", value):
        day = local - timedelta(days=1)
    elif re.search(r"\b(hoy|esta manana|esta tarde|esta noche|esta madrugada)\b", value):
        day = local
    weekday = re.search(r"\b(lunes|martes|miercoles|jueves|viernes|sabado|domingo)\b", value)
    if day is None and weekday:
        back = (local.weekday() - WEEKDAYS[weekday.group(1)]) % 7 or 7
        day = local - timedelta(days=back)
    spoken = re.search(r"\b(\d{1,2}) de (" + "|".join(MONTHS) + r")\b", value)
    numeric = re.search(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b", value)
    try:
        if spoken:
            candidate = local.replace(month=MONTHS[spoken.group(2)], day=int(spoken.group(1)))
            day = candidate if candidate <= local else candidate.replace(year=local.year - 1)
        elif numeric:
            year = int(numeric.group(3)) if numeric.group(3) else local.year
            year = year + 2000 if year < 100 else year
            candidate = local.replace(year=year, month=int(numeric.group(2)), day=int(numeric.group(1)))
            day = candidate if candidate <= local else candidate.replace(year=candidate.year - 1)
    except ValueError:
        return None

    part = next((p for p in DAY_PARTS if re.search(rf"\b(?:la |esta |en la |por la |de la ){p}\b", value)), None)
    clock = _find_clock(value)
    if clock:
        hour, minute, ampm = clock
        if hour > 23 or minute > 59:
            return None
        hour, minute = _clock(hour, minute, part, ampm)
    elif part is not None:
        hour, minute = DAY_PARTS[part], 0
    elif default_hour is not None:
        hour, minute = default_hour, 0
    elif day is not None:
        hour, minute = 0, 0
    else:
        return None
    base = day or local
    moment = base.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment > local and not clock and part is not None and moment.date() == local.date():
        # «desde esta madrugada» at 02:00, «desde esta mañana» at 07:00: the part of the day has begun and
        # its usual hour is still to come, so it began when the part did (not that hour yesterday).
        start = moment.replace(hour=DAY_PART_STARTS[part], minute=0)
        moment = start if start <= local else moment
    if moment > local:
        # «desde las 9» said at 8:00 means yesterday at 9; so does «desde hoy a las 9» (the customer's clock
        # or day is off: a moment to come cannot be when it started, and the card shows the day read).
        moment -= timedelta(days=1)
    return moment


def looks_temporal(text: str) -> bool:
    value = re.sub(r"\b(\d{1,2})\s*(am|pm)\b", r"\1 \2", plain(text))  # «9am», as parse_since reads it
    return bool(TEMPORAL.search(re.sub(r"\bsanto domingo\b", " ", value)))


# --- the whole message ----------------------------------------------------------------------

FIELD_NAMES = {
    "device": r"(?:el |la )?(?:equipo|producto|dispositivo|cmts|olt|router|servidor)",
    "version": r"(?:la )?versi[oó]n",
    "serial_number": r"(?:el )?(?:n[uú]mero de )?(?:serie|serial)",
    "error_message": r"(?:el )?(?:mensaje(?: de error)?|error)",
    "since": r"(?:desde|empez[oó]|comenz[oó]|la hora|la fecha)",
    "description": r"(?:la )?descripci[oó]n",
    "production_down": r"(?:la )?producci[oó]n|ca[ií]d[ao]",
    "most_operations_proceed": r"(?:las )?operaciones",
    "solution_available": r"(?:soluci[oó]n|alternativa|workaround)",
}


def named_field(text: str) -> Optional[str]:
    """The field a correction names: «el equipo es…», «la versión es…», «perdón, la serie…»."""
    value = text.lower()
    for name, pattern in FIELD_NAMES.items():
        if re.search(rf"(?:^|[\s,.;:¡!¿])(?:{pattern})\s*(?:,\s*)?(?:es|era|:|correct[oa] es|real es|sería)\b", value):
            return name
        # «la versión está mal, es la 7.0.2»
        wrong = r"\s+(?:est[aá] mal|es incorrect[oa]|est[aá] equivocad[oa])"
        if re.search(rf"(?:^|[\s,.;:¡!¿])(?:{pattern}){wrong}", value):
            return name
    return None


def understand(
    text: str,
    *,
    devices: Sequence[KnownDevice] = (),
    now: Optional[datetime] = None,
    tz: str = "UTC",
    requested: Optional[str] = None,
) -> Understanding:
    """Everything `text` states; `requested` is the question pending (for bare answers such as «4.2»)."""
    raw = " ".join(str(text or "").split())
    result = Understanding()
    if not raw or raw.startswith("/"):
        return result
    value = plain(raw)
    now = now or datetime.now(ZoneInfo(tz))
    result.correction = bool(CORRECTION.search(value))
    result.named_field = named_field(raw)
    if NO_START.match(value) and (result.named_field or _states_other_field(raw, requested)):
        result.correction = True
    if UNKNOWN.match(value):
        result.unknown = True
    if YES_START.match(value):
        result.answer = True
    elif NO_START.match(value):
        result.answer = False
    elif re.search(r"(?:^|[\s,;.(])(?:sí(?:[\s,;.!)]|$)|si(?:[,;.!)]|$))", raw.lower()) and not re.search(
        r"\bno\b", value
    ):
        result.answer = True  # «más o menos, sí, la mayoría sale»

    contrast = re.split(r"\bsino\b|\bmas bien\b|\bmás bien\b", raw, flags=re.IGNORECASE)
    if len(contrast) == 1 and re.search(r"\bno (?:fue|es|era|son|eran)\b", raw, re.IGNORECASE):
        # «no fue a las 8, fue a las 7:45», «no es el cmts 1, es el 2»
        contrast = re.split(r"[,;]\s*(?:fue|es|era|son|eran)\b", raw, flags=re.IGNORECASE)
    if len(contrast) > 1 and contrast[-1].strip():
        result.correction = True
        raw = contrast[-1].strip()  # «no fue desde las 5 sino desde las 4:30»: the value meant is the last
    result.serial_number = find_serial(raw)
    result.version = find_version(raw, asked=requested == "version")
    if result.version is None and result.named_field == "version":
        bare = VERSION_BARE.search(raw)  # «la versión está mal, es la 7.0.2»
        result.version = bare.group(1)[:50] if bare else None
    result.error_message = find_error(raw)
    registered, candidates = match_device(raw, devices)
    if registered:
        result.device, result.device_registered = registered, True
    elif candidates:
        result.device_candidates = candidates
    else:
        written = device_as_written(raw)
        if written and result.serial_number and squash(written) == squash(result.serial_number):
            written = None  # the serial number, not a device name
        result.device = written or device_at_place(raw) or product_as_written(raw)
    since = parse_since(raw, now=now, tz=tz) if looks_temporal(raw) else None
    if since is not None:
        result.since = since.isoformat(timespec="minutes")
    for fact, flag in impact(raw).items():
        setattr(result, fact, flag)
    result.kind = detect_kind(raw)
    return result


def _states_other_field(text: str, requested: Optional[str]) -> bool:
    """Whether the message after a leading «no» gives a value for a field other than the one asked."""
    rest = re.sub(r"^\W*no\b[\s,.;:!]*", "", text.strip(), flags=re.IGNORECASE)
    if not rest:
        return False
    if requested != "serial_number" and find_serial(rest):
        return True
    if requested != "version" and find_version(rest):
        return True
    if requested != "device" and device_as_written(rest):
        return True
    # «no, el resto del CMTS funciona» answers a yes/no question; «no, el CMTS de Cali» names another device.
    if requested != "device" and requested not in YES_NO_FIELDS and DEVICE_PHRASE.search(plain(rest)):
        return True
    return False
