"""Agents' chat replies written in batches: one write transaction for every reply waiting.

At hundreds of replies a second a transaction per reply is too slow on one process: on SQLite
each one queues for the single writer and holds it across a dozen event-loop round trips (one
per statement), so the writer, not the CPU, set the pace (docs/performance.md, live chat).
Here the replies that arrive while a batch is being written wait for the next one, and a
batch is one transaction with a savepoint per reply:

- SQLite: the whole batch runs in one hop to a dedicated writer thread with its own
  synchronous connection, holding the process's SQLite writer lock (`db.writer_lock`), so
  it never competes with the async writers;
- PostgreSQL: the same synchronous function runs on the async connection (`run_sync`);
  the conversation's row lock orders replies with transfers and closes on other processes.

What a reply checks and stores is what `livechat.agent_message` did one by one: a repeated
`client_msg_id` is acknowledged with the stored message, only the assigned agent (or a
supervisor) may write, and each reply takes the conversation's next `seq`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..db import sync_sqlite_writer, transaction, writer_lock
from ..models import Conversation, Message
from ..models.base import utcnow
from .auth import Principal
from .conversations import MAX_CLIENT_MSG_ID, validate_customer_text
from .errors import DomainError, InvalidInput, NotFound
from .livechat import must_handle

log = logging.getLogger(__name__)

MAX_BATCH = 500


@dataclass
class Reply:
    principal: Principal
    conversation_id: str
    text: str  # validated already
    client_msg_id: str | None
    future: asyncio.Future[tuple[Message, bool]] = field(repr=False)


# Built once (Core, bound parameters): building and cache-keying a statement per reply was
# most of the writer thread's time at 200 replies/s.
_MESSAGES: Table = Message.__table__  # type: ignore[assignment]
_CONVERSATIONS: Table = Conversation.__table__  # type: ignore[assignment]
_STORED = select(_MESSAGES).where(
    _MESSAGES.c.conversation_id == bindparam("b_cid"), _MESSAGES.c.client_msg_id == bindparam("b_client_msg_id")
)
_STATE = (
    select(_CONVERSATIONS.c.id, _CONVERSATIONS.c.mode, _CONVERSATIONS.c.agent_id)
    .where(_CONVERSATIONS.c.id == bindparam("b_cid"))
    .with_for_update()
)
_NEXT_SEQ = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("b_cid"))
    .values(last_seq=_CONVERSATIONS.c.last_seq + 1, updated_at=bindparam("b_now"))
    .returning(_CONVERSATIONS.c.last_seq)
)
_INSERT = insert(_MESSAGES).returning(_MESSAGES.c.id)


def _stored(conn: Connection, reply: Reply) -> Message | None:
    """The message already stored under the reply's client_msg_id, if any."""
    if reply.client_msg_id is None:
        return None
    row = conn.execute(_STORED, {"b_cid": reply.conversation_id, "b_client_msg_id": reply.client_msg_id}).first()
    return Message(**dict(row._mapping)) if row is not None else None


def _write_one(conn: Connection, reply: Reply) -> tuple[Message, bool]:
    cid = reply.conversation_id
    previous = _stored(conn, reply)
    if previous is not None:
        return previous, False  # a resend: acknowledged, stored once
    state = conn.execute(_STATE, {"b_cid": cid}).first()
    if state is None:
        raise NotFound(f"conversation {cid} not found", public="La conversación no existe.")
    must_handle(reply.principal, state)
    now = utcnow()
    seq = conn.execute(_NEXT_SEQ, {"b_cid": cid, "b_now": now}).scalar_one()
    values: dict[str, Any] = {
        "conversation_id": cid,
        "seq": seq,
        "role": "agent",
        "text": reply.text,
        "author_name": reply.principal.name,
        "client_msg_id": reply.client_msg_id,
        "created_at": now,
    }
    message_id = conn.execute(_INSERT, values).scalar_one()
    return Message(id=message_id, **values), True


def write_replies(
    conn: Connection, replies: list[Reply], *, savepoints: bool = True
) -> list[tuple[Message, bool] | DomainError]:
    """Store `replies` in the open transaction of `conn`, each in its own savepoint.

    `savepoints=False` is for the SQLite writer thread: every check comes before the first
    write of a reply and nothing else writes meanwhile, so a refused reply leaves nothing to
    undo, and SAVEPOINT/RELEASE were a third of the thread's time.
    """
    results: list[tuple[Message, bool] | DomainError] = []
    for reply in replies:
        try:
            with conn.begin_nested() if savepoints else contextlib.nullcontext():
                results.append(_write_one(conn, reply))
        except DomainError as exc:
            results.append(exc)
        except IntegrityError:
            # Another process stored the same client_msg_id first (PostgreSQL): that one stands.
            # Without a savepoint nothing was undone: the whole batch fails instead (no seq gap).
            previous = _stored(conn, reply) if savepoints else None
            if previous is None:
                raise
            results.append((previous, False))
    return results


class ReplyWriter:
    """Collects replies and writes them in batches; `submit` returns once its reply is stored."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        bind = sessions.kw.get("bind")
        self._sync: Engine | None = sync_sqlite_writer(bind) if isinstance(bind, AsyncEngine) else None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reply-writer") if self._sync else None
        self._waiting: list[Reply] = []
        self._draining: asyncio.Task[None] | None = None
        self.batches = 0  # for tests and metrics: how many transactions were used

    async def submit(
        self, *, principal: Principal, conversation_id: str, text: Any, client_msg_id: Any, max_chars: int
    ) -> tuple[Message, bool]:
        """Store an agent's reply; (message, created). Bad text or id raise before anything is queued."""
        body = validate_customer_text(text, max_chars=max_chars)
        if client_msg_id is not None and not (
            isinstance(client_msg_id, str) and 0 < len(client_msg_id) <= MAX_CLIENT_MSG_ID
        ):
            raise InvalidInput("client_msg_id must be a string of 1-64 characters", public="El mensaje no es válido.")
        future: asyncio.Future[tuple[Message, bool]] = asyncio.get_running_loop().create_future()
        self._waiting.append(Reply(principal, conversation_id, body, client_msg_id, future))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                try:
                    results = await self._write(batch)
                except Exception as exc:  # noqa: BLE001 - every waiting caller gets the failure
                    log.exception("reply batch failed", extra={"replies": len(batch)})
                    for reply in batch:
                        if not reply.future.done():
                            reply.future.set_exception(exc)
                    continue
                self.batches += 1
                for reply, result in zip(batch, results, strict=True):
                    if reply.future.done():
                        continue
                    if isinstance(result, DomainError):
                        reply.future.set_exception(result)
                    else:
                        reply.future.set_result(result)
        finally:
            self._draining = None

    async def _write(self, batch: list[Reply]) -> list[tuple[Message, bool] | DomainError]:
        if self._sync is None or self._thread is None:
            async with transaction(self.sessions) as session:
                conn = await session.connection()
                return await conn.run_sync(write_replies, batch)
        sync = self._sync

        def in_thread() -> list[tuple[Message, bool] | DomainError]:
            with sync.begin() as conn:
                return write_replies(conn, batch, savepoints=False)

        lock = writer_lock(self.sessions)
        async with lock if lock is not None else contextlib.nullcontext():
            return await asyncio.get_running_loop().run_in_executor(self._thread, in_thread)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
        if self._sync is not None:
            self._sync.dispose()
