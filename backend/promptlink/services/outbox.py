"""Queue deliveries (e-mail, chat) in the outbox; a worker sends them with retries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import OutboxItem

MAX_BACKOFF = timedelta(minutes=30)


def enqueue_email(
    *,
    session: AsyncSession,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    ticket_id: int | None = None,
    headers: dict[str, Any] | None = None,
    html: str | None = None,
) -> OutboxItem:
    """An e-mail to send: `body` is the plain text, `html` an optional HTML alternative of it."""
    item = OutboxItem(**email_row(to, subject, body, now, ticket_id=ticket_id, headers=headers, html=html))
    session.add(item)
    return item


async def insert_email(
    *,
    session: AsyncSession,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    ticket_id: int | None = None,
    headers: dict[str, Any] | None = None,
) -> None:
    """`enqueue_email`'s row, written at once by a Core INSERT (no object, nothing left for the
    flush): for a caller that does not use the item, on a hot path (a ticket's acknowledgement)."""
    row = email_row(to, subject, body, now, ticket_id=ticket_id, headers=headers)
    await (await session.connection()).execute(_INSERT_OUTBOX, row)


_INSERT_OUTBOX = insert(cast(Table, OutboxItem.__table__))  # built once


def email_row(
    to: str,
    subject: str,
    body: str,
    now: datetime,
    *,
    ticket_id: int | None = None,
    headers: dict[str, Any] | None = None,
    html: str | None = None,
) -> dict[str, Any]:
    """An e-mail's outbox row (the columns left out take their defaults: pending, no attempt yet)."""
    return {
        "kind": "email",
        "recipient": to,
        "subject": subject[:300],
        "body": body,
        "html": html,
        "headers": headers or {},
        "ticket_id": ticket_id,
        "next_attempt_at": now,
        "created_at": now,
    }


def enqueue_chat(
    *,
    session: AsyncSession,
    conversation_id: str,
    text: str,
    now: datetime,
    author: str = "",
    ticket_id: int | None = None,
) -> OutboxItem:
    item = OutboxItem(
        kind="chat",
        recipient=author,
        conversation_id=conversation_id,
        body=text,
        ticket_id=ticket_id,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    return item


async def due_items(*, session: AsyncSession, now: datetime, limit: int = 50) -> list[OutboxItem]:
    rows = await session.scalars(
        select(OutboxItem)
        .where(OutboxItem.state == "pending", OutboxItem.next_attempt_at <= now)
        .order_by(OutboxItem.id)
        .limit(limit)
    )
    return list(rows)


# How long a process owns an item it is delivering before another may retry it.
LEASE = timedelta(seconds=120)


async def claim_due(*, session: AsyncSession, items: list[OutboxItem], now: datetime) -> list[OutboxItem]:
    """Take the items this process will deliver: compare-and-set on `next_attempt_at`.

    Several backend processes share one outbox: each due item is claimed by exactly one
    of them (the update matches only while the item still has the time this process read),
    and the lease moves it out of everyone's due list until the delivery is recorded. If
    the process dies mid-delivery, the item is due again when the lease ends.
    """
    claimed = []
    for item in items:
        result = await session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.id == item.id,
                OutboxItem.state == "pending",
                OutboxItem.next_attempt_at == item.next_attempt_at,
            )
            .values(next_attempt_at=now + LEASE)
        )
        if getattr(result, "rowcount", 0) == 1:
            claimed.append(item)
    return claimed


def mark_sent(item: OutboxItem, *, now: datetime) -> None:
    item.state = "sent"
    item.sent_at = now
    item.attempts += 1
    item.last_error = ""


def mark_failed(item: OutboxItem, *, now: datetime, error: str, max_attempts: int) -> None:
    """Record a failed attempt; retry later with exponential back-off, give up after max_attempts."""
    item.attempts += 1
    item.last_error = error[:2000]
    if item.attempts >= max_attempts:
        item.state = "failed"
        return
    item.next_attempt_at = now + min(MAX_BACKOFF, timedelta(seconds=5 * 2 ** (item.attempts - 1)))


async def recent_emails(*, session: AsyncSession, recipient: str | None = None, limit: int = 200) -> list[OutboxItem]:
    """The latest e-mails in the outbox (newest first), optionally only those to `recipient`."""
    query = select(OutboxItem).where(OutboxItem.kind == "email")
    if recipient:
        query = query.where(func.lower(OutboxItem.recipient) == recipient.strip().lower())
    rows = await session.scalars(query.order_by(OutboxItem.id.desc()).limit(max(1, min(limit, 200))))
    return list(rows)
