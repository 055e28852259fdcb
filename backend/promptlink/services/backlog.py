"""What waits: chats in each tier's queue and unsent outbox items (for the metrics scrape).

Two grouped queries over indexed columns (`conversations.tier`, `outbox.state`), cheap enough
for every Prometheus scrape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Conversation
from promptlink.models.outbox import KINDS, OutboxItem
from promptlink.vocabulary import TIERS


@dataclass(frozen=True)
class Waiting:
    count: int
    oldest_seconds: float  # how long the oldest has waited (0 when none)


def _age(now: datetime, since: datetime | None) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is None:  # SQLite gives naive UTC datetimes back
        since = since.replace(tzinfo=UTC)
    return max(0.0, (now - since).total_seconds())


async def queued_per_tier(*, session: AsyncSession, now: datetime) -> dict[str, Waiting]:
    """Chats waiting for a person, per tier (every tier, 0 when empty)."""
    rows = await session.execute(
        select(Conversation.tier, func.count(), func.min(Conversation.queued_at))
        .where(Conversation.mode == "queued")
        .group_by(Conversation.tier)
    )
    found = {tier: Waiting(count, _age(now, oldest)) for tier, count, oldest in rows if tier}
    return {tier: found.get(tier, Waiting(0, 0.0)) for tier in TIERS} | found


async def outbox_pending(*, session: AsyncSession, now: datetime) -> tuple[dict[str, Waiting], int]:
    """Unsent outbox items per kind (every kind, 0 when none), and how many failed for good."""
    rows = await session.execute(
        select(OutboxItem.kind, func.count(), func.min(OutboxItem.created_at))
        .where(OutboxItem.state == "pending")
        .group_by(OutboxItem.kind)
    )
    found = {kind: Waiting(count, _age(now, oldest)) for kind, count, oldest in rows}
    failed = await session.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.state == "failed"))
    return {kind: found.get(kind, Waiting(0, 0.0)) for kind in KINDS} | found, int(failed or 0)
