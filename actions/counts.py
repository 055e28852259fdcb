"""How many people, and in how many courses: counts read from free Spanish text.

«8», «ocho», «para 8 ingenieros», «somos doce», «una docena», «dos grupos de 4» (two
courses of four) and «dos cursos» are counts; «el 15 de marzo», «v4.2», «a las 9» or
«2 días» are not. Outside the attendees question a number counts only next to a word
that makes it a count («personas», «somos», «grupos de»), so a date or a version in the
opening message is never taken for attendees.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from .answers import plain
from .spanish import plural

MAX_PER_COURSE = 6
UNITS = {
    "uno": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
}
WORDS = {
    **UNITS,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    "veintiuno": 21,
    "veintidos": 22,
    "veintitres": 23,
    "veinticuatro": 24,
    "veinticinco": 25,
    "veintiseis": 26,
    "veintisiete": 27,
    "veintiocho": 28,
    "veintinueve": 29,
    "treinta": 30,
    "cuarenta": 40,
    "cincuenta": 50,
    "sesenta": 60,
}
TENS = ("treinta", "cuarenta", "cincuenta", "sesenta")
# Words that make the number before them a head count.
PEOPLE = (
    r"(?:personas?|ingenieros?|ingenieras?|asistentes?|participantes?|tecnicos?|tecnicas?|operadores?|operadoras?|"
    r"empleados?|empleadas?|colaboradores?|colaboradoras?|funcionarios?|funcionarias?|analistas?|usuarios?|"
    r"usuarias?|alumnos?|alumnas?|estudiantes?|trabajadores?|trabajadoras?|miembros?|integrantes?|especialistas?|"
    r"administradores?|administradoras?|agentes?|gente|personal|profesionales?|coordinadores?|supervisores?|"
    r"jefes?|companeros?|companeras?|instaladores?|desarrolladores?|desarrolladoras?)"
)
COURSES = r"(?:grupos?|cursos?|turnos?|tandas?|sesiones|sesion|capacitaciones|entrenamientos)"
MONTHS = r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)"
# Numbers that are dates, versions, times, durations or codes: never a head count.
NOT_COUNTS = [
    r"\b\d{4}-\d{1,2}-\d{1,2}\b",
    r"\b\d{1,2}[/-]\d{1,2}(?:[/-]\d{2,4})?\b",
    r"\b\d{1,2}\s+(?:de\s+)?" + MONTHS + r"\b",
    r"\b" + MONTHS + r"\s+\d{1,2}\b",
    r"\b(?:el|del|al|dia)\s+\d{1,2}\b(?!\s+" + PEOPLE + r")",
    r"\bv\s?\d+(?:[.,]\d+)*\b",
    r"\b\d+(?:[.,]\d+)+\b",
    r"\b(?:version|firmware|release|modelo|serie|sede|piso|oficina|calle|carrera|avenida|no|numero|#)\s*\d+\b",
    r"\ba\s+las?\s+\d{1,2}\b",
    r"\b\d{1,2}\s*(?::\d{2}|am|pm|h|hrs|horas?)\b",
    r"\b\d+\s+(?:dias?|semanas?|meses|mes|anos?|minutos?)\b",
    r"\b\d{4,}\b",
]


@dataclass(frozen=True)
class Attendance:
    """What a message says about the people and the courses; None where it says nothing."""

    total: Optional[int] = None
    groups: Optional[Tuple[int, ...]] = None  # explicit sizes: «dos grupos de 4» → (4, 4)
    courses: Optional[int] = None  # «dos cursos», sizes left to us
    one_course: bool = False  # «uno de 6», «un solo curso»: only read as an answer to the split question
    split: bool = False  # «dividirlos», «la segunda opción»: split evenly

    def __bool__(self) -> bool:
        return self.total is not None or bool(self.groups or self.courses or self.one_course or self.split)


def even_split(total: int, courses: Optional[int] = None) -> Optional[List[int]]:
    """`total` people in `courses` courses (fewest possible by default), sizes differing by one at most.

    13 → [5, 4, 4]; 8 → [4, 4]; 8 in 3 → [3, 3, 2]. None when a course would exceed six or be empty.
    """
    count = courses if courses is not None else math.ceil(total / MAX_PER_COURSE)
    if total < 1 or count < 1 or count > total:
        return None
    base, extra = divmod(total, count)
    sizes = [base + 1] * extra + [base] * (count - extra)
    return sizes if sizes[0] <= MAX_PER_COURSE else None


def number_word(n: int, *, feminine: bool = False) -> str:
    """«un»/«una», «dos» … «diez»; the digits beyond."""
    if n == 1:
        return "una" if feminine else "un"
    names = {v: k for k, v in WORDS.items() if v <= 10}
    names[10] = "diez"
    return names.get(n, str(n))


def sizes_in_words(groups: Sequence[int]) -> str:
    """«4 y 4», «5, 4 y 4»."""
    items = [str(g) for g in groups]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " y " + items[-1]


def courses_in_words(groups: Sequence[int]) -> str:
    """«un curso de 4», «dos cursos de 4», «tres cursos (5, 4 y 4)»."""
    if len(groups) == 1:
        return f"un curso de {groups[0]}"
    head = f"{number_word(len(groups))} cursos"
    if len(set(groups)) == 1:
        return f"{head} de {groups[0]}"
    return f"{head} ({sizes_in_words(groups)})"


def courses_title(groups: Sequence[int]) -> str:
    """The split button: «Dos cursos (4 y 4)»."""
    words = f"{number_word(len(groups))} cursos ({sizes_in_words(groups)})"
    return words[0].upper() + words[1:]


def courses_payload(groups: Sequence[int]) -> str:
    """What the split button sends, in words `parse_attendance` reads: «dos cursos de 4 y 4»."""
    return f"{number_word(len(groups))} cursos de {sizes_in_words(groups)}"


def digits(text: str) -> str:
    """Plain text with spoken numbers as digits: «somos doce» → «somos 12», «media docena» → «6»."""
    value = plain(text)
    value = re.sub(r"\bmedia\s+docena\b", "6", value)
    value = re.sub(r"\b(?:una|1)\s+docena\b|\bdocena\b", "12", value)
    value = re.sub(r"\b(dos|2)\s+docenas\b", "24", value)
    tens = "|".join(TENS)
    units = "|".join(UNITS)
    value = re.sub(rf"\b({tens})\s+y\s+({units})\b", lambda m: str(WORDS[m.group(1)] + WORDS[m.group(2)]), value)
    words = "|".join(sorted(WORDS, key=len, reverse=True))
    value = re.sub(rf"\b({words})\b", lambda m: str(WORDS[m.group(1)]), value)
    # «un»/«una» is a count only before a person («una persona») or as «un grupo de …»/«uno de 6».
    value = re.sub(r"\b(?:un|una)\s+(?=" + PEOPLE + r"\b)", "1 ", value)
    value = re.sub(r"\b(?:un|una)\s+(?=(?:solo|sola|unico|unica)\s)", "1 ", value)
    value = re.sub(r"\b(?:un|una)\s+(?=" + COURSES + r"\s+(?:de|para)\s+\d)", "1 ", value)
    return value


def without_other_numbers(text: str) -> str:
    """`text` with dates, versions, times and durations blanked out."""
    for pattern in NOT_COUNTS:
        text = re.sub(pattern, " # ", text)
    return text


# Sizes listed after «de»: «4 y 4», «5, 4 y 4» (plain text has no commas left).
SIZES = r"(\d{1,2}(?:\s+(?:y\s+)?\d{1,2})*)"
CHOICE_ONE = (
    r"\b(?:primer[ao]?|(?:1|solo)\s+(?:solo\s+|unico\s+)?(?:curso|grupo)|1\s+(?:solo|unico)|solo\s+1|1\s+de\s+6|1)\b"
)
CHOICE_SPLIT = (
    r"\b(?:segund[ao]|todos|todas|dividir\w*|separar\w*|partir\w*|repartir\w*|dividid[oa]s|varios|grupos|cursos)\b"
)


def parse_attendance(text: str, *, asked: bool = False, choosing: bool = False) -> Attendance:
    """People and courses in `text`.

    `asked`: the message answers «¿Cuántas personas asistirán?», so a bare number is a count.
    `choosing`: it answers the split question, so «uno de 6», «la segunda» or a bare «2» are choices.
    """
    value = without_other_numbers(digits(text))
    groups: Optional[Tuple[int, ...]] = None
    courses: Optional[int] = None

    # «un grupo de 5 y otro de 3»
    pair = re.search(r"\b1\s+" + COURSES + r"\s+de\s+(\d{1,2})\s+y\s+otr[oa]s?\s+(?:de\s+)?(\d{1,2})\b", value)
    # «dos grupos de 4», «3 cursos de 5, 4 y 4», «dos cursos (4 y 4)» (the button title); «para 8» is a total
    many = re.search(r"\b(\d{1,2})\s+" + COURSES + r"\s+(de\s+|con\s+)?" + SIZES + r"\b", value)
    if pair:
        groups = (int(pair.group(1)), int(pair.group(2)))
        value = value.replace(pair.group(0), " ")
    elif many and int(many.group(1)) >= 2:
        count, sizes = int(many.group(1)), _sizes(many.group(3))
        if len(sizes) == count:
            groups = tuple(sizes)
        elif len(sizes) == 1 and many.group(2):
            groups = (sizes[0],) * count
        if groups is not None:
            value = value.replace(many.group(0), " ")
    if groups is None:
        into = re.search(r"\b(\d{1,2})\s+" + COURSES + r"\b", value) or re.search(
            r"\b(?:dividir\w*|separar\w*|partir\w*|repartir\w*)\s+en\s+(\d{1,2})\b", value
        )
        if into and int(into.group(1)) >= 2:
            courses = int(into.group(1))
            value = value.replace(into.group(0), " ")

    if groups is not None:
        return Attendance(total=sum(groups), groups=groups)
    if choosing and courses is None:
        return _choice(value)
    return Attendance(total=_total(value, asked=asked), courses=courses)


def _choice(value: str) -> Attendance:
    """An answer to «¿Qué prefiere?» (one course for six or an even split), or a new head count."""
    one = re.search(r"\b(?:1\s+(?:solo\s+)?(?:curso|grupo)\s+(?:de|para|con)|el\s+de|la\s+de)\s+(\d{1,2})\b", value)
    if one:
        return Attendance(total=int(one.group(1)), one_course=True)
    total = _total(value, asked=False)
    if total is not None:
        return Attendance(total=total)
    if re.search(CHOICE_ONE, value):
        return Attendance(one_course=True)
    if re.search(CHOICE_SPLIT, value):
        return Attendance(split=True)
    bare = re.fullmatch(r"\s*(?:el\s+|los\s+|las\s+|solo\s+|solamente\s+)?(\d{1,2})\s*", value)
    if bare and int(bare.group(1)) == MAX_PER_COURSE:
        return Attendance(total=MAX_PER_COURSE, one_course=True)
    if bare and 2 <= int(bare.group(1)) < MAX_PER_COURSE:
        return Attendance(courses=int(bare.group(1)))
    return Attendance()


def _sizes(raw: str) -> List[int]:
    return [int(n) for n in re.findall(r"\d+", raw)]


def _total(value: str, *, asked: bool) -> Optional[int]:
    patterns = [
        r"\b(\d{1,3})\s+(?:de\s+(?:(?:nuestros|nuestras|mis|los|las|sus)\s+)?)?" + PEOPLE + r"\b",
        r"\b(?:somos|seremos|son|seran|serian|seriamos|sumamos|asistiran|asistirian|asisten|iran|irian|vendran|"
        r"participaran|en\s+total|un\s+total\s+de|total\s+de|cantidad\s+de|grupo\s+de)\s+(?:unos\s+|unas\s+|"
        r"como\s+|mas\s+o\s+menos\s+|aproximadamente\s+|alrededor\s+de\s+)?(\d{1,3})\b",
        r"\bpara\s+(\d{1,3})\b(?=\s*(?:$|[,;?!]|y\b|en\b|el\b|la\b|a\s+partir|desde\b|con\b|por\b|#))",
    ]
    for pattern in patterns:
        match = re.search(pattern, value)
        if match:
            return int(match.group(1))
    if asked:
        bare = re.search(r"\b(\d{1,3})\b", value)
        if bare:
            return int(bare.group(1))
        if re.fullmatch(r"\s*(?:solo\s+|solamente\s+)?(?:un[oa]?|yo)(?:\s+sol[oa])?\s*", value):
            return 1
    return None


def attendees_in_words(groups: Sequence[int]) -> str:
    """«4 asistentes», «8 asistentes en dos cursos de 4», «13 asistentes en tres cursos (5, 4 y 4)»."""
    total = plural(sum(groups), "asistente", "asistentes")
    return total if len(groups) == 1 else f"{total} en {courses_in_words(groups)}"


def later_courses(count: int) -> str:
    """«del segundo curso», «de los otros dos cursos»."""
    return "del segundo curso" if count == 2 else f"de los otros {number_word(count - 1)} cursos"


# A message that asks for a course (not one that asks about courses): «curso para 5 personas»,
# «me gustaría un curso de configuración avanzada», «necesito capacitar a once personas».
_COUNT = "(?:\\d+|" + "|".join(sorted(WORDS, key=len, reverse=True)) + ")"
COURSE_BOOKING = re.compile(
    r"\b(?:curso|capacitacion|entrenamiento|formacion|capacitar|entrenar|formar)\b.*\b" + _COUNT +
    r"\s+(?:personas|ingenieros|tecnicos|asistentes|participantes|operadores|empleados|colaboradores)\b"
    # «me gustaría un curso de configuración avanzada», «necesitamos una capacitación en sitio»
    r"|\b(?:quiero|quisiera|quisieramos|queremos|me gustaria|nos gustaria|me interesa|nos interesa|necesito"
    r"|necesitamos|solicito|solicitamos|pedir|agendar|reservar|programar)\s+(?:un|una|el|la)?\s*"
    r"(?:curso|capacitacion|entrenamiento|formacion)\b"
    r"|\b(?:curso|capacitacion|entrenamiento|formacion)\b[^.?]*\ben (?:sitio|nuestra sede|nuestras oficinas)\b"
)
