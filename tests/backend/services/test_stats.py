"""Dashboard figures on SQLite and PostgreSQL, and CSV that a spreadsheet will not execute."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

from promptlink.infra.db import transaction
from promptlink.models import Conversation, ConversationEvent, Message, Ticket, TicketEvent
from promptlink.services import stats

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _ticket(channel: str, priority: int, tier: str, at: datetime) -> Ticket:
    return Ticket(channel=channel, type="configuration", title="t", priority=priority, tier=tier, created_at=at)


def _conversation(at: datetime, **fields: object) -> Conversation:
    return Conversation(id=str(uuid.uuid4()), created_at=at, **fields)


async def _fill(sessions) -> None:
    async with transaction(sessions) as session:
        tickets = [
            _ticket("chat", 1, "L3", NOW - DAY),
            _ticket("chat", 3, "L1", NOW - DAY),
            _ticket("email", 2, "L2", NOW),
            _ticket("snmp", 1, "L3", NOW - 40 * DAY),  # outside 30 days
        ]
        session.add_all(tickets)
        await session.flush()
        session.add_all(
            [
                TicketEvent(ticket_id=tickets[0].id, at=NOW - DAY, kind="update", public=True, text="a"),
                TicketEvent(ticket_id=tickets[0].id, at=NOW - DAY, kind="update", public=True, text="b"),
                TicketEvent(ticket_id=tickets[0].id, at=NOW - DAY, kind="update", public=True, text="c"),
                TicketEvent(ticket_id=tickets[1].id, at=NOW - DAY, kind="breach", public=False, text="late"),
                TicketEvent(ticket_id=tickets[1].id, at=NOW, kind="note", public=False, text="ignored"),
            ]
        )
        bot_only = _conversation(NOW - DAY)
        queued = _conversation(
            NOW - DAY, tier="L2", queued_at=NOW - DAY, claimed_at=NOW - DAY + timedelta(seconds=90), rating=5
        )
        queued_l3 = _conversation(
            NOW, tier="L3", queued_at=NOW, claimed_at=NOW + timedelta(seconds=30), rating=2, mode="closed"
        )
        silent = _conversation(NOW)  # opened, never written in: not counted
        session.add_all([bot_only, queued, queued_l3, silent])
        await session.flush()
        session.add_all(
            [
                ConversationEvent(conversation_id=queued.id, kind="queued", tier="L2", created_at=NOW - DAY),
                ConversationEvent(conversation_id=queued_l3.id, kind="queued", tier="L3", created_at=NOW),
                ConversationEvent(conversation_id=queued_l3.id, kind="transferred", tier="L2", created_at=NOW),
            ]
        )
        for conv, texts in (
            (bot_only, [('=HYPERLINK("x")', "nlu_fallback", 0.2, None), ("gracias", "thank", 0.99, None)]),
            (queued, [("la vaina no prende", "greet", 0.3, None), ("", None, None, "/request_human")]),
            (queued_l3, [("el coso", "affirm", 0.9, None), ("una persona ya", "request_human", 0.95, None)]),
        ):
            for seq, (text, intent, confidence, payload) in enumerate(texts, start=1):
                session.add(
                    Message(
                        conversation_id=conv.id,
                        seq=seq,
                        role="customer",
                        text=text,
                        intent=intent,
                        confidence=confidence,
                        payload=payload,
                        created_at=conv.created_at,
                    )
                )
            conv.last_seq = len(texts)
        session.add(
            Message(
                conversation_id=bot_only.id,
                seq=3,
                role="customer",
                text="la vaina no prende!!",
                intent="deny",
                confidence=0.1,
                created_at=NOW - DAY,
            )
        )


async def test_dashboard_tables(sessions) -> None:
    await _fill(sessions)
    async with sessions() as session:
        tables = await stats.dashboard(session=session, now=NOW, days=30, threshold=0.55)
    assert set(tables) == set(stats.TABLES)
    by_channel = {row[0]: row[1:] for row in tables["tickets_by_channel"].rows}
    assert len(by_channel) == 30
    assert tables["tickets_by_channel"].columns == ["Día", "Chat", "Correo", "Teléfono", "Alarma SNMP", "API"]
    assert by_channel[(NOW - DAY).date().isoformat()] == [2, 0, 0, 0, 0]
    assert by_channel[NOW.date().isoformat()] == [0, 1, 0, 0, 0]
    by_priority = {row[0]: row[1:] for row in tables["tickets_by_priority"].rows}
    assert by_priority[(NOW - DAY).date().isoformat()] == [1, 0, 1, 0]
    by_tier = {row[0]: row[1:] for row in tables["tickets_by_tier"].rows}
    assert by_tier[NOW.date().isoformat()] == [0, 1, 0]
    updates = {row[0]: row[1:] for row in tables["updates"].rows}
    assert updates[(NOW - DAY).date().isoformat()] == [3, 1, 75.0]
    assert updates[NOW.date().isoformat()] == [0, 0, None]
    assistant = {row[0]: row[1:] for row in tables["assistant"].rows}
    assert assistant[(NOW - DAY).date().isoformat()] == [2, 1, 50.0]
    assert assistant[NOW.date().isoformat()] == [1, 0, 0.0]
    assert tables["handoffs"].rows == [["L1", 0], ["L2", 2], ["L3", 1]]
    assert tables["waits"].rows == [
        ["L1", 0, None, None, None],
        ["L2", 1, 90.0, 90.0, 90.0],
        ["L3", 1, 30.0, 30.0, 30.0],
    ]
    assert tables["satisfaction"].rows == [[5, 1, 50.0], [4, 0, 0.0], [3, 0, 0.0], [2, 1, 50.0], [1, 0, 0.0]]
    # Same sentence twice (punctuation aside) is one row; the fallback, the low score and the message
    # before a request for a person all count.
    assert sorted(tables["misunderstood"].rows, key=lambda r: (-r[1], r[0])) == [
        ["la vaina no prende", 2],
        ['=HYPERLINK("x")', 1],
        ["el coso", 1],
    ]
    summary = stats.summary(tables)
    assert summary == {
        "tickets": 3,
        "updates_on_time_pct": 75.0,
        "breaches": 1,
        "solved_without_person_pct": 33.3,
        "handoffs": 3,
        "satisfaction_avg": 3.5,
        "ratings": 2,
    }


async def test_a_shorter_window_drops_older_rows(sessions) -> None:
    await _fill(sessions)
    async with sessions() as session:
        tables = await stats.dashboard(session=session, now=NOW, days=1, threshold=0.55)
    assert [row[0] for row in tables["tickets_by_channel"].rows] == [NOW.date().isoformat()]
    assert stats.summary(tables)["tickets"] == 1


def test_csv_escapes_formulas_and_quotes() -> None:
    table = stats.Table(
        "t",
        ["mensaje", "veces"],
        [["=1+1", 2], ["+57 300", 1], ["@SUM(A1)", 1], ['di "hola", ya', 3], ["-2", 1], [None, 0]],
    )
    text = stats.to_csv(table)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["mensaje", "veces"],
        ["'=1+1", "2"],
        ["'+57 300", "1"],
        ["'@SUM(A1)", "1"],
        ['di "hola", ya', "3"],
        ["'-2", "1"],
        ["", "0"],
    ]
    assert text.endswith("\r\n")
