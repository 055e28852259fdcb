"""The deploy/ topology (`python -m promptlink cluster`) from tests and benches, and chat traffic through it.

`start_cluster()` runs the cluster command on free ports (its own databases and Redis channel, or
`private=True`: its own PostgreSQL and Redis), waits until HAProxy answers healthy, and returns a
`Cluster` with handles to SIGKILL or restart one process (`backend-1`, `rasa-2`, `redis`, `postgres`,
the singleton holder ...): the cluster's supervisor restarts what dies, as systemd would.

`ChatLoad` runs customers through HAProxy — some talking to the assistant, some in a live chat with
an agent who replies — that resend unacknowledged messages after a reconnect, as the widget and the
console do. `ChatLoad.tally()` then counts, from the clients and from the database: messages sent,
acked (the server's ack), stored (rows by `client_msg_id`), delivered (seen by the other side; for
the assistant: the turn answered or its notice shown), lost and duplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import socketio

from testkit.demo import DEMO_PASSWORDS
from testkit.live_clients import SEND_ERRORS
from testkit.processes import BACKEND_PY, ROOT, free_port

# What the backend says, in a `system` message, when the assistant is not available (docs/chat-protocol.md).
NOTICE_ROLES = ("system",)
_JITTER = random.SystemRandom()
BOT_TEXTS = ("hola", "¿qué cubre el plan de soporte?", "¿cuáles son las prioridades?", "gracias", "¿dan cursos?")


def pg_admin_url() -> str:
    return os.environ.get("PROMPTLINK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Cluster:
    process: subprocess.Popen[bytes]
    var_dir: Path
    public_url: str
    stats_url: str
    backend_urls: list[str]
    rasa_urls: list[str]
    database_url: str  # asyncpg form (postgresql://...)
    admin_url: str
    database: str
    private: bool
    log_path: Path
    secrets: dict[str, str] = field(default_factory=dict)

    # --- processes -------------------------------------------------------------------------------
    def pid(self, name: str) -> int:
        return int((self.var_dir / "run" / f"{name}.pid").read_text())

    def names(self) -> list[str]:
        return sorted(p.stem for p in (self.var_dir / "run").glob("*.pid"))

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send `sig` to one process (SIGKILL by default); the supervisor restarts it. Returns the old pid."""
        pid = self.pid(name)
        os.kill(pid, sig)
        return pid

    def restart(self, name: str) -> int:
        """A clean stop (SIGTERM; SIGINT, PostgreSQL's fast shutdown), restarted by the supervisor."""
        return self.kill(name, signal.SIGINT if name == "postgres" else signal.SIGTERM)

    def wait_new_pid(self, name: str, old: int, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid = self.pid(name)
                if pid != old:
                    return pid
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{name} was not restarted within {timeout} s")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def singleton_holder(self, singleton: str = "smtp-intake") -> str:
        """The backend (`backend-1`, ...) running `singleton` under its lease, from each backend's health."""
        for k, url in enumerate(self.backend_urls):
            state = self.health(url)[1].get("singletons", {}).get(singleton, {})
            if state.get("here") == "active":
                return f"backend-{k + 1}"
        raise LookupError(f"no backend runs {singleton}")

    # --- health --------------------------------------------------------------------------------
    def health(self, url: str | None = None) -> tuple[int, dict[str, Any]]:
        try:
            response = httpx.get(f"{url or self.public_url}/api/v1/health", timeout=5)
            return response.status_code, response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return 0, {"error": repr(exc)}

    def wait_healthy(self, timeout: float = 600) -> float:
        """Seconds until health is 200 through HAProxy and on every backend."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the cluster exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            if all(self.health(url)[0] == 200 for url in [self.public_url, *self.backend_urls]):
                return time.monotonic() - started
            time.sleep(0.5)
        raise TimeoutError(f"cluster not healthy after {timeout} s: {self.health()}")

    async def probe_turn(self, timeout: float = 30) -> bool:
        """A new visitor's turn through HAProxy answered by the assistant (not the unavailable notice)."""
        visitor = Visitor(self.public_url)
        try:
            await visitor.connect()
            ack = await visitor.send("hola")
            if not ack or "seq" not in ack:
                return False
            reply = await visitor.wait_reply(ack["seq"], timeout)
            return reply is not None and reply["role"] == "bot"
        except (*SEND_ERRORS, OSError):
            return False
        finally:
            await visitor.close()

    async def recovery(self, started: float, timeout: float = 600) -> float:
        """Seconds from `started` (time.monotonic) until healthy through HAProxy and a new turn answered."""
        while time.monotonic() - started < timeout:
            status, _ = await asyncio.to_thread(self.health)
            if status == 200 and await self.probe_turn():
                return time.monotonic() - started
            await asyncio.sleep(0.5)
        raise TimeoutError(f"not recovered after {timeout} s: {self.health()}")

    # --- credentials ---------------------------------------------------------------------------
    def agent_token(self, email: str) -> str:
        response = httpx.post(
            f"{self.public_url}/api/v1/auth/login",
            json={"email": email, "password": DEMO_PASSWORDS[email]},
            timeout=15,
        )
        response.raise_for_status()
        return str(response.json()["token"])

    def service_headers(self, conversation_id: str) -> dict[str, str]:
        """The action server's headers: the cluster's service token and a conversation token signed with its
        session secret (both from <var>/secrets.env, shared by every process)."""
        from promptlink.services.conversation_token import HEADER, key_from, sign

        token = sign(
            key=key_from(self.secrets["PROMPTLINK_SESSION_SECRET"]),
            conversation_id=conversation_id,
            contact=None,
            lifetime=3600,
        )
        return {"Authorization": f"Bearer {self.secrets['PROMPTLINK_SERVICE_TOKEN']}", HEADER: token}

    # --- stopping ------------------------------------------------------------------------------
    def stop(self, drop_databases: bool = True) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if drop_databases and not self.private:
            asyncio.run(_drop(self.admin_url, [self.database, f"{self.database}_rasa"]))


async def _drop(admin_url: str, names: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def start_cluster(var_dir: Path, *, timeout: float = 600, private: bool = False, **env_overrides: str) -> Cluster:
    """`python -m promptlink cluster` on free ports with its own databases; healthy when returned.

    The chat limits per socket and per address are lifted (every load client comes from 127.0.0.1).
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    database = f"promptlink_cluster_{tag}"
    backends = [("127.0.0.11", free_port()), ("127.0.0.12", free_port())]
    rasa = [("127.0.0.21", free_port()), ("127.0.0.22", free_port())]
    public = ("127.0.0.1", free_port())
    stats = ("127.0.0.1", free_port())
    admin = pg_admin_url()
    argv = [
        "--var-dir", str(var_dir),
        "--backends", ",".join(f"{h}:{p}" for h, p in backends),
        "--rasa", ",".join(f"{h}:{p}" for h, p in rasa),
        "--actions", f"127.0.0.31:{free_port()}",
        "--haproxy", f"{public[0]}:{public[1]}",
        "--stats", f"{stats[0]}:{stats[1]}",
        "--smtp-port", str(free_port()),
        "--snmp-port", str(free_port()),
        "--database", database,
        "--redis-channel", f"promptlink-cluster-{tag}",
        "--pg", admin.rsplit("/", 1)[0] + "/postgres",
    ]  # fmt: skip
    if private:
        argv += ["--private", "--pg-port", str(free_port()), "--redis-port", str(free_port())]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTLINK_")}
    env.update(
        PROMPTLINK_DEMO="1",
        PYTHONPATH=str(ROOT / "backend"),
        RASA_TELEMETRY_ENABLED="false",
        PROMPTLINK_CHAT_RATE_BURST="1000",
        PROMPTLINK_CHAT_RATE_PER_SECOND="1000",
        PROMPTLINK_CHAT_CONNECTIONS_PER_IP="0",
        PROMPTLINK_OUTBOX_INTERVAL_SECONDS="0.5",
        PROMPTLINK_REVIEWED_NLU_PATH=str(var_dir / "reviewed" / "reviewed.yml"),
        PROMPTLINK_LOG_LEVEL="WARNING",
    )
    env.update(env_overrides)
    log_path = var_dir / "cluster.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [str(BACKEND_PY), "-m", "promptlink", "cluster", *argv],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pg_port = argv[argv.index("--pg-port") + 1] if private else admin.rsplit("/", 1)[0].rsplit(":", 1)[-1]
    pg_base = f"postgresql://postgres@127.0.0.1:{pg_port}" if private else admin.rsplit("/", 1)[0]
    cluster = Cluster(
        process=process,
        var_dir=var_dir,
        public_url=f"http://{public[0]}:{public[1]}",
        stats_url=f"http://{stats[0]}:{stats[1]}/",
        backend_urls=[f"http://{h}:{p}" for h, p in backends],
        rasa_urls=[f"http://{h}:{p}" for h, p in rasa],
        database_url=f"{pg_base}/{database}",
        admin_url=f"{pg_base}/postgres",
        database=database,
        private=private,
        log_path=log_path,
    )
    try:
        cluster.wait_healthy(timeout)
        for line in (var_dir / "secrets.env").read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                cluster.secrets[key] = value
    except BaseException:
        cluster.stop()
        raise
    return cluster


# --- clients ---------------------------------------------------------------------------------------


class _Client:
    """A socket.io client that keeps what it sent until acked and resends it (same client_msg_id) after
    reconnecting; `seen[(conversation_id, seq)]` is every message event it received."""

    namespace = ""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.seen: dict[tuple[str, int], dict[str, Any]] = {}
        self.sent: dict[str, dict[str, Any]] = {}  # client_msg_id -> payload
        self.acked: dict[str, tuple[str, int]] = {}  # client_msg_id -> (conversation, seq)
        self.reconnects = 0
        self.sio = self._client()

    def _client(self) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)
        sio.on("message", self._on_message, namespace=self.namespace)
        sio.on("session", self._on_session, namespace=self.namespace)
        return sio

    async def _on_message(self, data: dict[str, Any]) -> None:
        self.seen.setdefault((data["conversation_id"], data["seq"]), data)

    async def _on_session(self, data: dict[str, Any]) -> None:
        pass

    async def _call(self, payload: dict[str, Any], conversation_id: str, timeout: float = 10) -> dict[str, Any] | None:
        try:
            ack = await self.sio.call("message", payload, namespace=self.namespace, timeout=timeout)
        except SEND_ERRORS:
            return None
        if isinstance(ack, dict) and "seq" in ack:
            self.acked[payload["client_msg_id"]] = (ack.get("conversation_id") or conversation_id, ack["seq"])
            return ack
        return None

    @property
    def pending(self) -> list[str]:
        return [m for m in self.sent if m not in self.acked]

    async def drop(self) -> None:
        with contextlib.suppress(Exception):  # already gone
            await self.sio.disconnect()
        self.sio = self._client()

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()

    async def connect(self, timeout: float = 10) -> _Client:
        raise NotImplementedError


class Visitor(_Client):
    """An anonymous customer (each one its own conversation), resumed with its resume token."""

    namespace = "/chat"

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.conversation_id = ""
        self.resume_token = ""
        self._sessions = 0

    async def _on_session(self, data: dict[str, Any]) -> None:
        self.conversation_id = data["conversation_id"]
        self.resume_token = data.get("resume_token") or self.resume_token
        self._sessions += 1

    def last_seq(self) -> int:
        held = {s for (c, s) in self.seen if c == self.conversation_id} | {
            s for (c, s) in self.acked.values() if c == self.conversation_id
        }
        n = 0
        while n + 1 in held:
            n += 1
        return n

    async def connect(self, timeout: float = 10) -> Visitor:
        auth: dict[str, Any] = {"last_seq": self.last_seq()}
        if self.conversation_id:
            auth.update(conversation_id=self.conversation_id, resume_token=self.resume_token)
        before = self._sessions
        await self.sio.connect(
            self.base_url, namespaces=[self.namespace], auth=auth, transports=["websocket"], wait_timeout=timeout
        )
        deadline = time.monotonic() + timeout
        while self._sessions == before:
            if time.monotonic() > deadline:
                raise TimeoutError("no session")
            await asyncio.sleep(0.02)
        for msg_id in self.pending:
            await self._call(self.sent[msg_id], self.conversation_id)
        return self

    async def send(self, text: str) -> dict[str, Any] | None:
        msg_id = uuid.uuid4().hex
        self.sent[msg_id] = {"client_msg_id": msg_id, "text": text}
        return await self._call(self.sent[msg_id], self.conversation_id)

    async def wait_reply(self, after_seq: int, timeout: float) -> dict[str, Any] | None:
        """The first bot or system message after `after_seq` (the turn's answer, or its notice).

        Like the widget, a socket whose backend died meanwhile is connected again (with `last_seq`, so the
        server replays what came while it was away): a turn lost with that backend is run again by another
        one about 90 s later (chat/gateway.py, `answer_orphans`), and its reply must find the customer.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for (conv, seq), message in sorted(self.seen.items(), key=lambda kv: kv[0][1]):
                if conv == self.conversation_id and seq > after_seq and message["role"] in ("bot", *NOTICE_ROLES):
                    return message
            if not self.sio.connected:
                with contextlib.suppress(*SEND_ERRORS, OSError, TimeoutError):
                    await reconnect(self, timeout=max(1.0, deadline - time.monotonic()))
            await asyncio.sleep(0.05)
        return None


class Agent(_Client):
    """An agent's console: watches several conversations, re-watches them all after a reconnect."""

    namespace = "/agent"

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(base_url)
        self.token = token
        self.watching: set[str] = set()

    def last_seq(self, conversation_id: str) -> int:
        held = {s for (c, s) in self.seen if c == conversation_id} | {
            s for (c, s) in self.acked.values() if c == conversation_id
        }
        n = 0
        while n + 1 in held:
            n += 1
        return n

    async def connect(self, timeout: float = 10) -> Agent:
        await self.sio.connect(
            self.base_url,
            namespaces=[self.namespace],
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=timeout,
        )
        for conversation_id in sorted(self.watching):
            await self.watch(conversation_id)
        for msg_id in self.pending:
            await self._call(self.sent[msg_id], self.sent[msg_id]["conversation_id"])
        return self

    async def watch(self, conversation_id: str) -> None:
        self.watching.add(conversation_id)
        await self.sio.call(
            "watch",
            {"conversation_id": conversation_id, "last_seq": self.last_seq(conversation_id)},
            namespace=self.namespace,
            timeout=10,
        )

    async def say(self, conversation_id: str, text: str) -> dict[str, Any] | None:
        msg_id = uuid.uuid4().hex
        self.sent[msg_id] = {"client_msg_id": msg_id, "conversation_id": conversation_id, "text": text}
        return await self._call(self.sent[msg_id], conversation_id)


async def reconnect(client: _Client, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        await client.drop()
        try:
            await client.connect()
            client.reconnects += 1
            return
        except (*SEND_ERRORS, OSError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5 + _JITTER.random())


# --- load --------------------------------------------------------------------------------------------


@dataclass
class Turn:
    conversation_id: str
    client_msg_id: str
    answer: str = ""  # "bot", "notice" or "" (nothing came)


@dataclass
class Tally:
    sent: int = 0
    acked: int = 0
    stored: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    turns: int = 0
    answered: int = 0
    notices: int = 0
    unanswered: int = 0
    reconnects: int = 0
    lost_ids: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "lost_ids"} | {"lost_ids": self.lost_ids[:10]}


class ChatLoad:
    """`customers` chats through HAProxy: half talk to the assistant (one turn every `interval` s, each
    waited for), half are in a live chat with an L2 agent; customer and agent each write every `interval` s.
    The agents (one login per backend URL list entry, here all through HAProxy) reply in their chats."""

    def __init__(self, cluster: Cluster, customers: int, *, interval: float = 3.0, live_share: float = 0.5) -> None:
        self.cluster = cluster
        self.interval = interval
        self.n_live = int(customers * live_share)
        self.n_bot = customers - self.n_live
        self.bots: list[Visitor] = []
        self.lives: list[Visitor] = []
        self.agents: list[Agent] = []
        self.turns: list[Turn] = []
        self.running = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.errors: list[str] = []

    async def setup(self) -> None:
        try:
            await self._setup()
        except BaseException:
            await self.close()
            raise

    async def _setup(self) -> None:
        import asyncpg

        if self.n_live:
            # One L2 agent takes every live chat of the load: lift its concurrent-chat capacity (default 3).
            conn = await asyncpg.connect(self.cluster.database_url, timeout=10)
            try:
                await conn.execute("UPDATE agents SET capacity = 100000 WHERE email = 'l2@promptlink.example'")
            finally:
                await conn.close()
        base = self.cluster.public_url
        self.bots = [Visitor(base) for _ in range(self.n_bot)]
        self.lives = [Visitor(base) for _ in range(self.n_live)]
        for group in range(0, len(self.bots) + len(self.lives), 20):
            await asyncio.gather(*(c.connect() for c in (self.bots + self.lives)[group : group + 20]))
        token = await asyncio.to_thread(self.cluster.agent_token, "l2@promptlink.example")
        # Two consoles of the same agent (HAProxy spreads them over the backends); chats alternate.
        self.agents = [await Agent(base, token).connect() for _ in range(2 if self.lives else 0)]
        self._token = token
        lives = list(enumerate(self.lives))
        for group in range(0, len(lives), 10):
            await asyncio.gather(*(self._go_live(k, live) for k, live in lives[group : group + 10]))

    async def _go_live(self, k: int, live: Visitor) -> None:
        ack = await live.send("hola")  # the first message creates the conversation's row
        assert ack, "first message not acked"
        await live.wait_reply(ack["seq"], 120)
        await asyncio.to_thread(self._hand_off, live.conversation_id)
        await self.agents[k % len(self.agents)].watch(live.conversation_id)

    def _hand_off(self, cid: str) -> None:
        # Queue the chat for L2 as the action server would, then claim it as Diego (L2).
        base = self.cluster.public_url
        response = httpx.post(
            f"{base}/api/v1/conversations/{cid}/handoff",
            json={"tier": "L2", "reason": "prueba de carga"},
            headers=self.cluster.service_headers(cid),
            timeout=30,
        )
        if response.status_code != 200:
            raise RuntimeError(f"handoff {cid}: {response.status_code} {response.text}")
        token = getattr(self, "_token", None) or self.cluster.agent_token("l2@promptlink.example")
        claimed = httpx.post(
            f"{base}/api/v1/conversations/{cid}/claim", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        if claimed.status_code != 200:
            raise RuntimeError(f"claim {cid}: {claimed.status_code} {claimed.text}")

    async def _bot_loop(self, visitor: Visitor) -> None:
        n = 0
        await asyncio.sleep(_JITTER.random() * self.interval)
        while self.running.is_set():
            text = BOT_TEXTS[n % len(BOT_TEXTS)]
            n += 1
            ack = await visitor.send(text)
            msg_id = list(visitor.sent)[-1]
            turn = Turn(visitor.conversation_id, msg_id)
            self.turns.append(turn)
            if ack is None:
                # Reconnecting resends what is unacknowledged; that resend can fail too (it reached the
                # process being killed): like the widget, try again until it is acknowledged. Without an
                # ack the turn's reply was never waited for, and counted unanswered.
                for _ in range(10):
                    await reconnect(visitor)
                    if msg_id in visitor.acked:
                        break
                ack_seq = visitor.acked.get(msg_id, ("", 0))[1]
            else:
                ack_seq = ack["seq"]
            if ack_seq:
                # A turn whose process died is run again once its first try would have ended (chat/gateway.py).
                reply = await visitor.wait_reply(ack_seq, 150)
                if reply is not None:
                    turn.answer = "bot" if reply["role"] == "bot" else "notice"
            if not visitor.sio.connected:
                await reconnect(visitor)
            await asyncio.sleep(self.interval)

    async def _live_loop(self, visitor: Visitor, agent: Agent) -> None:
        n = 0
        await asyncio.sleep(_JITTER.random() * self.interval)
        while self.running.is_set():
            cid = visitor.conversation_id
            if await visitor.send(f"cliente {cid[:8]} {n}") is None:
                await reconnect(visitor)
            if await agent.say(cid, f"agente {cid[:8]} {n}") is None:
                await self._agent_back(agent)
            n += 1
            await asyncio.sleep(self.interval)

    async def _agent_back(self, agent: Agent) -> None:
        # One reconnect per console, whichever chat noticed first.
        if getattr(agent, "_reconnecting", None) is None:
            agent._reconnecting = asyncio.ensure_future(reconnect(agent))  # type: ignore[attr-defined]
        task = agent._reconnecting  # type: ignore[attr-defined]
        try:
            await task
        finally:
            if agent._reconnecting is task:  # type: ignore[attr-defined]
                agent._reconnecting = None  # type: ignore[attr-defined]

    def start(self) -> None:
        self.running.set()
        self.tasks = [asyncio.ensure_future(self._guard(self._bot_loop(v))) for v in self.bots]
        self.tasks += [
            asyncio.ensure_future(self._guard(self._live_loop(v, self.agents[k % len(self.agents)])))
            for k, v in enumerate(self.lives)
        ]

    async def _guard(self, loop: Any) -> None:
        try:
            await loop
        except Exception as exc:  # noqa: BLE001 - reported by tally(), never hidden
            self.errors.append(repr(exc))

    async def stop(self) -> None:
        """Stop writing; every client reconnects if needed and resends what is still unacknowledged."""
        self.running.clear()
        await asyncio.gather(*self.tasks)
        for client in [*self.bots, *self.lives, *self.agents]:
            if not client.sio.connected or client.pending:
                await reconnect(client)  # resends pending on connect
        await asyncio.sleep(2)  # the last events in flight

    async def close(self) -> None:
        for client in [*self.bots, *self.lives, *self.agents]:
            with contextlib.suppress(Exception):
                await client.close()

    async def tally(self) -> Tally:
        """Count from the clients and the database; a message is lost when acked and not stored once, or
        stored and never received by the other side."""
        import asyncpg

        result = Tally()
        clients: list[_Client] = [*self.bots, *self.lives, *self.agents]
        sent = {msg_id: c for c in clients for msg_id in c.sent}
        result.sent = len(sent)
        result.acked = sum(len(c.acked) for c in clients)
        result.reconnects = sum(c.reconnects for c in clients)
        conn = await asyncpg.connect(self.cluster.database_url, timeout=10)
        try:
            rows = await conn.fetch(
                "SELECT conversation_id, seq, client_msg_id, text FROM messages WHERE client_msg_id = ANY($1::text[])",
                list(sent),
            )
            conversations = [v.conversation_id for v in self.lives]
            texts = await conn.fetch(
                "SELECT conversation_id, text, count(*) AS n FROM messages "
                "WHERE conversation_id::text = ANY($1::text[]) AND role IN ('customer', 'agent') "
                "GROUP BY conversation_id, text HAVING count(*) > 1",
                conversations,
            )
        finally:
            await conn.close()
        by_id: dict[str, list[Any]] = {}
        for row in rows:
            by_id.setdefault(row["client_msg_id"], []).append(row)
        result.stored = len(by_id)
        result.duplicated = sum(len(v) - 1 for v in by_id.values()) + sum(r["n"] - 1 for r in texts)
        for msg_id, client in sent.items():
            stored = by_id.get(msg_id)
            if not stored:
                if msg_id in client.acked:
                    result.lost += 1
                    result.lost_ids.append(msg_id)
                continue
            key = (str(stored[0]["conversation_id"]), stored[0]["seq"])
            if isinstance(client, Agent):
                receivers: list[_Client] = [v for v in self.lives if v.conversation_id == key[0]]
            elif client in self.lives:
                receivers = [a for a in self.agents if key[0] in a.watching]
            else:
                receivers = []  # the assistant: counted as a turn below
            if not receivers:
                continue
            if any(key in r.seen for r in receivers):
                result.delivered += 1
            else:
                result.lost += 1
                result.lost_ids.append(msg_id)
        for turn in self.turns:
            if turn.client_msg_id not in by_id:
                continue
            result.turns += 1
            if turn.answer == "bot":
                result.answered += 1
            elif turn.answer == "notice":
                result.notices += 1
            else:
                result.unanswered += 1
        # A stored assistant turn counts as delivered when answered or its notice shown.
        result.delivered += result.answered + result.notices
        return result
