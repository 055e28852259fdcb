"""Who wrote an entry: histories store the author's e-mail (stable, auditable); people read names."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Agent


async def staff_names(*, session: AsyncSession, emails: Iterable[str]) -> dict[str, str]:
    """The name of each staff account among `emails` (case as stored); others are left out."""
    wanted = {e for e in emails if e and "@" in e}
    if not wanted:
        return {}
    rows = await session.execute(select(Agent.email, Agent.name).where(Agent.email.in_(wanted)))
    return {email: name for email, name in rows.tuples() if name}
