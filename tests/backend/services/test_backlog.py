"""What the metrics scrape reads: chats per tier's queue and unsent outbox items."""

from __future__ import annotations

from datetime import timedelta

from promptlink.infra.db import transaction
from promptlink.services import backlog
from promptlink.services.outbox import enqueue_email

from tests.backend.chat.data import NOW, anas_conversation, hand_off


async def test_queues_count_waiting_chats_per_tier_with_the_oldest_wait(seeded) -> None:
    async with seeded() as session:
        before = await backlog.queued_per_tier(session=session, now=NOW)
    assert set(before) >= {"L1", "L2", "L3"}
    first, second = await anas_conversation(seeded), await anas_conversation(seeded)
    await hand_off(seeded, first, "L2", now=NOW - timedelta(minutes=5))
    await hand_off(seeded, second, "L2", now=NOW - timedelta(minutes=1))
    async with seeded() as session:
        after = await backlog.queued_per_tier(session=session, now=NOW)
    assert after["L2"].count == before["L2"].count + 2
    assert after["L2"].oldest_seconds >= 300
    assert after["L1"] == before["L1"] and after["L3"] == before["L3"]


async def test_the_outbox_backlog_counts_pending_items_per_kind(seeded) -> None:
    async with seeded() as session:
        before, failed_before = await backlog.outbox_pending(session=session, now=NOW)
    assert set(before) == {"email", "chat"}
    async with transaction(seeded) as session:
        for k in range(3):
            enqueue_email(session=session, to=f"c{k}@example.com", subject="s", body="b", now=NOW)
    async with seeded() as session:
        after, failed_after = await backlog.outbox_pending(session=session, now=NOW + timedelta(seconds=90))
    assert after["email"].count == before["email"].count + 3
    assert after["email"].oldest_seconds >= 90
    assert after["chat"].count == before["chat"].count
    assert failed_after == failed_before
