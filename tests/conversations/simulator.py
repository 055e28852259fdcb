"""A customer simulator that plays the conversation test set (issue 12) against a running system.

It talks to the backend's socket.io `/chat` namespace like the widget does, sends each
conversation's scripted opening, then answers every question of the assistant from the
conversation's fact sheet, recognising the question by the phrases of the assistant's
contract (QUESTIONS below). When the assistant registers something it reads the stored
ticket, comment, training requests or handoff through the REST API and compares them field
by field with the conversation's `expect`. A question whose answer the customer had already
given (declared `stated`, or answered before from the fact sheet) counts as redundant.

The sets are YAML files under `sets/`, one per theme; README.md in this folder describes
the format. Command line (against a running system):

    .venv/bin/python tests/conversations/simulator.py --base-url http://127.0.0.1:8000 \
        [--only NAME_SUBSTRING] [--theme THEME] [--verbose] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import sys
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import socketio
import yaml

HERE = Path(__file__).resolve().parent
SETS_DIR = HERE / "sets"
ROOT = HERE.parents[1]
REPORT_PATH = ROOT / "var" / "test-results" / "conversations.json"

SUPERVISOR_EMAIL = "supervisor@promptlink.example"
SUPERVISOR_PASSWORD = "demo-supervisor-pass"  # noqa: S105 - the documented demo login
# The demo contacts (backend/promptlink/services/demo_data.py): e-mail → (customer code, time zone).
DEMO_CONTACTS = {
    "ana.gomez@cableandina.example": ("CABLEANDINA", "America/Bogota"),
    "luis.perez@cableandina.example": ("CABLEANDINA", "America/Bogota"),
    "maria.rodriguez@telecaribe.example": ("TELECARIBE", "America/Santo_Domingo"),
}
DEMO_CUSTOMERS = ("CABLEANDINA", "TELECARIBE")
OPEN_STATUSES = "new,open,pending_customer"

# Timing of a turn: a burst of bot messages ends after QUIET seconds without a new one (or
# FAST_QUIET after the bot's typing indicator went off and its replies arrived); a turn
# without any answer fails after TURN_TIMEOUT.
QUIET = 1.5
FAST_QUIET = 0.4
TURN_TIMEOUT = 20.0
HARD_TURN_CAP = 30
SAME_QUESTION_CAP = 5

# The assistant's contract: how each question is recognised (case-insensitive, accents as written).
# Meta questions are checked first (a confirmation card lists every field and may quote other phrases);
# among the others, the phrase found LAST in the message wins (the question ends the message).
META_QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("confirm", ("¿es correcto?",)),
    ("correct_field", ("¿qué dato desea corregir?",)),
    ("duplicate", ("¿desea que agregue esta información a ese tiquete",)),
    ("offer_human", ("¿desea que le comunique con un especialista?",)),
)
QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("description", ("cuénteme qué ocurre",)),
    ("problem_kind", ("¿de qué tipo de problema se trata?",)),
    ("device", ("¿qué equipo o producto está afectado?",)),
    ("since", ("¿desde cuándo ocurre?",)),
    ("version", ("¿qué versión del software",)),
    ("error_message", ("¿qué mensaje de error aparece?",)),
    ("serial_number", ("¿cuál es el número de serie",)),
    ("production_down", ("¿la red o el sistema de producción están caídos?",)),
    ("most_operations_proceed", ("¿la mayoría de las operaciones pueden seguir",)),
    ("solution_available", ("¿tiene alguna solución provisional",)),
    ("attendees", ("¿cuántas personas asistirán?",)),
    ("training_split", ("¿qué prefiere?",)),
    ("training_date", ("¿para qué fecha desea el curso?",)),
    ("training_site", ("¿en qué sede",)),
    ("facilities", ("¿su sede cuenta con sala",)),
    ("facilities_missing", ("¿qué le falta?",)),
    ("customer_code", ("código de cliente",)),
    ("contact_email", ("correo electrónico de contacto",)),
    ("otp_code", ("código de verificación",)),
)
QUESTION_KEYS = tuple(k for k, _ in META_QUESTIONS) + tuple(k for k, _ in QUESTIONS)
IDENTITY_KEYS = ("customer_code", "contact_email", "otp_code")
FACT_KEYS = QUESTION_KEYS + ("kind_answer", "kind_button")

TICKET_RE = re.compile(r"registré su tiquete (PL-\d{4}-\d{6})", re.IGNORECASE)
COMMENT_RE = re.compile(r"agregué la información al tiquete (PL-\d{4}-\d{6})", re.IGNORECASE)
TRAINING_RE = re.compile(r"registré su solicitud de curso", re.IGNORECASE)
OTP_RE = re.compile(r"verificación\D*?(\d{6})\b", re.IGNORECASE)
PLACEHOLDER_RE = re.compile(r"\{(fecha|dia|iso):\+(\d+)\}")
MONTHS = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()
WEEKDAYS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
FACILITY_KEYS = ("room", "projector", "whiteboard", "workstations_internet")


def norm(text: str) -> str:
    """Lower-cased (casefold), NFC, whitespace collapsed: accents are kept as written."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def short(text: str, limit: int = 140) -> str:
    """A bot message on one line, cut for the one-line failure reasons."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def question_key(text: str) -> str | None:
    """The contract key of the question a bot message asks, or None."""
    t = norm(text)
    for key, phrases in META_QUESTIONS:
        if any(p in t for p in phrases):
            return key
    best, position = None, -1
    for key, phrases in QUESTIONS:
        for phrase in phrases:
            found = t.rfind(phrase)
            if found > position:
                best, position = key, found
    return best


# --- The conversation set ------------------------------------------------------------------------


class SetError(ValueError):
    """A conversation file does not follow the format."""


@dataclass(frozen=True)
class Reply:
    """What the customer sends for one question: typed text, or a button pressed (by payload or title)."""

    say: str | None = None
    press: str | None = None
    states: tuple[str, ...] = ()  # question keys this message answers (asking them later is redundant)
    reopens: tuple[str, ...] = ()  # question keys the assistant may ask again (a correction was announced)
    expect_again: bool = False  # a digression: the same question must come back in the next burst
    expect_reply: tuple[str, ...] = ()  # texts the next burst must contain (case-insensitive)

    def describe(self) -> str:
        return self.say if self.say is not None else f"[botón {self.press}]"


@dataclass
class Conversation:
    name: str
    theme: str
    customer: str | None  # contact e-mail of an identified widget visitor; None: anonymous
    customer_code: str
    email: str
    opening: list[str]
    facts: dict[str, list[Reply]]
    script: dict[str, list[Reply | None]]
    stated: set[str]
    setup: list[dict[str, Any]]
    expect: dict[str, Any]
    max_turns: int | None
    asked: list[str] | None
    asked_in_order: bool
    not_asked: list[str]
    keep_state: bool
    source: str
    # A gap of the assistant this conversation shows, known and reported (the test is an expected failure).
    known_gap: str = ""

    @property
    def anonymous(self) -> bool:
        return self.customer is None

    @property
    def timezone(self) -> str:
        return DEMO_CONTACTS.get(self.email, ("", "America/Bogota"))[1]


CONVERSATION_KEYS = {
    "name",
    "customer",
    "customer_code",
    "email",
    "opening",
    "facts",
    "script",
    "stated",
    "setup",
    "expect",
    "max_turns",
    "asked",
    "asked_in_order",
    "not_asked",
    "keep_state",
    "note",
    "known_gap",
}
EXPECT_KEYS = {"ticket", "comment_on", "training", "handoff", "no_ticket", "replies", "summary_contains"}
TICKET_KEYS = {
    "type",
    "priority",
    "tier",
    "device",
    "device_text",
    "serial",
    "version",
    "error_message",
    "since",
    "facts",
    "rma",
    "bug",
    "related_ticket",
    "covered",
    "description_contains",
    "title_contains",
}
REPLY_KEYS = {"say", "press", "states", "reopens", "expect_again", "expect_reply"}
TRAINING_KEYS = {"attendees", "date", "site", "facilities", "missing"}


def expand(value: Any, today: date) -> Any:
    """Replace `{fecha:+N}` (15 de marzo de 2027), `{dia:+N}` (15 de marzo), `{iso:+N}` (2027-03-15)."""
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            day = today + timedelta(days=int(match.group(2)))
            if match.group(1) == "iso":
                return day.isoformat()
            text = f"{day.day} de {MONTHS[day.month - 1]}"
            return text + (f" de {day.year}" if match.group(1) == "fecha" else "")

        return PLACEHOLDER_RE.sub(sub, value)
    if isinstance(value, list):
        return [expand(v, today) for v in value]
    if isinstance(value, dict):
        return {k: expand(v, today) for k, v in value.items()}
    return value


def _keys(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or any(k not in QUESTION_KEYS for k in items):
        raise SetError(f"{where}: expected question keys from {', '.join(QUESTION_KEYS)}, got {value!r}")
    return tuple(items)


def _reply(raw: Any, where: str) -> Reply:
    if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
        return Reply(say=str(raw))
    if not isinstance(raw, dict):
        raise SetError(f"{where}: a reply is a text or a mapping, got {raw!r}")
    unknown = set(raw) - REPLY_KEYS
    if unknown:
        raise SetError(f"{where}: unknown reply keys {sorted(unknown)}")
    if raw.get("say") is None and raw.get("press") is None:
        raise SetError(f"{where}: a reply needs `say` or `press`")
    replies = raw.get("expect_reply", ())
    return Reply(
        say=None if raw.get("say") is None else str(raw["say"]),
        press=None if raw.get("press") is None else str(raw["press"]),
        states=_keys(raw.get("states", []), f"{where}.states"),
        reopens=_keys(raw.get("reopens", []), f"{where}.reopens"),
        expect_again=bool(raw.get("expect_again", False)),
        expect_reply=(replies,) if isinstance(replies, str) else tuple(str(r) for r in replies),
    )


def _answers(raw: Any, where: str, *, allow_none: bool) -> list[Any]:
    entries = raw if isinstance(raw, list) else [raw]
    out: list[Any] = []
    for i, entry in enumerate(entries):
        if entry is None and allow_none:
            out.append(None)
        else:
            out.append(_reply(entry, f"{where}[{i}]"))
    return out


def _check_expect(expect: Any, where: str) -> dict[str, Any]:
    if not isinstance(expect, dict) or not expect:
        raise SetError(f"{where}: `expect` is required")
    unknown = set(expect) - EXPECT_KEYS
    if unknown:
        raise SetError(f"{where}: unknown expect keys {sorted(unknown)}")
    ticket = expect.get("ticket")
    if ticket is not None:
        if not isinstance(ticket, dict) or set(ticket) - TICKET_KEYS:
            raise SetError(f"{where}: unknown ticket keys {sorted(set(ticket or {}) - TICKET_KEYS)}")
    for i, course in enumerate(expect.get("training") or []):
        if not isinstance(course, dict) or set(course) - TRAINING_KEYS:
            raise SetError(f"{where}: training[{i}] keys must be among {sorted(TRAINING_KEYS)}")
    return expect


def parse_conversation(raw: Any, *, theme: str, source: str, today: date | None = None) -> Conversation:
    """One conversation of a set file, validated (a SetError names what is wrong)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise SetError(f"{source}: every conversation needs a `name`")
    where = f"{source}:{raw['name']}"
    unknown = set(raw) - CONVERSATION_KEYS
    if unknown:
        raise SetError(f"{where}: unknown keys {sorted(unknown)}")
    customer = raw.get("customer")
    if customer == "anonymous":
        code, email = raw.get("customer_code"), raw.get("email")
        if not isinstance(code, str) or not isinstance(email, str):
            raise SetError(f"{where}: an anonymous customer needs `customer_code` and `email`")
        contact: str | None = None
    elif isinstance(customer, str) and customer in DEMO_CONTACTS:
        contact, email, code = customer, customer, DEMO_CONTACTS[customer][0]
    else:
        raise SetError(f"{where}: `customer` is a demo contact e-mail or `anonymous`, got {customer!r}")
    tz = ZoneInfo(DEMO_CONTACTS.get(email, ("", "America/Bogota"))[1])
    raw = expand(raw, today or datetime.now(tz).date())
    opening = raw.get("opening")
    if isinstance(opening, str):
        opening = [opening]
    if not isinstance(opening, list) or not opening or not all(isinstance(m, str) for m in opening):
        raise SetError(f"{where}: `opening` is a non-empty list of messages")
    facts_raw = raw.get("facts") or {}
    if not isinstance(facts_raw, dict) or set(facts_raw) - set(FACT_KEYS):
        raise SetError(f"{where}: unknown fact keys {sorted(set(facts_raw) - set(FACT_KEYS))}")
    facts = {k: _answers(v, f"{where}.facts.{k}", allow_none=False) for k, v in facts_raw.items()}
    kind = facts_raw.get("kind_answer"), facts_raw.get("kind_button")
    if "problem_kind" not in facts and (kind[0] is not None or kind[1] is not None):
        facts["problem_kind"] = [Reply(say=None if kind[0] is None else str(kind[0]), press=kind[1])]
    script_raw = raw.get("script") or {}
    if not isinstance(script_raw, dict) or set(script_raw) - set(QUESTION_KEYS):
        raise SetError(f"{where}: unknown script keys {sorted(set(script_raw) - set(QUESTION_KEYS))}")
    script = {k: _answers(v, f"{where}.script.{k}", allow_none=True) for k, v in script_raw.items()}
    setup = raw.get("setup") or []
    if not isinstance(setup, list) or any(
        not isinstance(s, dict) or len(s) != 1 or next(iter(s)) not in ("ticket", "conversation") for s in setup
    ):
        raise SetError(f"{where}: `setup` is a list of {{ticket: …}} or {{conversation: …}} steps")
    asked = raw.get("asked")
    return Conversation(
        name=raw["name"],
        theme=theme,
        customer=contact,
        customer_code=str(code),
        email=str(email),
        opening=[str(m) for m in opening],
        facts=facts,
        script=script,
        stated=set(_keys(raw.get("stated", []), f"{where}.stated")),
        setup=setup,
        expect=_check_expect(raw.get("expect"), where),
        max_turns=raw.get("max_turns"),
        asked=None if asked is None else list(_keys(asked, f"{where}.asked")),
        asked_in_order=bool(raw.get("asked_in_order", False)),
        not_asked=list(_keys(raw.get("not_asked", []), f"{where}.not_asked")),
        keep_state=bool(raw.get("keep_state", False)),
        source=source,
        known_gap=str(raw.get("known_gap") or ""),
    )


def load_sets(directory: Path = SETS_DIR) -> list[Conversation]:
    """Every conversation of every `*.yml` set, in file and then document order; names are unique."""
    conversations: list[Conversation] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        theme = str(data.get("theme") or path.stem)
        for raw in data.get("conversations") or []:
            conversations.append(parse_conversation(raw, theme=theme, source=path.name))
    names = [c.name for c in conversations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SetError(f"conversation names must be unique: {duplicates}")
    return conversations


# --- Playing a conversation ----------------------------------------------------------------------


@dataclass
class Result:
    name: str
    theme: str
    ok: bool = True
    reasons: list[str] = field(default_factory=list)
    redundant: list[dict[str, str]] = field(default_factory=list)
    turns: int = 0
    asked: list[str] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    conversation_id: str | None = None
    tickets: list[str] = field(default_factory=list)
    ticket: dict[str, Any] | None = None
    seconds: float = 0.0

    def fail(self, reason: str) -> None:
        self.ok = False
        self.reasons.append(reason)

    def one_line(self) -> str:
        return f"{self.name}: " + ("; ".join(self.reasons) if self.reasons else "ok")

    def render_transcript(self) -> str:
        lines = []
        for entry in self.transcript:
            who = {"customer": "cliente", "bot": "bot", "system": "sistema", "agent": "agente"}.get(
                entry["role"], entry["role"]
            )
            extra = ""
            if entry.get("intent"):
                extra = f"   ⟨{entry['intent']} {entry.get('confidence') or 0:.2f}⟩"
            if entry.get("key"):
                extra += f"   [{entry['key']}]"
            if entry.get("buttons"):
                extra += "   {" + " | ".join(b.get("title", "") for b in entry["buttons"]) + "}"
            lines.append(f"  {who:>8}: {entry['text']}{extra}")
        return "\n".join(lines)

    def explain(self) -> str:
        return self.one_line() + "\n" + self.render_transcript()

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "theme": self.theme,
            "ok": self.ok,
            "reasons": self.reasons,
            "redundant": self.redundant,
            "turns": self.turns,
            "asked": self.asked,
            "conversation_id": self.conversation_id,
            "tickets": self.tickets,
            "ticket": self.ticket,
            "seconds": round(self.seconds, 1),
            "transcript": self.transcript,
        }


class RunnerError(RuntimeError):
    """The simulator could not play the conversation (not a verdict on the assistant)."""


class ChatSocket:
    """One widget connection to `/chat`: collects the messages, typing and handoff events."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.session: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []
        self.handoffs: list[dict[str, Any]] = []
        self.last_message_at = 0.0
        self.typing_on = False
        self.typing_off_at = 0.0
        self._ready = asyncio.Event()
        self.sio.on("session", self._on_session, namespace="/chat")
        self.sio.on("message", self._on_message, namespace="/chat")
        self.sio.on("typing", self._on_typing, namespace="/chat")
        self.sio.on("handoff", self._on_handoff, namespace="/chat")

    async def _on_session(self, data: dict[str, Any]) -> None:
        self.session.update(data)
        self._ready.set()

    async def _on_message(self, data: dict[str, Any]) -> None:
        if data.get("role") == "customer":
            return  # our own message, as another tab would see it
        self.messages.append(data)
        self.last_message_at = time.monotonic()

    async def _on_typing(self, data: dict[str, Any]) -> None:
        if data.get("role") == "bot":
            self.typing_on = data.get("on") is True
            if not self.typing_on:
                self.typing_off_at = time.monotonic()

    async def _on_handoff(self, data: dict[str, Any]) -> None:
        self.handoffs.append(data)

    async def connect(self, identity: str | None) -> None:
        auth = {"identity": identity} if identity else {}
        try:
            await self.sio.connect(
                self.base_url, namespaces=["/chat"], auth=auth, transports=["websocket"], wait_timeout=10
            )
            await asyncio.wait_for(self._ready.wait(), 10)
        except (socketio.exceptions.ConnectionError, asyncio.TimeoutError) as exc:
            raise RunnerError(f"could not connect to /chat: {exc!r}") from exc

    async def send(self, text: str, payload: str | None = None) -> None:
        data: dict[str, Any] = {"client_msg_id": uuid.uuid4().hex, "text": text}
        if payload is not None:
            data["payload"] = payload
        for _ in range(5):
            ack = await self.sio.call("message", data, namespace="/chat", timeout=10)
            if isinstance(ack, dict) and "seq" in ack:
                return
            if isinstance(ack, dict) and ack.get("retry"):
                await asyncio.sleep(1.0)
                continue
            raise RunnerError(f"message refused: {ack!r}")
        raise RunnerError("message refused: rate-limited five times")

    async def burst(self, since: int) -> list[dict[str, Any]]:
        """The bot's answer to the message just sent: everything until the chat goes quiet."""
        sent_at = time.monotonic()
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            if len(self.messages) > since:
                quiet = now - self.last_message_at
                typed_then_answered = (
                    self.typing_off_at > sent_at and self.last_message_at >= self.typing_off_at and not self.typing_on
                )
                if quiet >= QUIET or (typed_then_answered and quiet >= FAST_QUIET):
                    return self.messages[since:]
            if now - sent_at > TURN_TIMEOUT:
                return self.messages[since:]

    async def close(self) -> None:
        try:
            await self.sio.disconnect()
        except Exception:  # noqa: BLE001, S110 - closing after a failure
            pass


@dataclass
class Progress:
    """What the customer said and was asked so far in one conversation."""

    stated: set[str]
    answered: dict[str, int] = field(default_factory=dict)  # fact-sheet answers sent, per key
    times_asked: dict[str, int] = field(default_factory=dict)
    tickets: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    courses: int = 0
    confirm_texts: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)  # registered before any «¿Es correcto?»


class Runner:
    """Plays conversations against one running system (base URL of the backend)."""

    def __init__(self, base_url: str, *, verbose: bool = False, out: Any = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.verbose = verbose
        self.out = out or sys.stdout
        self._supervisor: str | None = None

    # -- REST helpers --

    async def _supervisor_headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        if self._supervisor is None:
            response = await http.post(
                "/api/v1/auth/login", json={"email": SUPERVISOR_EMAIL, "password": SUPERVISOR_PASSWORD}
            )
            if response.status_code != 200:
                raise RunnerError(f"supervisor login failed: HTTP {response.status_code} {response.text[:200]}")
            self._supervisor = str(response.json()["token"])
        return {"Authorization": f"Bearer {self._supervisor}"}

    async def _get(self, http: httpx.AsyncClient, path: str, **params: Any) -> Any:
        response = await http.get(path, params=params or None, headers=await self._supervisor_headers(http))
        if response.status_code != 200:
            raise RunnerError(f"GET {path} → HTTP {response.status_code} {response.text[:200]}")
        return response.json()

    async def open_tickets(self, http: httpx.AsyncClient, customer: str) -> list[dict[str, Any]]:
        data = await self._get(http, "/api/v1/tickets", customer=customer, status=OPEN_STATUSES, limit=200)
        return list(data["items"])

    async def resolve_open_tickets(self, http: httpx.AsyncClient) -> None:
        """Earlier conversations must not trigger duplicate offers: resolve every open demo ticket."""
        headers = await self._supervisor_headers(http)
        for customer in DEMO_CUSTOMERS:
            for ticket in await self.open_tickets(http, customer):
                response = await http.patch(
                    f"/api/v1/tickets/{ticket['number']}",
                    json={"status": "resolved", "resolution": "Resuelto por el simulador de conversaciones."},
                    headers=headers,
                )
                if response.status_code != 200:
                    raise RunnerError(
                        f"could not resolve {ticket['number']}: HTTP {response.status_code} {response.text[:200]}"
                    )

    async def training_ids(self, http: httpx.AsyncClient, customer: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = await self._get(http, "/api/v1/training-requests", customer=customer, limit=200, offset=len(items))
            items.extend(page["items"])
            if len(page["items"]) < 200:
                return items

    async def mailbox_ids(self, http: httpx.AsyncClient, email: str) -> set[int]:
        response = await http.get("/demo/api/mailbox", params={"to": email})
        if response.status_code != 200:
            raise RunnerError(f"demo mailbox: HTTP {response.status_code}")
        return {int(item["id"]) for item in response.json()["items"]}

    async def read_code(self, http: httpx.AsyncClient, email: str, seen: set[int]) -> str:
        """The one-time code of the newest verification e-mail sent to `email` during this conversation."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            response = await http.get("/demo/api/mailbox", params={"to": email})
            for item in response.json()["items"]:
                if int(item["id"]) in seen:
                    continue
                found = OTP_RE.search(f"{item.get('subject', '')} {item.get('body', '')}")
                if found:
                    seen.add(int(item["id"]))
                    return found.group(1)
            await asyncio.sleep(0.3)
        raise RunnerError(f"no verification code reached {email} in the demo mailbox within 10 s")

    async def create_setup_ticket(self, http: httpx.AsyncClient, conv: Conversation, spec: dict[str, Any]) -> str:
        spec = dict(spec)
        contact = spec.pop("contact", conv.email)
        status = spec.pop("status", None)
        body = {"type": "network_outage", "title": "Tiquete previo", "description": "Tiquete previo", **spec}
        # As the contact itself (a demo widget identity): the service token acts for a contact only with
        # the conversation token the backend gives Rasa (docs/security.md).
        identity = await http.post("/demo/identity", json={"contact": contact})
        if identity.status_code != 200:
            raise RunnerError(f"setup ticket: demo identity for {contact}: HTTP {identity.status_code}")
        response = await http.post(
            "/api/v1/tickets",
            json=body,
            headers={"Authorization": f"Bearer {identity.json()['token']}"},
        )
        if response.status_code not in (200, 201):
            raise RunnerError(f"setup ticket: HTTP {response.status_code} {response.text[:300]}")
        number = str(response.json()["number"])
        if status:
            patch = await http.patch(
                f"/api/v1/tickets/{number}",
                json={"status": status, "resolution": "Resuelto antes de la conversación."},
                headers=await self._supervisor_headers(http),
            )
            if patch.status_code != 200:
                raise RunnerError(f"setup ticket status: HTTP {patch.status_code} {patch.text[:300]}")
        return number

    # -- playing --

    async def play(self, conv: Conversation) -> Result:
        result = Result(conv.name, conv.theme)
        started = time.monotonic()
        try:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=20) as http:
                if not conv.keep_state:
                    await self.resolve_open_tickets(http)
                setup_numbers: list[str] = []
                for i, step in enumerate(conv.setup):
                    if "ticket" in step:
                        setup_numbers.append(await self.create_setup_ticket(http, conv, step["ticket"]))
                    else:
                        prior = self._prior(conv, step["conversation"], i)
                        prior_result = Result(prior.name, prior.theme)
                        seen = await self.mailbox_ids(http, prior.email)
                        await self._converse(http, prior, prior_result, seen)
                        if not prior_result.tickets:
                            raise RunnerError(f"setup conversation registered no ticket: {prior_result.one_line()}")
                        setup_numbers.append(prior_result.tickets[-1])
                before_open = {t["number"] for t in await self.open_tickets(http, conv.customer_code)}
                before_training = {int(t["id"]) for t in await self.training_ids(http, conv.customer_code)}
                began = datetime.now(timezone.utc)
                mailbox_seen = await self.mailbox_ids(http, conv.email)
                progress = await self._converse(http, conv, result, mailbox_seen)
                await self._annotate(http, result)
                await self._verify(http, conv, result, progress, setup_numbers, before_open, before_training, began)
        except RunnerError as exc:
            result.fail(f"[runner] {exc}")
        except (httpx.HTTPError, socketio.exceptions.SocketIOError, OSError) as exc:
            result.fail(f"[runner] {exc!r}")
        result.seconds = time.monotonic() - started
        if self.verbose:
            self.out.write(f"\n=== {conv.name} ({conv.theme})\n{result.render_transcript()}\n")
        return result

    def _prior(self, conv: Conversation, raw: dict[str, Any], index: int) -> Conversation:
        data = {"name": f"{conv.name}/setup{index}", "customer": conv.customer or "anonymous", **raw}
        if conv.anonymous:
            data.setdefault("customer_code", conv.customer_code)
            data.setdefault("email", conv.email)
        data.setdefault("expect", {"ticket": {}})
        return parse_conversation(data, theme=conv.theme, source=conv.source)

    async def _converse(
        self, http: httpx.AsyncClient, conv: Conversation, result: Result, mailbox_seen: set[int]
    ) -> Progress:
        identity = None
        if conv.customer is not None:
            response = await http.post("/demo/identity", json={"contact": conv.customer})
            if response.status_code != 200:
                raise RunnerError(f"demo identity for {conv.customer}: HTTP {response.status_code}")
            identity = str(response.json()["token"])
        progress = Progress(stated=set(conv.stated) | (set(IDENTITY_KEYS) if identity else set()))
        chat = ChatSocket(self.base_url)
        await chat.connect(identity)
        try:
            result.conversation_id = str(chat.session.get("conversation_id"))
            await asyncio.sleep(0.3)  # a resumed conversation would replay its history now
            if chat.messages:
                raise RunnerError(f"connected to an existing conversation ({len(chat.messages)} old messages)")
            await self._dialogue(http, conv, result, progress, chat, mailbox_seen)
            result.tickets = list(progress.tickets)
            return progress
        finally:
            await chat.close()

    def _needed(self, conv: Conversation) -> set[str]:
        expect = conv.expect
        needed = set()
        if expect.get("ticket") is not None:
            needed.add("ticket")
        if expect.get("comment_on"):
            needed.add("comment")
        if expect.get("training"):
            needed.add("training")
        if expect.get("handoff"):
            needed.add("handoff")
        return needed

    def _reached(self, conv: Conversation, progress: Progress, chat: ChatSocket) -> bool:
        needed = self._needed(conv)
        have = set()
        if progress.tickets:
            have.add("ticket")
        if progress.comments:
            have.add("comment")
        if progress.courses >= len(conv.expect.get("training") or []) > 0:
            have.add("training")
        if chat.handoffs:
            have.add("handoff")
        return bool(needed) and needed <= have

    async def _exchange(
        self,
        conv: Conversation,
        result: Result,
        progress: Progress,
        chat: ChatSocket,
        text: str,
        payload: str | None = None,
    ) -> list[dict[str, Any]]:
        if result.turns >= HARD_TURN_CAP:
            raise RunnerError(f"more than {HARD_TURN_CAP} customer messages: stopped")
        since = len(chat.messages)
        result.turns += 1
        entry: dict[str, Any] = {"role": "customer", "text": text}
        if payload is not None:
            entry["payload"] = payload
        result.transcript.append(entry)
        await chat.send(text, payload)
        burst = await chat.burst(since)
        for message in burst:
            body = str(message.get("text") or "")
            result.transcript.append(
                {"role": message.get("role", "bot"), "text": body, "buttons": message.get("buttons") or None}
            )
            registered = [n for n in TICKET_RE.findall(body) if n not in progress.tickets]
            progress.tickets += registered
            progress.comments += COMMENT_RE.findall(body)
            courses = len(TRAINING_RE.findall(body))
            progress.courses += courses
            if (registered or courses) and not progress.times_asked.get("confirm"):
                what = ", ".join(registered) if registered else "la solicitud de curso"
                progress.unconfirmed.append(what)
        return burst

    async def _dialogue(
        self,
        http: httpx.AsyncClient,
        conv: Conversation,
        result: Result,
        progress: Progress,
        chat: ChatSocket,
        mailbox_seen: set[int],
    ) -> None:
        burst: list[dict[str, Any]] = []
        for text in conv.opening:
            burst = await self._exchange(conv, result, progress, chat, text)
            if not burst:
                result.fail(f"[assistant] no answer within {TURN_TIMEOUT:.0f} s to «{text}»")
                return
        pending: tuple[str, Reply] | None = None  # a digression waiting for its question to come back
        while True:
            if not burst:
                result.fail(f"[assistant] no answer within {TURN_TIMEOUT:.0f} s")
                return
            texts = [str(m.get("text") or "") for m in burst]
            bot = [m for m in burst if m.get("role") == "bot"] or burst
            last = bot[-1]
            last_text = str(last.get("text") or "")
            key = question_key(last_text)
            if pending is not None:
                wanted, reply = pending
                pending = None
                if reply.expect_again and key != wanted:
                    result.fail(
                        f"[assistant] after «{reply.describe()}» expected «{wanted}» again, got «{short(last_text)}»"
                    )
                for needle in reply.expect_reply:
                    if not any(norm(needle) in norm(t) for t in texts):
                        result.fail(f"[assistant] after «{reply.describe()}» no reply containing «{needle}»")
            if self._reached(conv, progress, chat):
                return
            if key is None:
                if self._needed(conv):
                    result.fail(f"[assistant] unrecognised question (nothing registered yet): «{short(last_text)}»")
                return
            result.transcript[-len(burst) + burst.index(last)]["key"] = key
            result.asked.append(key)
            asked_before = progress.times_asked.get(key, 0)
            progress.times_asked[key] = asked_before + 1
            if asked_before + 1 > SAME_QUESTION_CAP:
                result.fail(f"[assistant] «{key}» asked {asked_before + 1} times: stopped")
                return
            if key == "confirm":
                progress.confirm_texts.append("\n".join(texts))
            facts_for_key = conv.facts.get(key) or [Reply(say="sí")]
            redundant = key in progress.stated or progress.answered.get(key, 0) >= len(facts_for_key)
            if redundant:
                result.redundant.append({"key": key, "text": last_text})
            try:
                reply, scripted = await self._reply_for(http, conv, progress, key, asked_before, mailbox_seen)
            except LookupError:
                derived = derived_fact(conv, key)
                if derived is None:
                    result.fail(f"[fact sheet] no answer for «{key}»: «{short(last_text)}»")
                    return
                # Asked for something already said: the customer says it again, as the expectation has it.
                reply, scripted = Reply(say=derived), True
            if not scripted:
                progress.answered[key] = progress.answered.get(key, 0) + 1
            progress.stated.update(reply.states)
            for reopened in reply.reopens:
                progress.stated.discard(reopened)
                progress.answered.pop(reopened, None)
            if reply.expect_again or reply.expect_reply:
                pending = (key, reply)
            answer, payload = self._message_for(reply, last)
            if answer is None:
                result.fail(f"[assistant] no button «{reply.press}» in «{short(last_text)}» {last.get('buttons')}")
                return
            burst = await self._exchange(conv, result, progress, chat, answer, payload)

    async def _reply_for(
        self,
        http: httpx.AsyncClient,
        conv: Conversation,
        progress: Progress,
        key: str,
        asked_before: int,
        mailbox_seen: set[int],
    ) -> tuple[Reply, bool]:
        scripted = conv.script.get(key) or []
        if asked_before < len(scripted) and scripted[asked_before] is not None:
            entry = scripted[asked_before]
            assert entry is not None
            return entry, True
        facts = conv.facts.get(key)
        if facts:
            return facts[min(progress.answered.get(key, 0), len(facts) - 1)], False
        if key == "confirm":
            return Reply(say="sí"), False
        if key == "customer_code":
            return Reply(say=conv.customer_code), False
        if key == "contact_email":
            return Reply(say=conv.email), False
        if key == "otp_code":
            return Reply(say=await self.read_code(http, conv.email, mailbox_seen)), False
        raise LookupError(key)

    @staticmethod
    def _message_for(reply: Reply, question: dict[str, Any]) -> tuple[str | None, str | None]:
        """The text (and button payload) to send: a pressed button when it is offered, else the typed text."""
        if reply.press is not None:
            for button in question.get("buttons") or []:
                if reply.press in (button.get("payload"), button.get("title")) or norm(reply.press) == norm(
                    str(button.get("title", ""))
                ):
                    return str(button.get("title") or reply.press), str(button.get("payload") or "") or None
        return reply.say, None

    async def _annotate(self, http: httpx.AsyncClient, result: Result) -> None:
        """Add the NLU's intent and confidence to the customer's lines of the transcript (for people)."""
        if not result.conversation_id:
            return
        try:
            detail = await self._get(http, f"/api/v1/conversations/{result.conversation_id}")
        except RunnerError:
            return
        parsed = [m for m in detail.get("messages", []) if m.get("role") == "customer"]
        mine = [e for e in result.transcript if e["role"] == "customer"]
        for entry, message in zip(mine, parsed, strict=False):
            if message.get("intent"):
                entry["intent"], entry["confidence"] = message["intent"], message.get("confidence")

    # -- verdict --

    async def _verify(
        self,
        http: httpx.AsyncClient,
        conv: Conversation,
        result: Result,
        progress: Progress,
        setup_numbers: list[str],
        before_open: set[str],
        before_training: set[int],
        began: datetime,
    ) -> None:
        expect = conv.expect
        new_open = sorted(
            t["number"] for t in await self.open_tickets(http, conv.customer_code) if t["number"] not in before_open
        )
        new_tickets = sorted(set(new_open) | set(progress.tickets))
        ticket_expect = expect.get("ticket")
        if ticket_expect is not None:
            if not progress.tickets:
                result.fail("[assistant] no ticket registered (no «registré su tiquete PL-…»)")
            else:
                number = progress.tickets[-1]
                ticket = await self._get(http, f"/api/v1/tickets/{number}")
                result.ticket = {k: v for k, v in ticket.items() if k != "history"}
                tz = ZoneInfo(await self._timezone(http, result, conv))
                for problem in check_ticket(ticket_expect, ticket, conv, tz, began, setup_numbers, result):
                    result.fail(f"[assistant] {number} {problem}")
            if len(new_tickets) > 1:
                result.fail(f"[assistant] {len(new_tickets)} tickets registered: {', '.join(new_tickets)}")
        elif new_tickets:
            result.fail(f"[assistant] unexpected ticket(s) registered: {', '.join(new_tickets)}")
        comment = expect.get("comment_on")
        if comment:
            target = setup_numbers[int(comment.get("setup", 0))] if setup_numbers else None
            if target is None:
                raise RunnerError("comment_on needs a setup ticket")
            if target not in progress.comments:
                result.fail(f"[assistant] no «Agregué la información al tiquete {target}» (got {progress.comments})")
            ticket = await self._get(http, f"/api/v1/tickets/{target}")
            needle = norm(str(comment.get("contains", "")))
            texts = [norm(str(e.get("text") or "")) for e in ticket.get("history", []) if e.get("kind") != "created"]
            if not any(needle in t for t in texts):
                result.fail(f"[assistant] {target} has no added information containing «{comment.get('contains')}»")
        if expect.get("training") is not None:
            rows = [r for r in await self.training_ids(http, conv.customer_code) if int(r["id"]) not in before_training]
            for problem in check_training(expect["training"], rows):
                result.fail(f"[assistant] {problem}")
            if progress.courses != len(expect["training"]):
                result.fail(
                    f"[assistant] {progress.courses} «Registré su solicitud de curso» message(s), "
                    f"expected {len(expect['training'])}"
                )
        if "handoff" in expect:
            mode = await self._mode(http, result)
            handed = mode in ("queued", "human")
            if bool(expect["handoff"]) != handed:
                result.fail(f"[assistant] handoff expected {bool(expect['handoff'])}, conversation mode is {mode}")
        for needle in expect.get("replies") or []:
            if not any(norm(needle) in norm(e["text"]) for e in result.transcript if e["role"] != "customer"):
                result.fail(f"[assistant] no reply containing «{needle}»")
        for what in progress.unconfirmed:
            result.fail(f"[assistant] registered {what} without a confirmation («¿Es correcto?»)")
        for text in progress.confirm_texts:
            if "voy a registrar" not in norm(text):
                result.fail("[assistant] the confirmation has no «Voy a registrar …» summary")
                break
        for needle in expect.get("summary_contains") or []:
            if not any(norm(str(needle)) in norm(t) for t in progress.confirm_texts):
                result.fail(f"[assistant] the summary does not show «{needle}»")
        for key in dict.fromkeys(item["key"] for item in result.redundant):
            texts = [item["text"] for item in result.redundant if item["key"] == key]
            times = f" ×{len(texts)}" if len(texts) > 1 else ""
            result.fail(f"[assistant] redundant question «{key}»{times}: «{short(texts[0])}»")
        if conv.max_turns is not None and result.turns > conv.max_turns:
            result.fail(f"[assistant] {result.turns} turns, at most {conv.max_turns} expected")
        if conv.asked is not None:
            same = result.asked == conv.asked if conv.asked_in_order else sorted(result.asked) == sorted(conv.asked)
            if not same:
                result.fail(f"[assistant] asked {result.asked}, expected {conv.asked}")
        for key in conv.not_asked:
            if key in result.asked:
                result.fail(f"[assistant] asked «{key}», which it should not")

    async def _timezone(self, http: httpx.AsyncClient, result: Result, conv: Conversation) -> str:
        try:
            detail = await self._get(http, f"/api/v1/conversations/{result.conversation_id}")
            return str((detail.get("customer") or {}).get("timezone") or conv.timezone)
        except RunnerError:
            return conv.timezone

    async def _mode(self, http: httpx.AsyncClient, result: Result) -> str | None:
        detail = await self._get(http, f"/api/v1/conversations/{result.conversation_id}")
        return (detail.get("conversation") or {}).get("mode")


KIND_TEXTS = {
    "network_outage": "la red está caída",
    "software_bug": "una falla del software",
    "hardware_failure": "un equipo dañado",
    "configuration": "necesito ayuda para configurar",
    "enhancement": "una mejora",
    "special_development": "un desarrollo especial",
}


def derived_fact(conv: Conversation, key: str) -> str | None:
    """What a customer who already said it would answer, from the conversation's expectation.

    Used when the fact sheet has no answer for a question: mostly something the customer already said
    (`stated`), which the customer then repeats (and the question counts as redundant).
    """
    ticket = conv.expect.get("ticket") or {}
    facts = ticket.get("facts") or {}
    courses = conv.expect.get("training") or [{}]
    yes_no = {True: "sí", False: "no"}
    since = ticket.get("since") or {}
    if key == "description":
        return max(conv.opening, key=len)
    if key == "problem_kind":
        kind = ticket.get("type")
        return KIND_TEXTS.get(kind[0] if isinstance(kind, list) else str(kind))
    if key == "device":
        return ticket.get("device") or ticket.get("device_text")
    if key == "serial_number":
        return ticket.get("serial")
    if key in ("version", "error_message"):
        return ticket.get(key)
    if key in ("production_down", "solution_available", "most_operations_proceed") and key in facts:
        return yes_no[bool(facts[key])]
    if key in ("production_down", "solution_available", "most_operations_proceed") and ticket.get("priority") == 1:
        return yes_no[key == "production_down"]  # P1: production down, no workaround
    if key == "since":
        if "local_time" in since:
            return f"desde las {since['local_time']}"
        if "ago_minutes" in since:
            return f"desde hace {since['ago_minutes']} minutos"
        if "days_ago" in since:
            return {1: "desde ayer", 2: "desde antier"}.get(int(since["days_ago"]))
        if "weekday" in since:
            return f"desde el {since['weekday']}"
    if key == "attendees" and "attendees" in courses[0]:
        return str(sum(int(c.get("attendees", 0)) for c in courses))
    if key == "training_date" and "date" in courses[0]:
        return str(courses[0]["date"])
    if key == "training_site" and "site" in courses[0]:
        return str(courses[0]["site"])
    if key == "facilities" and "facilities" in courses[0]:
        names = {"room": "sala", "projector": "proyector", "whiteboard": "pizarra"}
        missing = [
            names.get(k, "áreas de trabajo con internet")
            for k, present in courses[0]["facilities"].items()
            if not present
        ]
        return "sí, tenemos todo" if not missing else "no todo, falta: " + ", ".join(missing)
    if key == "customer_code":
        return conv.customer_code
    if key == "contact_email":
        return conv.email
    return None


# The questions an assistant may reasonably ask for each kind of request (the set must answer them).
LIKELY_QUESTIONS = {
    "network_outage": (
        "description",
        "device",
        "since",
        "production_down",
        "most_operations_proceed",
        "solution_available",
    ),
    "software_bug": (
        "description",
        "device",
        "version",
        "error_message",
        "since",
        "production_down",
        "most_operations_proceed",
        "solution_available",
    ),
    "hardware_failure": (
        "description",
        "device",
        "serial_number",
        "production_down",
        "most_operations_proceed",
        "solution_available",
    ),
    "configuration": ("description",),
    "enhancement": ("description",),
    "special_development": ("description",),
    "training": ("attendees", "training_date", "training_site", "facilities"),
}


def unanswered(conv: Conversation) -> list[str]:
    """Questions likely asked in this conversation that neither its facts nor its expectation answer."""
    ticket = conv.expect.get("ticket")
    if conv.expect.get("training"):
        kinds = ["training"]
    elif ticket is not None:
        kind = ticket.get("type", "network_outage")
        kinds = kind if isinstance(kind, list) else [kind]
    elif conv.expect.get("comment_on"):
        kinds = ["network_outage"]
    else:
        return []
    keys = dict.fromkeys(k for kind in kinds for k in LIKELY_QUESTIONS.get(kind, ())) | dict.fromkeys(conv.stated)
    return [k for k in keys if k not in conv.facts and k not in conv.script and derived_fact(conv, k) is None]


# --- Field checks --------------------------------------------------------------------------------


def _version(value: Any) -> str:
    text = strip_accents(norm(str(value or "")))
    text = re.sub(r"^(la\s+)?(version\s*)?v?\s*", "", text)
    return text.strip(" .")


def _serial(value: Any) -> str:
    return re.sub(r"\s+", "", norm(str(value or "")))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def check_since(expect: Any, value: Any, tz: ZoneInfo, began: datetime) -> str | None:
    """None when the ticket's `since` (ISO UTC) matches the expectation, else the problem."""
    since = _parse_time(value)
    if since is None:
        return f"since is {value!r}, expected {expect}"
    local = since.astimezone(tz)
    now_local = began.astimezone(tz)
    if not isinstance(expect, dict):
        return f"unknown since expectation {expect!r}"
    if "local_time" in expect:
        hour, minute = (int(x) for x in str(expect["local_time"]).split(":"))
        wanted = now_local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if wanted > now_local:
            wanted -= timedelta(days=1)
        if abs((since - wanted).total_seconds()) > 60:
            return f"since {local:%Y-%m-%d %H:%M} local, expected {wanted:%Y-%m-%d %H:%M}"
    elif "ago_minutes" in expect:
        tolerance = float(expect.get("tolerance", 10))
        ago = (began - since).total_seconds() / 60
        if abs(ago - float(expect["ago_minutes"])) > tolerance:
            return f"since {ago:.0f} min before the conversation, expected {expect['ago_minutes']}±{tolerance:g}"
    elif "days_ago" in expect:
        days = (now_local.date() - local.date()).days
        if days != int(expect["days_ago"]):
            return f"since {local:%Y-%m-%d} ({days} days ago), expected {expect['days_ago']} days ago"
    elif "weekday" in expect:
        wanted_day = strip_accents(norm(str(expect["weekday"])))
        days = (now_local.date() - local.date()).days
        if WEEKDAYS[local.weekday()] != wanted_day or not 0 <= days <= 7:
            return f"since {local:%Y-%m-%d} ({WEEKDAYS[local.weekday()]}), expected the last {expect['weekday']}"
    else:
        return f"unknown since expectation {expect!r}"
    return None


def check_ticket(
    expect: dict[str, Any],
    ticket: dict[str, Any],
    conv: Conversation,
    tz: ZoneInfo,
    began: datetime,
    setup_numbers: list[str],
    result: Result,
) -> list[str]:
    """Every difference between the stored ticket and the expectation."""
    problems: list[str] = []

    def differs(name: str, got: Any, wanted: Any) -> None:
        problems.append(f"{name} is {got!r}, expected {wanted!r}")

    for name in ("type", "priority", "tier"):
        if name in expect:
            wanted = expect[name]
            options = wanted if isinstance(wanted, list) else [wanted]
            if ticket.get(name) not in options:
                differs(name, ticket.get(name), wanted)
    if ticket.get("customer") != conv.customer_code:
        differs("customer", ticket.get("customer"), conv.customer_code)
    if ticket.get("contact") and norm(str(ticket["contact"])) != norm(conv.email):
        differs("contact", ticket.get("contact"), conv.email)
    if "conversation_id" in ticket and ticket["conversation_id"] != result.conversation_id:
        differs("conversation_id", ticket.get("conversation_id"), result.conversation_id)
    if "device" in expect and ticket.get("device") != expect["device"]:
        differs("device", ticket.get("device"), expect["device"])
    if "device_text" in expect and norm(str(expect["device_text"])) not in norm(str(ticket.get("device_text") or "")):
        differs("device_text", ticket.get("device_text"), expect["device_text"])
    if "serial" in expect and _serial(ticket.get("serial")) != _serial(expect["serial"]):
        differs("serial", ticket.get("serial"), expect["serial"])
    if "version" in expect and _version(ticket.get("version")) != _version(expect["version"]):
        differs("version", ticket.get("version"), expect["version"])
    if "error_message" in expect and norm(str(expect["error_message"])) not in norm(
        str(ticket.get("error_message") or "")
    ):
        differs("error_message", ticket.get("error_message"), expect["error_message"])
    if "since" in expect:
        problem = check_since(expect["since"], ticket.get("since"), tz, began)
        if problem:
            problems.append(problem)
    for name, wanted in (expect.get("facts") or {}).items():
        got = (ticket.get("facts") or {}).get(name)
        if got != wanted:
            differs(f"facts.{name}", got, wanted)
    if "covered" in expect and ticket.get("covered") != expect["covered"]:
        differs("covered", ticket.get("covered"), expect["covered"])
    if "rma" in expect:
        rma, wanted = ticket.get("rma"), expect["rma"]
        if wanted is None or wanted is False:
            if rma:
                differs("rma", rma, None)
        elif not isinstance(rma, dict):
            differs("rma", rma, wanted)
        else:
            if "serial" in wanted and _serial(rma.get("serial")) != _serial(wanted["serial"]):
                differs("rma.serial", rma.get("serial"), wanted["serial"])
            if "device" in wanted and rma.get("device") != wanted["device"]:
                differs("rma.device", rma.get("device"), wanted["device"])
    if "bug" in expect:
        bug, wanted = ticket.get("bug"), expect["bug"]
        if wanted is None or wanted is False:
            if bug:
                differs("bug", bug, None)
        elif not isinstance(bug, dict):
            differs("bug", bug, wanted)
        elif "version" in wanted and _version(bug.get("version")) != _version(wanted["version"]):
            differs("bug.version", bug.get("version"), wanted["version"])
    if "related_ticket" in expect:
        wanted = expect["related_ticket"]
        if isinstance(wanted, str) and wanted.startswith("setup"):
            index = int(wanted.partition(":")[2] or 0)
            wanted = setup_numbers[index] if index < len(setup_numbers) else None
        got = ticket.get("related_ticket")
        if isinstance(got, dict):
            got = got.get("number")
        if got != wanted:
            differs("related_ticket", got, wanted)
    for name in ("description_contains", "title_contains"):
        field_name = name.split("_")[0]
        needles = expect.get(name) or []
        for needle in [needles] if isinstance(needles, str) else needles:
            if norm(str(needle)) not in norm(str(ticket.get(field_name) or "")):
                differs(field_name, ticket.get(field_name), f"… {needle} …")
    return problems


def _course_problems(wanted: dict[str, Any], row: dict[str, Any]) -> list[str]:
    problems = []
    if "attendees" in wanted and row.get("attendees") != wanted["attendees"]:
        problems.append(f"attendees {row.get('attendees')} ≠ {wanted['attendees']}")
    if "date" in wanted and row.get("requested_date") != str(wanted["date"]):
        problems.append(f"date {row.get('requested_date')} ≠ {wanted['date']}")
    if "site" in wanted and norm(str(wanted["site"])) not in norm(str(row.get("site") or "")):
        problems.append(f"site «{row.get('site')}» lacks «{wanted['site']}»")
    for name, flag in (wanted.get("facilities") or {}).items():
        if (row.get("facilities") or {}).get(name) != flag:
            problems.append(f"facilities.{name} {(row.get('facilities') or {}).get(name)} ≠ {flag}")
    if "missing" in wanted and sorted(row.get("missing_facilities") or []) != sorted(wanted["missing"]):
        problems.append(f"missing {row.get('missing_facilities')} ≠ {wanted['missing']}")
    return problems


def check_training(expected: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[str]:
    """The new training requests must be exactly the expected ones (in any order)."""
    if len(rows) != len(expected):
        found = [f"{r.get('attendees')} on {r.get('requested_date')}" for r in rows]
        return [f"{len(rows)} training request(s) registered {found}, expected {len(expected)}"]
    if not rows:
        return []
    best: list[str] | None = None
    for order in itertools.permutations(rows):
        problems = [
            f"course {i + 1}: {p}"
            for i, (w, r) in enumerate(zip(expected, order, strict=True))
            for p in _course_problems(w, r)
        ]
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    return best or []


# --- Summary and command line --------------------------------------------------------------------


def summary_line(results: list[Result]) -> str:
    right = sum(1 for r in results if r.ok)
    redundant = sum(len(r.redundant) for r in results)
    return f"conversations right {right}/{len(results)}, redundant questions {redundant}"


def write_report(results: list[Result], path: Path = REPORT_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "summary": summary_line(results),
        "right": sum(1 for r in results if r.ok),
        "total": len(results),
        "redundant_questions": sum(len(r.redundant) for r in results),
        "conversations": [r.as_json() for r in results],
    }
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


def select(conversations: list[Conversation], only: str | None, theme: str | None) -> list[Conversation]:
    chosen = conversations
    if only:
        chosen = [c for c in chosen if only.lower() in c.name.lower()]
    if theme:
        chosen = [c for c in chosen if c.theme == theme]
    return chosen


async def main_async(args: argparse.Namespace) -> int:
    conversations = select(load_sets(Path(args.sets)), args.only, args.theme)
    if args.list:
        for conv in conversations:
            print(f"{conv.theme:20} {conv.name}")
        return 0
    runner = Runner(args.base_url, verbose=args.verbose)
    results = []
    for conv in conversations:
        result = await runner.play(conv)
        results.append(result)
        verdict = "ok  " if result.ok else "FAIL"
        print(f"{verdict} {conv.theme:18} {result.one_line()}  ({result.turns} turns, {result.seconds:.0f} s)")
        sys.stdout.flush()
    print(summary_line(results))
    if args.json:
        write_report(results, Path(args.json))
    return 0 if all(r.ok for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Play the conversation test set against a running system.")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--only", help="play the conversations whose name contains this text")
    parser.add_argument("--theme", help="play one theme (file) only, e.g. outages")
    parser.add_argument("--verbose", action="store_true", help="print each conversation's transcript")
    parser.add_argument("--json", help="also write the JSON report to this path")
    parser.add_argument("--sets", default=str(SETS_DIR), help="folder of the *.yml sets")
    parser.add_argument("--list", action="store_true", help="list the conversations and exit")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
