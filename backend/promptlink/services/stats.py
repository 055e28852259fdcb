"""Dashboard figures for administrators, computed in Python from portable queries.

Day buckets are UTC dates, computed here rather than in SQL so SQLite and PostgreSQL
give the same answer. Every figure is a table (columns + rows) so each can be exported
as CSV; docs/admin.md defines each one.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Conversation, ConversationEvent, Message, Ticket, TicketEvent
from promptlink.services.nlu_files import normalise
from promptlink.services.review import FALLBACK_INTENT, HUMAN_INTENT, HUMAN_PAYLOAD
from promptlink.vocabulary import CHANNELS, PRIORITIES, TIERS

TABLES = (
    "tickets_by_channel",
    "tickets_by_priority",
    "tickets_by_tier",
    "updates",
    "assistant",
    "handoffs",
    "waits",
    "satisfaction",
    "misunderstood",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Column headings as administrators read them (the dashboard's series names and the CSV headers).
CHANNEL_LABELS = {"chat": "Chat", "email": "Correo", "phone": "Teléfono", "snmp": "Alarma SNMP", "api": "API"}
PRIORITY_LABELS = {1: "P1 (crítica)", 2: "P2 (alta)", 3: "P3 (media)", 4: "P4 (baja)"}
LABELS: dict[str, dict[Any, str]] = {"tickets_by_channel": CHANNEL_LABELS, "tickets_by_priority": PRIORITY_LABELS}


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns, "rows": self.rows}


def _days(since: date, until: date) -> list[str]:
    return [(since + timedelta(days=i)).isoformat() for i in range((until - since).days + 1)]


def _per_day(items: list[tuple[str, str]], days: list[str], keys: list[str]) -> list[list[Any]]:
    counts = Counter(items)
    return [[day, *[counts[(day, key)] for key in keys]] for day in days]


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


async def dashboard(*, session: AsyncSession, now: datetime, days: int, threshold: float) -> dict[str, Table]:
    """Every dashboard table for the last `days` days (UTC, today included)."""
    since_day = (now - timedelta(days=days - 1)).date()
    since = datetime.combine(since_day, datetime.min.time(), tzinfo=now.tzinfo)
    day_list = _days(since_day, now.date())
    tables = await _tickets_per_day(session, since, day_list)
    tables["updates"] = await _updates(session, since, day_list)
    chats = await _chats(session, since)
    tables["assistant"] = _assistant(chats, day_list)
    tables["handoffs"] = _handoffs(chats, since)
    tables["waits"] = _waits(chats.conversations)
    tables["satisfaction"] = _satisfaction(chats.conversations)
    tables["misunderstood"] = await _misunderstood(session, since, threshold)
    return tables


async def _tickets_per_day(session: AsyncSession, since: datetime, day_list: list[str]) -> dict[str, Table]:
    """New tickets per day and channel, priority and tier."""
    tickets = list(await session.scalars(select(Ticket).where(Ticket.created_at >= since)))
    tables: dict[str, Table] = {}
    for name, attribute, keys, title in (
        ("tickets_by_channel", "channel", list(CHANNELS), "Tiquetes por día y canal"),
        ("tickets_by_priority", "priority", list(PRIORITIES), "Tiquetes por día y prioridad"),
        ("tickets_by_tier", "tier", list(TIERS), "Tiquetes por día y nivel"),
    ):
        items = [(t.created_at.date().isoformat(), getattr(t, attribute)) for t in tickets]
        labels: dict[Any, str] = LABELS.get(name, {})
        columns = ["Día", *[labels.get(k, str(k)) for k in keys]]
        tables[name] = Table(title, columns, _per_day(items, day_list, keys))  # type: ignore[arg-type]
    return tables


async def _updates(session: AsyncSession, since: datetime, day_list: list[str]) -> Table:
    """Customer updates per day against the breached ones (an update that came late)."""
    events = list(
        await session.scalars(
            select(TicketEvent).where(
                TicketEvent.at >= since, or_(TicketEvent.kind == "breach", TicketEvent.kind == "update")
            )
        )
    )
    updates = Counter(e.at.date().isoformat() for e in events if e.kind == "update" and e.public)
    breaches = Counter(e.at.date().isoformat() for e in events if e.kind == "breach")
    rows = []
    for day in day_list:
        due = updates[day] + breaches[day]
        rows.append([day, updates[day], breaches[day], round(100 * updates[day] / due, 1) if due else None])
    return Table(
        "Actualizaciones al cliente a tiempo", ["Día", "Actualizaciones", "Incumplimientos", "% a tiempo"], rows
    )


@dataclass
class _Chats:
    """The period's conversations, which of them the customer wrote in, and their events."""

    conversations: list[Conversation]
    talked: set[str]
    events: list[ConversationEvent]


async def _chats(session: AsyncSession, since: datetime) -> _Chats:
    conversations = list(await session.scalars(select(Conversation).where(Conversation.created_at >= since)))
    conv_ids = [c.id for c in conversations]
    talked: set[str] = set()
    conv_events: list[ConversationEvent] = []
    for chunk_start in range(0, len(conv_ids), 500):
        chunk = conv_ids[chunk_start : chunk_start + 500]
        talked |= set(
            await session.scalars(
                select(Message.conversation_id).where(Message.conversation_id.in_(chunk), Message.role == "customer")
            )
        )
        conv_events += list(
            await session.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id.in_(chunk)))
        )
    return _Chats(conversations, talked, conv_events)


def _assistant(chats: _Chats, day_list: list[str]) -> Table:
    """Conversations per day, and those the assistant resolved without queueing for a person."""
    queued_ids = {e.conversation_id for e in chats.events if e.kind == "queued"}
    queued_ids |= {c.id for c in chats.conversations if c.queued_at is not None}
    by_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in chats.conversations:
        if c.id not in chats.talked:
            continue
        day = c.created_at.date().isoformat()
        by_day[day][0] += 1
        if c.id not in queued_ids:
            by_day[day][1] += 1
    return Table(
        "Conversaciones resueltas sin una persona",
        ["Día", "Conversaciones", "Resueltas sin persona", "% sin persona"],
        [
            [d, by_day[d][0], by_day[d][1], round(100 * by_day[d][1] / by_day[d][0], 1) if by_day[d][0] else None]
            for d in day_list
        ],
    )


def _handoffs(chats: _Chats, since: datetime) -> Table:
    """Chats handed to a person (queued or transferred), per tier."""
    handoffs: Counter[str] = Counter()
    for e in chats.events:
        if e.kind in ("queued", "transferred") and e.created_at >= since:
            handoffs[e.tier or "?"] += 1
    for c in chats.conversations:  # chats queued before the event log existed
        if c.queued_at is not None and not any(e.conversation_id == c.id and e.kind == "queued" for e in chats.events):
            handoffs[c.tier or "?"] += 1
    return Table(
        "Traspasos a una persona por nivel",
        ["Nivel", "Traspasos"],
        [[tier, handoffs[tier]] for tier in TIERS] + ([["?", handoffs["?"]]] if handoffs["?"] else []),
    )


def _waits(conversations: list[Conversation]) -> Table:
    """How long queued chats waited for a person, per tier."""
    waits: dict[str, list[float]] = defaultdict(list)
    for c in conversations:
        if c.queued_at is not None and c.claimed_at is not None and c.claimed_at >= c.queued_at:
            waits[c.tier or "?"].append((c.claimed_at - c.queued_at).total_seconds())
    return Table(
        "Tiempo de espera hasta que una persona toma el chat (segundos)",
        ["Nivel", "Chats atendidos", "Mediana", "p90 (percentil 90)", "Máximo"],
        [
            [
                tier,
                len(waits[tier]),
                round(median(waits[tier]), 1) if waits[tier] else None,
                _percentile(waits[tier], 0.9),
                round(max(waits[tier]), 1) if waits[tier] else None,
            ]
            for tier in TIERS
        ],
    )


def _satisfaction(conversations: list[Conversation]) -> Table:
    ratings = Counter(c.rating for c in conversations if c.rating is not None)
    total = sum(ratings.values())
    return Table(
        "Satisfacción (valoración de 1 a 5 al cerrar el chat)",
        ["Valoración", "Respuestas", "%"],
        [[r, ratings[r], round(100 * ratings[r] / total, 1) if total else None] for r in (5, 4, 3, 2, 1)],
    )


async def _misunderstood(session: AsyncSession, since: datetime, threshold: float) -> Table:
    """The customer messages the assistant understood least, most frequent first."""
    weak = await _weak_messages(session, since, threshold)
    frequent: Counter[str] = Counter()
    sample: dict[str, str] = {}
    for m in weak:
        key = normalise(m.text)
        frequent[key] += 1
        sample.setdefault(key, m.text)
    return Table(
        "Mensajes mal entendidos más frecuentes",
        ["Mensaje", "Veces"],
        [[sample[key], n] for key, n in frequent.most_common(20)],
    )


async def _weak_messages(session: AsyncSession, since: datetime, threshold: float) -> list[Message]:
    """Messages below the confidence `threshold` or in the fallback, and each message right before
    a customer asked for a person."""
    weak = list(
        await session.scalars(
            select(Message).where(
                Message.created_at >= since,
                Message.role == "customer",
                Message.payload.is_(None),
                Message.intent.is_not(None),
                or_(Message.confidence < threshold, Message.intent == FALLBACK_INTENT),
            )
        )
    )
    for conversation_id, seq in await _asks_for_a_person(session, since):
        before = await session.scalar(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.seq < seq,
                Message.role == "customer",
                Message.payload.is_(None),
                Message.intent.is_not(None),
                Message.intent != HUMAN_INTENT,
            )
            .order_by(Message.seq.desc())
            .limit(1)
        )
        if before is not None and before.id not in {m.id for m in weak}:
            weak.append(before)
    return weak


async def _asks_for_a_person(session: AsyncSession, since: datetime) -> set[tuple[str, int]]:
    """(conversation, seq) of each customer message asking for a person."""
    return {
        (m.conversation_id, m.seq)
        for m in await session.scalars(
            select(Message).where(
                Message.created_at >= since,
                Message.role == "customer",
                or_(Message.intent == HUMAN_INTENT, Message.payload == HUMAN_PAYLOAD),
            )
        )
    }


def summary(tables: dict[str, Table]) -> dict[str, Any]:
    """Headline figures over the whole period."""
    updates = sum(r[1] for r in tables["updates"].rows)
    breaches = sum(r[2] for r in tables["updates"].rows)
    conversations = sum(r[1] for r in tables["assistant"].rows)
    bot_only = sum(r[2] for r in tables["assistant"].rows)
    ratings = {r[0]: r[1] for r in tables["satisfaction"].rows}
    answers = sum(ratings.values())
    return {
        "tickets": sum(sum(r[1:]) for r in tables["tickets_by_channel"].rows),
        "updates_on_time_pct": round(100 * updates / (updates + breaches), 1) if updates + breaches else None,
        "breaches": breaches,
        "solved_without_person_pct": round(100 * bot_only / conversations, 1) if conversations else None,
        "handoffs": sum(r[1] for r in tables["handoffs"].rows),
        "satisfaction_avg": round(sum(k * v for k, v in ratings.items()) / answers, 2) if answers else None,
        "ratings": answers,
    }


def csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()
