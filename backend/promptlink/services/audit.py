"""The audit log of administrators' actions (append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import AuditLog


def record(
    *, session: AsyncSession, actor: str, action: str, target: str, now: datetime, detail: dict[str, Any] | None = None
) -> AuditLog:
    """Add an audit entry to the caller's transaction."""
    entry = AuditLog(actor=actor, action=action, target=target[:300], detail=detail or {}, at=now)
    session.add(entry)
    return entry


async def list_audit(*, session: AsyncSession, limit: int, offset: int, action: str | None = None) -> list[AuditLog]:
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit).offset(offset)
    if action:
        query = query.where(AuditLog.action == action)
    return list(await session.scalars(query))
