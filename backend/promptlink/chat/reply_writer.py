"""Chat messages written in batches: one write transaction for every message waiting.

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

What an agent's reply checks and stores is what `livechat.agent_message` did one by one: a
repeated `client_msg_id` is acknowledged with the stored message, only the assigned agent
(or a supervisor) may write, and each reply takes the conversation's next `seq`.

Customers' messages (`CustomerLine`) and assistant turns (`BotTurn`: the parse of the
customer's message and the bot's replies, together) go the same way. With 20 chats talking
to the assistant at once, one transaction each made a turn wait 110 ms (p50) before Rasa was
asked and 120 ms after it had answered (docs/assistant.md). A customer's message to a closed
conversation is left to the caller: reopening it is a transaction of its own.

One item that cannot be written never fails the others (issue #13 F3): when a batch's
transaction fails, its items are written again one per transaction, and only the failing
ones fail (logged; data the database refuses reaches its sender as «El mensaje no es válido.»).

A database that cannot be reached (PostgreSQL restarting: connection refused, «the database
system is starting up», the server shutting the connection down) is not the items' fault: the
batch is written again after a pause, for up to `unreachable_wait` seconds, before its items
fail (bench/cluster.py's PostgreSQL restart lost assistant replies this way).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from promptlink.infra.db import sync_sqlite_writer, transaction, writer_lock
from promptlink.models import Conversation, Message
from promptlink.models.base import utcnow
from promptlink.services.agent_chat import must_handle
from promptlink.services.auth import Principal
from promptlink.services.conversations import check_client_msg_id, check_payload, validate_customer_text
from promptlink.services.errors import DomainError, InvalidInput, NotFound

log = logging.getLogger(__name__)

MAX_BATCH = 500
# SQLSTATEs of a server that is down, starting or shutting down, or of a connection it lost:
# the transaction did not commit, and the same batch can be written once it is back.
UNREACHABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "08000", "08001", "08003", "08004", "08006"})


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) says the database could not be reached, not that it refused the data."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionError) or getattr(current, "sqlstate", None) in UNREACHABLE_SQLSTATES:
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


@dataclass
class Reply:
    principal: Principal
    conversation_id: str
    text: str  # validated already
    client_msg_id: str | None
    future: asyncio.Future[tuple[Message, bool]] = field(repr=False)


@dataclass
class BotTurn:
    """What one assistant turn stores: the parse of the customer's message and the bot's replies."""

    conversation_id: str
    message_id: int  # the customer message the parse belongs to
    intent: str | None
    confidence: float | None
    replies: list[tuple[str, list[dict[str, str]] | None]]  # (text, buttons)
    future: asyncio.Future[list[Message]] = field(repr=False)
    form: str | None = None  # the form whose question is open after the turn (kept on the conversation)


@dataclass
class CustomerLine:
    """A customer's message to a conversation that is not closed (a closed one is reopened elsewhere)."""

    conversation_id: str
    text: str  # validated already
    client_msg_id: str | None
    payload: str | None
    # (stored message, created, conversation mode); (None, False, "closed") when the conversation is closed
    future: asyncio.Future[tuple[Message | None, bool, str]] = field(repr=False)


Item = Reply | BotTurn | CustomerLine
Outcome = tuple[Message, bool] | list[Message] | tuple[Message | None, bool, str] | DomainError


# Built once (Core, bound parameters): building and cache-keying a statement per reply was
# most of the writer thread's time at 200 replies/s.
_MESSAGES: Table = Message.__table__  # type: ignore[assignment]
_CONVERSATIONS: Table = Conversation.__table__  # type: ignore[assignment]
_STORED = select(_MESSAGES).where(
    _MESSAGES.c.conversation_id == bindparam("b_cid"), _MESSAGES.c.client_msg_id == bindparam("b_client_msg_id")
)
_STATE = (
    select(_CONVERSATIONS.c.id, _CONVERSATIONS.c.mode, _CONVERSATIONS.c.agent_id, _CONVERSATIONS.c.bot_form)
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
_PARSE = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("b_mid"))
    .values(intent=bindparam("b_intent"), confidence=bindparam("b_confidence"))
)


_FORM = update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == bindparam("b_cid")).values(bot_form=bindparam("b_form"))


def _stored(conn: Connection, reply: Reply | CustomerLine) -> Message | None:
    """The message already stored under the reply's client_msg_id, if any."""
    if reply.client_msg_id is None:
        return None
    row = conn.execute(_STORED, {"b_cid": reply.conversation_id, "b_client_msg_id": reply.client_msg_id}).first()
    return Message(**dict(row._mapping)) if row is not None else None


def _state(conn: Connection, cid: str) -> Any:
    """The conversation's id, mode and agent (row-locked on PostgreSQL); NotFound when it does not exist."""
    state = conn.execute(_STATE, {"b_cid": cid}).first()
    if state is None:
        raise NotFound(f"conversation {cid} not found", public="La conversación no existe.")
    return state


def _append(conn: Connection, cid: str, **fields: Any) -> Message:
    """Insert a message with the conversation's next `seq`; `fields` are its other columns."""
    now = utcnow()
    seq = conn.execute(_NEXT_SEQ, {"b_cid": cid, "b_now": now}).scalar_one()
    values: dict[str, Any] = {"conversation_id": cid, "seq": seq, "created_at": now, **fields}
    message_id = conn.execute(_INSERT, values).scalar_one()
    return Message(id=message_id, **values)


def _write_one(conn: Connection, reply: Reply) -> tuple[Message, bool]:
    previous = _stored(conn, reply)
    if previous is not None:
        return previous, False  # a resend: acknowledged, stored once
    must_handle(reply.principal, _state(conn, reply.conversation_id))
    message = _append(
        conn,
        reply.conversation_id,
        role="agent",
        text=reply.text,
        author_name=reply.principal.name,
        client_msg_id=reply.client_msg_id,
    )
    return message, True


def _write_turn(conn: Connection, turn: BotTurn) -> list[Message]:
    state = _state(conn, turn.conversation_id)
    conn.execute(_PARSE, {"b_mid": turn.message_id, "b_intent": turn.intent, "b_confidence": turn.confidence})
    if state.bot_form != turn.form:  # a form question opened or was answered: one statement, only then
        conn.execute(_FORM, {"b_cid": turn.conversation_id, "b_form": turn.form})
    return [
        _append(conn, turn.conversation_id, role="bot", text=text, buttons=buttons) for text, buttons in turn.replies
    ]


def _write_customer(conn: Connection, line: CustomerLine) -> tuple[Message | None, bool, str]:
    state = _state(conn, line.conversation_id)
    if state.mode == "closed":
        return None, False, "closed"
    previous = _stored(conn, line)
    if previous is not None:
        return previous, False, state.mode
    message = _append(
        conn,
        line.conversation_id,
        role="customer",
        text=line.text,
        payload=line.payload,
        client_msg_id=line.client_msg_id,
        form=state.bot_form if state.mode == "bot" else None,  # the form question it answers, if one is open
    )
    return message, True, state.mode


def _write(conn: Connection, item: Item) -> Outcome:
    if isinstance(item, BotTurn):
        return _write_turn(conn, item)
    if isinstance(item, CustomerLine):
        return _write_customer(conn, item)
    return _write_one(conn, item)


def write_replies(conn: Connection, replies: list[Item], *, savepoints: bool = True) -> list[Outcome]:
    """Store `replies` (agents' replies, assistant turns) in the open transaction of `conn`, one savepoint each.

    `savepoints=False` is for the SQLite writer thread: every check comes before the first
    write of a reply and nothing else writes meanwhile, so a refused reply leaves nothing to
    undo, and SAVEPOINT/RELEASE were a third of the thread's time.
    """
    results: list[Outcome] = []
    for reply in replies:
        try:
            with conn.begin_nested() if savepoints else contextlib.nullcontext():
                results.append(_write(conn, reply))
        except DomainError as exc:
            results.append(exc)
        except IntegrityError:
            # Another process stored the same client_msg_id first (PostgreSQL): that one stands.
            # Without a savepoint nothing was undone: the whole batch fails instead (no seq gap).
            previous = _stored(conn, reply) if savepoints and not isinstance(reply, BotTurn) else None
            if previous is None:
                raise
            if isinstance(reply, CustomerLine):
                state = conn.execute(_STATE, {"b_cid": reply.conversation_id}).first()
                results.append((previous, False, state.mode if state is not None else "closed"))
            else:
                results.append((previous, False))
    return results


def _refusal(exc: Exception) -> Exception:
    """What the caller of an item that cannot be stored gets: a clear refusal when its data is at fault.

    Text the database cannot encode (a lone surrogate, NUL on PostgreSQL) is refused at the edge
    (services/text.py); should any still reach a batch, its sender gets «El mensaje no es válido.»
    instead of a failure. Anything else (the database is down) is passed on as it is.
    """
    for cause in _causes(exc):
        # SQLSTATE class 22 is PostgreSQL's «data exception» (NUL: 22021); asyncpg's encoder
        # raises a DataError (a ValueError) for a lone surrogate, sqlite3 a UnicodeEncodeError.
        sqlstate = str(getattr(cause, "sqlstate", "") or "")
        if isinstance(cause, DataError | UnicodeError | ValueError) or sqlstate.startswith("22"):
            return InvalidInput(
                f"message could not be stored: {type(cause).__name__}", public="El mensaje no es válido."
            )
    return exc


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps (the DBAPI error of a StatementError, `__cause__`, `__context__`)."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        wrapped = current.orig if isinstance(current, StatementError) else None
        todo += [wrapped if isinstance(wrapped, BaseException) else None, current.__cause__, current.__context__]
    return found


class ReplyWriter:
    """Collects replies and writes them in batches; `submit` returns once its reply is stored."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, unreachable_wait: float = 60.0) -> None:
        self.sessions = sessions
        self.unreachable_wait = unreachable_wait
        bind = sessions.kw.get("bind")
        self._sync: Engine | None = sync_sqlite_writer(bind) if isinstance(bind, AsyncEngine) else None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reply-writer") if self._sync else None
        self._waiting: list[Item] = []
        self._draining: asyncio.Task[None] | None = None
        self.batches = 0  # for tests and metrics: how many transactions were used

    async def submit(
        self, *, principal: Principal, conversation_id: str, text: Any, client_msg_id: Any, max_chars: int
    ) -> tuple[Message, bool]:
        """Store an agent's reply; (message, created). Bad text or id raise before anything is queued."""
        body = validate_customer_text(text, max_chars=max_chars)
        check_client_msg_id(client_msg_id)
        future: asyncio.Future[tuple[Message, bool]] = asyncio.get_running_loop().create_future()
        self._queue(Reply(principal, conversation_id, body, client_msg_id, future))
        return await future

    async def submit_bot_turn(
        self,
        *,
        conversation_id: str,
        message_id: int,
        intent: str | None,
        confidence: float | None,
        replies: list[tuple[str, list[dict[str, str]] | None]],
        form: str | None = None,
    ) -> list[Message]:
        """Store an assistant turn's parse and replies (in the next batch); returns the stored replies in order.

        `form`: the form whose question the bot waits on after the turn (None: none), kept on the conversation.
        """
        future: asyncio.Future[list[Message]] = asyncio.get_running_loop().create_future()
        self._queue(BotTurn(conversation_id, message_id, intent, confidence, replies, future, form))
        return await future

    async def submit_customer(
        self, *, conversation_id: str, text: str, client_msg_id: Any, payload: Any
    ) -> tuple[Message | None, bool, str]:
        """Store a customer's message (validated text); (message, created, mode), or (None, False, "closed").

        A bad `client_msg_id` or `payload` raises before anything is queued.
        """
        check_client_msg_id(client_msg_id)
        check_payload(payload)
        future: asyncio.Future[tuple[Message | None, bool, str]] = asyncio.get_running_loop().create_future()
        self._queue(CustomerLine(conversation_id, text, client_msg_id, payload, future))
        return await future

    def _queue(self, item: Item) -> None:
        self._waiting.append(item)
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                try:
                    results = await self._write_when_reachable(batch)
                except Exception:  # noqa: BLE001 - isolated below: one bad item must not fail the others
                    log.warning("reply batch failed; writing its items one by one", extra={"replies": len(batch)})
                    await self._one_by_one(batch)
                    continue
                self.batches += 1
                self._settle(batch, results)
        finally:
            self._draining = None

    async def _write_when_reachable(self, batch: list[Item]) -> list[Outcome]:
        """`_write`, again after a pause while the database cannot be reached (up to `unreachable_wait` s)."""
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + self.unreachable_wait, 0.25
        while True:
            try:
                return await self._write(batch)
            except Exception as exc:
                if not unreachable(exc) or loop.time() + pause > deadline:
                    raise
                log.warning(
                    "database unreachable; writing the batch again",
                    extra={"replies": len(batch), "retry_in_s": pause, "error": repr(exc)[:200]},
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 4.0)

    async def _one_by_one(self, batch: list[Item]) -> None:
        """Write each item of a failed batch in its own transaction: only the failing ones fail (logged)."""
        for item in batch:
            if item.future.done():
                continue  # its caller gave up (cancelled)
            try:
                results = await self._write([item])
            except Exception as exc:  # noqa: BLE001 - this item's caller gets the failure
                log.exception("reply batch item failed", extra={"conversation_id": item.conversation_id})
                if not item.future.done():
                    item.future.set_exception(_refusal(exc))
                continue
            self.batches += 1
            self._settle([item], results)

    @staticmethod
    def _settle(batch: list[Item], results: list[Outcome]) -> None:
        for reply, result in zip(batch, results, strict=True):
            if reply.future.done():
                continue
            if isinstance(result, DomainError):
                reply.future.set_exception(result)
            else:
                reply.future.set_result(result)  # type: ignore[arg-type]

    async def _write(self, batch: list[Item]) -> list[Outcome]:
        if self._sync is None or self._thread is None:
            async with transaction(self.sessions) as session:
                conn = await session.connection()
                return await conn.run_sync(write_replies, batch)
        sync = self._sync

        def in_thread() -> list[Outcome]:
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
