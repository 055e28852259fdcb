"""Throwaway PostgreSQL databases on the test server, and rows written straight into a running
backend's SQLite file (what Rasa would have stored, when no Rasa runs)."""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import datetime, timezone
from typing import Any

PG_ADMIN_URL = os.environ.get("PROMPTLINK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def pg_admin(sql: str, admin_url: str = PG_ADMIN_URL) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the admin connection."""
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_url(name: str, admin_url: str = PG_ADMIN_URL) -> str:
    """The SQLAlchemy async URL of database `name` on the admin URL's server."""
    return admin_url.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"


def stored_customer_message(backend: Any, text: str, intent: str = "greet", confidence: float = 0.2) -> int:
    """A customer message as the assistant would have stored it, in a conversation of its own, written into
    `backend`'s (a `Running` lone backend's) SQLite file; returns the message's id."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    conversation = str(uuid.uuid4())
    with sqlite3.connect(backend.var_dir / "promptlink.db", timeout=30) as db:
        db.execute(
            "INSERT INTO conversations (id, mode, last_seq, created_at, updated_at) VALUES (?, 'bot', 1, ?, ?)",
            (conversation, now, now),
        )
        cursor = db.execute(
            "INSERT INTO messages (conversation_id, seq, role, text, intent, confidence, created_at) "
            "VALUES (?, 1, 'customer', ?, ?, ?, ?)",
            (conversation, text, intent, confidence, now),
        )
        return int(cursor.lastrowid or 0)
