"""Several backend processes share one outbox: every item is delivered by exactly one of them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from promptlink.background import OutboxSender
from promptlink.infra.clock import ManualClock
from promptlink.infra.db import create_engine, create_sessionmaker, transaction
from promptlink.infra.settings import Settings
from promptlink.models import OutboxItem
from promptlink.services import outbox
from sqlalchemy import select

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


class CountingSender(OutboxSender):
    """The real sender (demo mailbox delivery), counting what it delivers."""

    delivered: list[int]

    async def send_email(self, item: OutboxItem) -> str:
        self.delivered.append(item.id)
        await asyncio.sleep(0.01)  # let the other "process" run in between
        return await super().send_email(item)


async def test_two_senders_deliver_each_item_once(database_url: str, tmp_path: Path) -> None:
    settings = Settings(demo=True, var_dir=tmp_path, database_url=database_url)
    clock = ManualClock(NOW)
    # Two engines: two processes' connection pools on one database.
    engines = [create_engine(database_url), create_engine(database_url)]
    try:
        first, second = (create_sessionmaker(e) for e in engines)
        async with transaction(first) as session:
            for n in range(40):
                outbox.enqueue_email(session=session, to=f"c{n}@example.com", subject="s", body="b", now=NOW)
        senders = [CountingSender(sessions=s, settings=settings, clock=clock, gateway=None) for s in (first, second)]
        for sender in senders:
            sender.delivered = []
        await asyncio.gather(*(sender.run_once() for sender in senders))
        delivered = senders[0].delivered + senders[1].delivered
        assert sorted(delivered) == sorted(set(delivered)) and len(delivered) == 40
        async with first() as session:
            states = list(await session.scalars(select(OutboxItem.state)))
        assert states == ["sent"] * 40
        # Nothing is due again later: no second delivery.
        clock.advance(timedelta(minutes=10))
        assert await senders[1].run_once() == 0
    finally:
        for engine in engines:
            await engine.dispose()
