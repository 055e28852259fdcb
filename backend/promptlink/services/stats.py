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
    tables: dict[str, Table] = {}

    tickets = list(await session.scalars(select(Ticket).where(Ticket.created_at >= since)))
    for name, attribute, keys, title in (
        ("tickets_by_channel", "channel", ["chat", "email", "phone", "snmp", "api"], "Tiquetes por día y canal"),
        ("tickets_by_priority", "priority", [1, 2, 3, 4], "Tiquetes por día y prioridad"),
        ("tickets_by_tier", "tier", ["L1", "L2", "L3"], "Tiquetes por día y nivel"),
    ):
        items = [(t.created_at.date().isoformat(), getattr(t, attribute)) for t in tickets]
        columns = ["día", *[f"P{k}" if name == "tickets_by_priority" else str(k) for k in keys]]
        tables[name] = Table(title, columns, _per_day(items, day_list, keys))  # type: ignore[arg-type]

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
    tables["updates"] = Table(
        "Actualizaciones al cliente a tiempo", ["día", "actualizaciones", "incumplimientos", "% a tiempo"], rows
    )

    conversations = list(await session.scalars(select(Conversation).where(Conversation.created_at >= since)))
    conv_ids = [c.id for c in conversations]
    talked: set[str] = set()
    queued_ids: set[str] = set()
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
    queued_ids = {e.conversation_id for e in conv_events if e.kind == "queued"}
    queued_ids |= {c.id for c in conversations if c.queued_at is not None}
    by_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in conversations:
        if c.id not in talked:
            continue
        day = c.created_at.date().isoformat()
        by_day[day][0] += 1
        if c.id not in queued_ids:
            by_day[day][1] += 1
    tables["assistant"] = Table(
        "Conversaciones resueltas sin una persona",
        ["día", "conversaciones", "sin persona", "% sin persona"],
        [
            [d, by_day[d][0], by_day[d][1], round(100 * by_day[d][1] / by_day[d][0], 1) if by_day[d][0] else None]
            for d in day_list
        ],
    )

    handoffs: Counter[str] = Counter()
    for e in conv_events:
        if e.kind in ("queued", "transferred") and e.created_at >= since:
            handoffs[e.tier or "?"] += 1
    for c in conversations:  # chats queued before the event log existed
        if c.queued_at is not None and not any(e.conversation_id == c.id and e.kind == "queued" for e in conv_events):
            handoffs[c.tier or "?"] += 1
    tables["handoffs"] = Table(
        "Traspasos a una persona por nivel",
        ["nivel", "traspasos"],
        [[tier, handoffs[tier]] for tier in ("L1", "L2", "L3")] + ([["?", handoffs["?"]]] if handoffs["?"] else []),
    )

    waits: dict[str, list[float]] = defaultdict(list)
    for c in conversations:
        if c.queued_at is not None and c.claimed_at is not None and c.claimed_at >= c.queued_at:
            waits[c.tier or "?"].append((c.claimed_at - c.queued_at).total_seconds())
    tables["waits"] = Table(
        "Tiempo de espera hasta que una persona toma el chat (segundos)",
        ["nivel", "chats atendidos", "mediana", "p90", "máximo"],
        [
            [
                tier,
                len(waits[tier]),
                round(median(waits[tier]), 1) if waits[tier] else None,
                _percentile(waits[tier], 0.9),
                round(max(waits[tier]), 1) if waits[tier] else None,
            ]
            for tier in ("L1", "L2", "L3")
        ],
    )

    ratings = Counter(c.rating for c in conversations if c.rating is not None)
    total = sum(ratings.values())
    tables["satisfaction"] = Table(
        "Satisfacción (valoración de 1 a 5 al cerrar el chat)",
        ["valoración", "respuestas", "%"],
        [[r, ratings[r], round(100 * ratings[r] / total, 1) if total else None] for r in (5, 4, 3, 2, 1)],
    )

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
    asks = {
        (m.conversation_id, m.seq)
        for m in await session.scalars(
            select(Message).where(
                Message.created_at >= since,
                Message.role == "customer",
                or_(Message.intent == HUMAN_INTENT, Message.payload == HUMAN_PAYLOAD),
            )
        )
    }
    for conversation_id, seq in asks:
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
    frequent: Counter[str] = Counter()
    sample: dict[str, str] = {}
    for m in weak:
        key = normalise(m.text)
        frequent[key] += 1
        sample.setdefault(key, m.text)
    tables["misunderstood"] = Table(
        "Mensajes mal entendidos más frecuentes",
        ["mensaje", "veces"],
        [[sample[key], n] for key, n in frequent.most_common(20)],
    )
    return tables


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
