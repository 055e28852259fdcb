"""Rasa's SQL tracker store, with the same table and the same answers, at a fraction of the cost.

Rasa 3.6's `SQLTrackerStore` runs on the server's event loop, so whatever it costs is added
to every other conversation's wait. Under 20 concurrent chats (py-spy, see
`docs/assistant.md`) reading and writing trackers took a third of the server's CPU:

- reading built one ORM object per stored event only to take its `data` column: here the
  same query selects the `data` column alone;
- writing counted the stored events with an ORM query, then added one ORM object per new
  event: here the count and one multi-row `INSERT` are plain statements, in one transaction;
- on SQLite every commit waited for two `fsync`s of a rollback journal: here the file is in
  WAL mode with `synchronous=NORMAL` (a power cut can lose the last turns, never corrupt
  the file; the transcript customers and agents see is the backend's, not this one), and a
  busy timeout lets several Rasa processes share the file.

Configured in `bot/endpoints.yml` as `type: bot.tracker_store.PromptlinkSQLTrackerStore`
with the usual `SQLTrackerStore` keys (dialect, db, host, ... — PostgreSQL works too).
Event brokers are not configured here; `stream_events` is still called as Rasa does.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Conversations whose active loop (form) is remembered after their last saved turn.
ACTIVE_LOOPS_KEPT = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


class PromptlinkSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` with plain-statement reads and writes and a WAL-mode SQLite file."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy 1.4 opens a new SQLite connection per use (NullPool); keep a few open,
            # each with the pragmas. Rasa calls the store from its event-loop thread only.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(
                url, poolclass=sa.pool.QueuePool, pool_size=2, max_overflow=8, connect_args={"check_same_thread": False}
            )
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._table = self.SQLEvent.__table__
        self._active_loops: "OrderedDict[str, Optional[str]]" = OrderedDict()
        log.info("Promptlink SQL tracker store on %s", self.engine.dialect.name)

    def _session_events(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> sa.sql.Select:
        """`SQLTrackerStore._event_query` as a Core select of `data` (same filter, same order)."""
        t = self._table
        select = sa.select(t.c.data).where(t.c.sender_id == sender_id)
        if not fetch_events_from_all_sessions:
            start = (
                sa.select(sa.func.max(t.c.timestamp))
                .where(t.c.sender_id == sender_id, t.c.type_name == SessionStarted.type_name)
                .scalar_subquery()
            )
            select = select.where(sa.or_(t.c.timestamp >= start, start.is_(None)))
        return select.order_by(t.c.id)

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        with self.engine.connect() as connection:
            rows = connection.execute(self._session_events(sender_id, fetch_events_from_all_sessions)).all()
        events = [json.loads(data) for (data,) in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's events that are not stored yet (those after the stored count)."""
        await self.stream_events(tracker)
        stored = sa.select(sa.func.count()).select_from(
            self._session_events(tracker.sender_id, fetch_events_from_all_sessions=False).subquery()
        )
        with self.engine.begin() as connection:
            count = connection.execute(stored).scalar_one()
            rows: List[Dict[str, Any]] = []
            for event in list(tracker.events)[count:]:
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                connection.execute(self._table.insert(), rows)
        self._remember_active_loop(tracker)

    def _remember_active_loop(self, tracker: DialogueStateTracker) -> None:
        self._active_loops[tracker.sender_id] = tracker.active_loop_name
        self._active_loops.move_to_end(tracker.sender_id)
        while len(self._active_loops) > ACTIVE_LOOPS_KEPT:
            self._active_loops.popitem(last=False)

    def active_loop_of(self, sender_id: Text) -> "tuple[bool, Optional[str]]":
        """(known, form): the form (active loop) after the conversation's last turn saved by this
        process, i.e. the form whose question the bot is waiting on; known False when not remembered."""
        if sender_id not in self._active_loops:
            return False, None
        return True, self._active_loops[sender_id]
