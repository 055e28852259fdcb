"""Live chat benchmark (issue #5): many customer sockets and agents on one backend process.

Run with the backend environment, from the repository root:

    .venv/bin/python bench/livechat.py [--customers 1000] [--agents 50] [--rate 200] [--seconds 30]
                                       [--storm-seconds 20] [--procs 4] [--label NAME]
                                       [--compare FILE.json]

One backend process (`python -m promptlink serve`, demo mode, SQLite in a temporary var dir, Rasa and
the action server on closed ports, workers on, per-socket rate limits raised) gets `--agents` L1 agents
and `--customers` contacts added to its database. Each customer connects a `/chat` socket (websocket
transport; a widget JWT signed with the demo widget secret) and so opens a conversation; each
conversation is handed off to L1 (service token) and claimed by one agent (`POST .../claim`); every
agent connects to `/agent` and `watch`es its chats. Then:

- memory: backend VmRSS before any socket, after the customers, after agents + handoffs + claims;
- delivery: agents send `--rate` messages/s in all for `--seconds`; each text carries `time.time()`
  at sending; customers time the `message` event's arrival (customers run in `--procs` processes);
- storm: sending goes on for `--storm-seconds`; shortly after it starts every customer drops its socket
  and reconnects at once with `conversation_id` and `last_seq`; afterwards each customer checks it
  holds every seq 1..last of its conversation (lost, duplicated), and the storm's duration is the time
  until the last customer had its `session` event again.

Traffic goes only to 127.0.0.1; every process started is stopped on exit, error or Ctrl-C.
It prints figures and writes bench/results/livechat-<label>.json; it never asserts about timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from harness import ROOT, backend_process, database, log
from measure import CpuWatch, cpu_seconds, machine_info, print_report, rss_mb, write_report
from measure import summary as _summary

from testkit.demo import SERVICE_TOKEN

WIDGET_SECRET = "demo-widget-secret"  # the demo value (PROMPTLINK_DEMO=1)
AGENT_PASSWORD = "bench-agent-password"
RATE_ENV = {"PROMPTLINK_CHAT_RATE_BURST": "1000", "PROMPTLINK_CHAT_RATE_PER_SECOND": "1000"}
CALL_TIMEOUT = 30.0
CONNECT_TIMEOUT = 60.0
CONNECT_ATTEMPTS = 5
GOALS = {"kb_per_connection": 100.0, "p95_ms": 100.0}


def summary(values: list[float]) -> dict[str, float]:
    return _summary(values, (50, 95, 99))


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- customers (worker processes)


class Customer:
    """One `/chat` client; its record of seqs survives reconnects (a new AsyncClient each time)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        self.conversation_id: str | None = None
        self.seen: set[int] = set()
        self.duplicates = 0
        self.latencies: list[tuple[float, float]] = []  # (sent epoch, ms)
        self.sessions = 0
        self.session_at = 0.0
        self.attempts = 0
        self._session = asyncio.Event()
        self.sio: Any = None

    def _client(self) -> Any:
        import socketio

        sio = socketio.AsyncClient(reconnection=False)
        sio.on("message", self._on_message, namespace="/chat")
        sio.on("session", self._on_session, namespace="/chat")
        return sio

    async def _on_session(self, data: dict[str, Any]) -> None:
        self.conversation_id = data["conversation_id"]
        self.sessions += 1
        self.session_at = time.time()
        self._session.set()

    async def _on_message(self, data: dict[str, Any]) -> None:
        now = time.time()
        seq = data.get("seq")
        if not isinstance(seq, int):
            return
        if seq in self.seen:
            self.duplicates += 1
            return
        self.seen.add(seq)
        if data.get("role") == "agent" and str(data.get("text", "")).startswith("bench "):
            sent = float(str(data["text"]).split()[1])
            self.latencies.append((sent, (now - sent) * 1000))

    @property
    def last_seq(self) -> int:
        n = 0
        while n + 1 in self.seen:
            n += 1
        return n

    async def connect(self) -> bool:
        """Connect (retrying with backoff, like the widget) until the `session` event; False when it gave up."""
        delay = 0.5
        for _ in range(CONNECT_ATTEMPTS):
            self.attempts += 1
            self._session.clear()
            self.sio = self._client()
            auth: dict[str, Any] = {"identity": self.token, "last_seq": self.last_seq}
            if self.conversation_id:
                auth["conversation_id"] = self.conversation_id
            try:
                await self.sio.connect(
                    self.base_url,
                    namespaces=["/chat"],
                    auth=auth,
                    transports=["websocket"],
                    wait_timeout=CONNECT_TIMEOUT,
                )
                await asyncio.wait_for(self._session.wait(), CONNECT_TIMEOUT)
                return True
            except Exception:  # noqa: BLE001 - any failure: drop this client and retry
                try:
                    await self.sio.disconnect()
                except Exception:  # noqa: BLE001, S110
                    pass
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        return False

    async def drop(self) -> None:
        try:
            await self.sio.disconnect()
        except Exception:  # noqa: BLE001, S110 - already gone
            pass


def widget_token(email: str, code: str, name: str) -> str:
    import warnings

    import jwt

    warnings.filterwarnings("ignore", message="The HMAC key")  # the documented demo widget secret is short
    claims = {"sub": email, "customer": code, "name": name, "exp": int(time.time()) + 6 * 3600}
    return jwt.encode(claims, WIDGET_SECRET, algorithm="HS256")


async def _worker_main(conn: Connection, base_url: str, emails: list[tuple[str, str]]) -> None:
    loop = asyncio.get_running_loop()
    customers = [
        Customer(base_url, widget_token(email, code, f"Cliente {email.split('@')[0]}")) for email, code in emails
    ]
    while True:
        cmd, arg = await loop.run_in_executor(None, conn.recv)
        cpu0, wall0 = _cpu_self(), time.time()
        if cmd == "connect":
            gate = asyncio.Semaphore(int(arg))

            async def one(c: Customer, gate: asyncio.Semaphore = gate) -> bool:
                async with gate:
                    return await c.connect()

            ok = await asyncio.gather(*(one(c) for c in customers))
            result: Any = {"ok": sum(ok), "conversations": [c.conversation_id for c in customers]}
        elif cmd == "storm":
            await asyncio.sleep(max(0.0, float(arg) - time.time()))  # every process drops at the same moment
            started = time.time()
            await asyncio.gather(*(c.drop() for c in customers))
            dropped = time.time()
            ok = await asyncio.gather(*(c.connect() for c in customers))
            result = {
                "started": started,
                "dropped": dropped,
                "ok": sum(ok),
                "failed": len(ok) - sum(ok),
                "done": [c.session_at for c in customers],
                "attempts": sum(c.attempts for c in customers),
            }
        elif cmd == "catch_up":
            # As the widget does: a socket that dropped after the storm (e.g. the engineio client
            # missed pings while the backend was busy) reconnects with its last_seq and is replayed.
            behind = [c for c in customers if c.sio is None or not c.sio.connected]
            ok = await asyncio.gather(*(c.connect() for c in behind))
            result = {"reconnected": sum(ok), "failed": len(ok) - sum(ok)}
        elif cmd == "report":
            result = {
                "latencies": [lat for c in customers for lat in c.latencies],
                "seen": {c.conversation_id: sorted(c.seen) for c in customers},
                "duplicates": sum(c.duplicates for c in customers),
                "connected": sum(1 for c in customers if c.sio is not None and c.sio.connected),
            }
        elif cmd == "stop":
            await asyncio.gather(*(c.drop() for c in customers))
            conn.send({"cpu_s": 0.0, "wall_s": 0.0})
            return
        else:
            result = {"error": f"unknown command {cmd}"}
        result["cpu_s"] = _cpu_self() - cpu0
        result["wall_s"] = time.time() - wall0
        conn.send(result)


def worker(conn: Connection, base_url: str, emails: list[tuple[str, str]]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    try:
        asyncio.run(_worker_main(conn, base_url, emails))
    except (EOFError, KeyboardInterrupt):
        pass
    except Exception:  # noqa: BLE001
        traceback.print_exc()


class Workers:
    def __init__(self, base_url: str, emails: list[tuple[str, str]], procs: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for i in range(procs):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker, args=(child, base_url, emails[i::procs]), daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)

    async def all(self, cmd: str, arg: Any = None) -> list[Any]:
        loop = asyncio.get_running_loop()
        for pipe in self.pipes:
            pipe.send((cmd, arg))
        return list(await asyncio.gather(*(loop.run_in_executor(None, pipe.recv) for pipe in self.pipes)))

    def stop(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(("stop", None))
            except OSError:
                pass
        deadline = time.monotonic() + 10
        for p in self.procs:
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():  # still busy (e.g. interrupted mid-command): its pending recv() then ends too
                p.terminate()
                p.join(5)


# --------------------------------------------------------------------------- setup in the bench database


def add_rows(db_path: Path, agents: int, customers: int, per_customer: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Add L1 agents (capacity ≥ their share) and `customers` contacts, `per_customer` to a bench customer
    (BENCH-0001, ...), to the bench database only. Returns agent e-mails and (contact e-mail, customer code)."""
    from datetime import time as clock_time

    from promptlink.models import Agent, Contact, Customer
    from promptlink.services.passwords import hash_password
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    password_hash = hash_password(AGENT_PASSWORD)  # one argon2 hash shared by all bench agents
    capacity = max(20, -(-customers // max(1, agents)))
    engine = create_engine(f"sqlite:///{db_path}")
    agent_emails = [f"bench-agent-{i:03d}@promptlink.example" for i in range(agents)]
    contacts: list[tuple[str, str]] = []
    with Session(engine) as session, session.begin():
        for i, email in enumerate(agent_emails):
            session.add(
                Agent(
                    email=email,
                    name=f"Agente {i:03d}",
                    role="agent",
                    tiers="L1",
                    password_hash=password_hash,
                    active=True,
                    presence="offline",
                    capacity=capacity,
                )
            )
        customer = None
        for i in range(customers):
            if i % per_customer == 0:
                code = f"BENCH-{i // per_customer + 1:04d}"
                customer = Customer(
                    code=code,
                    name=f"Cliente de prueba {i // per_customer + 1}",
                    timezone="America/Bogota",
                    business_start=clock_time(8, 0),
                    business_end=clock_time(18, 0),
                )
                session.add(customer)
                session.flush()
            assert customer is not None
            email = f"cliente-{i:05d}@bench.example"
            session.add(Contact(customer_id=customer.id, email=email, name=f"Cliente {i:05d}"))
            contacts.append((email, customer.code))
    engine.dispose()
    return agent_emails, contacts


# --------------------------------------------------------------------------- agents (this process)


class AgentClient:
    def __init__(self, base_url: str, token: str) -> None:
        import socketio

        self.base_url = base_url
        self.token = token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.conversations: list[str] = []
        self.hello = asyncio.Event()

        async def on_hello(_: Any) -> None:
            self.hello.set()

        self.sio.on("hello", on_hello, namespace="/agent")

    async def connect(self) -> None:
        await self.sio.connect(
            self.base_url,
            namespaces=["/agent"],
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=CONNECT_TIMEOUT,
        )
        await asyncio.wait_for(self.hello.wait(), CONNECT_TIMEOUT)


async def _bounded(items: list[Any], limit: int, fn: Any) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(item: Any) -> Any:
        async with gate:
            return await fn(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


class Sender:
    """Agents' messages at a fixed total rate, round-robin over agents and their conversations."""

    def __init__(self, agents: list[AgentClient], rate: float) -> None:
        self.agents = agents
        self.rate = rate
        self.k = 0
        self.sent: list[tuple[float, str]] = []  # (sent epoch, phase)
        self.acked: dict[str, int] = {}  # conversation -> highest agent seq acked
        self.ack_ms: list[float] = []
        self.errors: dict[str, int] = {}
        self.lag_ms: list[float] = []  # how late each send was against its schedule (client-side saturation)
        self.tasks: set[asyncio.Task[None]] = set()

    async def _send(self, k: int, phase: str) -> None:
        agent = self.agents[k % len(self.agents)]
        conversation = agent.conversations[(k // len(self.agents)) % len(agent.conversations)]
        sent = time.time()
        self.sent.append((sent, phase))
        try:
            ack = await agent.sio.call(
                "message",
                {"conversation_id": conversation, "client_msg_id": f"bench-{k}", "text": f"bench {sent:.6f} {k}"},
                namespace="/agent",
                timeout=CALL_TIMEOUT,
            )
        except Exception as exc:  # noqa: BLE001
            self.errors[type(exc).__name__] = self.errors.get(type(exc).__name__, 0) + 1
            return
        if isinstance(ack, dict) and isinstance(ack.get("seq"), int):
            self.ack_ms.append((time.time() - sent) * 1000)
            self.acked[conversation] = max(self.acked.get(conversation, 0), ack["seq"])
        else:
            key = str(ack.get("error") if isinstance(ack, dict) else ack)[:60]
            self.errors[key] = self.errors.get(key, 0) + 1

    async def run(self, seconds: float, phase: str) -> None:
        start = time.monotonic()
        n = int(seconds * self.rate)
        for i in range(n):
            due = start + i / self.rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.lag_ms.append(-delay * 1000)
            task = asyncio.create_task(self._send(self.k, phase))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            self.k += 1

    async def drain(self) -> None:
        if self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


# --------------------------------------------------------------------------- the run


def _kb(before: dict[str, Any], after: dict[str, Any], n: int) -> float | None:
    return round((after["rss"] - before["rss"]) * 1024 / n, 1) if n else None


async def traffic(
    args: argparse.Namespace, running: Any, emails: list[tuple[str, str]], agent_emails: list[str]
) -> dict[str, Any]:
    import httpx

    pid = running.process.pid
    base = running.base_url
    out: dict[str, Any] = {"phases": {}}

    def phase_mark(name: str, cpu0: float, wall0: float, clients_cpu: float = 0.0) -> None:
        wall = time.time() - wall0
        out["phases"][name] = {
            "wall_s": round(wall, 2),
            "backend_cores": round((cpu_seconds(pid) - cpu0) / wall, 2) if wall > 0 else None,
            "load_1m": round(os.getloadavg()[0], 2),
        }
        if clients_cpu:
            out["phases"][name]["customer_procs_cores"] = round(clients_cpu / wall, 2) if wall > 0 else None

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        tokens: list[str] = []
        for email in agent_emails:  # one at a time: each login is an argon2 verification (64 MiB)
            r = await http.post("/api/v1/auth/login", json={"email": email, "password": AGENT_PASSWORD})
            r.raise_for_status()
            tokens.append(r.json()["token"])
        await asyncio.sleep(2.0)
        out["rss_mb"] = {"before": rss_mb(pid)}
        log(f"agents logged in; backend RSS before sockets {out['rss_mb']['before']['rss']} MB")

        workers = Workers(base, emails, args.procs)
        agents: list[AgentClient] = []
        try:
            cpu0, wall0 = cpu_seconds(pid), time.time()
            results = await workers.all("connect", args.connect_concurrency)
            conversations = [c for r in results for c in r["conversations"]]
            phase_mark("connect_customers", cpu0, wall0, sum(r["cpu_s"] for r in results))
            out["customers_connected"] = sum(r["ok"] for r in results)
            log(f"{out['customers_connected']}/{len(emails)} customers connected: {out['phases']['connect_customers']}")
            await asyncio.sleep(2.0)
            out["rss_mb"]["customers"] = rss_mb(pid)

            # Hand each conversation off to L1 and have its agent claim it right away, 20 at a time, so the
            # queue stays short: queue_changed() reloads the whole tier queue and emits `handoff` to every
            # waiting customer on each change, so 1,000 handoffs first and claims after is quadratic.
            cpu0, wall0 = cpu_seconds(pid), time.time()
            live = [c for c in conversations if c]
            service = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
            agents = [AgentClient(base, t) for t in tokens]
            owner: dict[str, AgentClient] = {}
            for i, cid in enumerate(live):
                agents[i % len(agents)].conversations.append(cid)
                owner[cid] = agents[i % len(agents)]

            async def handoff_claim(cid: str) -> tuple[int, int]:
                # As the action server: with the conversation token the backend gives Rasa (docs/security.md).
                from promptlink.services.conversation_token import HEADER, key_from, sign

                token = sign(key=key_from("demo-session-secret-not-for-production"), conversation_id=cid, contact=None)
                r = await http.post(
                    f"/api/v1/conversations/{cid}/handoff",
                    json={"tier": "L1", "reason": "bench"},
                    headers={**service, HEADER: token},
                )
                c = await http.post(
                    f"/api/v1/conversations/{cid}/claim", headers={"Authorization": f"Bearer {owner[cid].token}"}
                )
                return r.status_code, c.status_code

            codes = await _bounded(live, 20, handoff_claim)
            out["handoffs"] = {str(c): [h for h, _ in codes].count(c) for c in {h for h, _ in codes}}
            out["claims"] = {str(c): [k for _, k in codes].count(c) for c in {k for _, k in codes}}
            phase_mark("handoffs_claims", cpu0, wall0)
            log(f"handoffs {out['handoffs']}, claims {out['claims']}: {out['phases']['handoffs_claims']}")

            cpu0, wall0 = cpu_seconds(pid), time.time()
            await _bounded(agents, 10, lambda a: a.connect())

            async def watch(pair: tuple[AgentClient, str]) -> Any:
                agent, cid = pair
                return await agent.sio.call(
                    "watch", {"conversation_id": cid, "last_seq": 0}, namespace="/agent", timeout=CALL_TIMEOUT
                )

            acks = await _bounded([(a, c) for a in agents for c in a.conversations], 20, watch)
            out["watch_errors"] = sum(1 for a in acks if not isinstance(a, dict) or "error" in a)
            phase_mark("connect_agents_watch", cpu0, wall0)
            await asyncio.sleep(2.0)
            out["rss_mb"]["after"] = rss_mb(pid)
            n = len(emails) + len(agents)
            before, after = out["rss_mb"]["before"], out["rss_mb"]["after"]
            out["memory"] = {
                "connections": n,
                "kb_per_connection": _kb(before, after, n),
                "kb_per_customer_socket_only": _kb(before, out["rss_mb"]["customers"], len(emails)),
            }
            log(f"memory {out['memory']}")

            # Steady delivery.
            sender = Sender(agents, args.rate)
            cpu0, wall0, self0 = cpu_seconds(pid), time.time(), _cpu_self()
            await sender.run(args.seconds, "steady")
            steady_end = time.time()
            phase_mark("steady", cpu0, wall0)
            out["phases"]["steady"]["agent_proc_cores"] = round((_cpu_self() - self0) / (time.time() - wall0), 2)

            # Storm: keep sending; every customer drops and reconnects at once.
            cpu0, wall0, self0 = cpu_seconds(pid), time.time(), _cpu_self()
            storm_at = time.time() + 2.0
            storm_results_task = asyncio.create_task(workers.all("storm", storm_at))
            await sender.run(args.storm_seconds, "storm")
            storm_results = await storm_results_task
            await sender.drain()
            phase_mark("storm", cpu0, wall0, sum(r["cpu_s"] for r in storm_results))
            out["phases"]["storm"]["agent_proc_cores"] = round((_cpu_self() - self0) / (time.time() - wall0), 2)
            done = [t for r in storm_results for t in r["done"] if t >= storm_at]
            storm_end = max(done) if done else time.time()
            out["storm"] = {
                "customers": len(emails),
                "reconnected": sum(r["ok"] for r in storm_results),
                "failed": sum(r["failed"] for r in storm_results),
                "connect_attempts": sum(r["attempts"] for r in storm_results),
                "drop_s": round(max(r["dropped"] for r in storm_results) - storm_at, 2),
                "duration_s": round(storm_end - storm_at, 2),
                "reconnected_ms": summary([(t - storm_at) * 1000 for t in done]),
            }
            log(f"storm {out['storm']}")

            # Let replays and the last deliveries arrive; customers whose socket dropped since then
            # reconnect as the widget would; then compare with what the agents were acked.
            await asyncio.sleep(5.0)
            caught = await workers.all("catch_up")
            out["storm"]["catch_up_reconnects"] = sum(r["reconnected"] for r in caught)
            out["storm"]["catch_up_failed"] = sum(r["failed"] for r in caught)
            log(f"catch-up reconnects {out['storm']['catch_up_reconnects']} (failed {out['storm']['catch_up_failed']})")
            await asyncio.sleep(3.0)
            reports = await workers.all("report")
        finally:
            workers.stop()
        for agent in agents:
            try:
                await agent.sio.disconnect()
            except Exception:  # noqa: BLE001, S110
                pass

    lat = [pair for r in reports for pair in r["latencies"]]
    seen: dict[str, list[int]] = {}
    for r in reports:
        seen.update(r["seen"])
    lost = 0
    lost_conversations = 0
    for cid, acked in sender.acked.items():
        have = set(seen.get(cid, []))
        missing = sum(1 for s in range(1, acked + 1) if s not in have)
        lost += missing
        lost_conversations += 1 if missing else 0

    def window(a: float, b: float) -> list[float]:
        return [ms for sent, ms in lat if a <= sent < b]

    sent_steady = sum(1 for _, p in sender.sent if p == "steady")
    out["delivery"] = {
        "rate_msg_s": args.rate,
        "sent": len(sender.sent),
        "sent_steady": sent_steady,
        "acked": len(sender.ack_ms),
        "received": len(lat),
        "errors": sender.errors,
        "ack_ms": summary(sender.ack_ms),
        "send_lag_ms": summary(sender.lag_ms) if sender.lag_ms else {"late_sends": 0},
        "late_sends_over_50ms": sum(1 for v in sender.lag_ms if v > 50),
        "steady_ms": summary(window(0, steady_end)),
        "steady_received": len(window(0, steady_end)),
        "storm_window_ms": summary(window(storm_at, storm_end)),
        "storm_phase_ms": summary(window(steady_end, float("inf"))),
    }
    out["storm"].update(
        {
            "lost": lost,
            "lost_conversations": lost_conversations,
            "duplicated": sum(r["duplicates"] for r in reports),
            "connected_at_end": sum(r["connected"] for r in reports),
        }
    )
    steady = out["delivery"]["steady_ms"]
    out["goal"] = {
        "kb_per_connection_ok": (out["memory"]["kb_per_connection"] or 0) < GOALS["kb_per_connection"],
        "p95_ok": bool(steady) and steady["p95"] < GOALS["p95_ms"],
        "no_loss_ok": lost == 0 and len(lat) == len(sender.ack_ms) == len(sender.sent),
    }
    out["rss_mb"]["end"] = rss_mb(pid)
    return out


ROWS = [
    ("customers_connected", "customers connected"),
    ("memory.connections", "sockets (customers + agents)"),
    ("rss_mb.before.rss", "backend RSS before sockets MB"),
    ("rss_mb.customers.rss", "backend RSS with customers MB"),
    ("rss_mb.after.rss", "backend RSS + agents, claimed MB"),
    ("memory.kb_per_connection", "KB per connection"),
    ("memory.kb_per_customer_socket_only", "KB per customer socket (no handoff)"),
    ("phases.connect_customers.wall_s", "connect all customers s"),
    ("delivery.rate_msg_s", "offered rate msg/s"),
    ("delivery.sent", "agent messages sent"),
    ("delivery.acked", "acked"),
    ("delivery.received", "received by customers"),
    ("delivery.ack_ms.p50", "p50 agent ack ms"),
    ("delivery.ack_ms.p95", "p95 agent ack ms"),
    ("delivery.steady_ms.p50", "steady: p50 delivery ms"),
    ("delivery.steady_ms.p95", "steady: p95 delivery ms"),
    ("delivery.steady_ms.p99", "steady: p99 delivery ms"),
    ("delivery.steady_ms.max", "steady: max delivery ms"),
    ("delivery.late_sends_over_50ms", "sends >50 ms behind schedule"),
    ("phases.steady.backend_cores", "steady: backend cores"),
    ("phases.steady.agent_proc_cores", "steady: agents' process cores"),
    ("phases.steady.load_1m", "steady: load average 1m"),
    ("storm.duration_s", "storm: all reconnected after s"),
    ("storm.reconnected_ms.p50", "storm: p50 reconnect ms"),
    ("storm.reconnected", "storm: reconnected"),
    ("storm.failed", "storm: gave up"),
    ("storm.connect_attempts", "storm: connect attempts"),
    ("storm.catch_up_reconnects", "storm: dropped later, reconnected"),
    ("storm.lost", "storm: lost seqs"),
    ("storm.duplicated", "storm: duplicated deliveries"),
    ("delivery.storm_window_ms.p50", "storm window: p50 delivery ms"),
    ("delivery.storm_window_ms.p95", "storm window: p95 delivery ms"),
    ("delivery.storm_window_ms.max", "storm window: max delivery ms"),
    ("phases.storm.backend_cores", "storm: backend cores"),
    ("phases.storm.customer_procs_cores", "storm: customer processes cores"),
    ("phases.storm.load_1m", "storm: load average 1m"),
    ("goal.kb_per_connection_ok", "goal < 100 KB per connection"),
    ("goal.p95_ok", "goal p95 < 100 ms"),
    ("goal.no_loss_ok", "goal no loss"),
    ("other_cpu_cores", "other work on the machine, cores"),
]


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="promptlink-bench-livechat-"))
    try:
        return _run_in(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_in(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    with database("sqlite", work, "livechat") as url:
        extra = dict(RATE_ENV)
        with backend_process(url, workers=True, keep_var=args.keep_var, extra_env=extra) as running:
            db_path = Path(url.split("///", 1)[1])
            agent_emails, emails = add_rows(db_path, args.agents, args.customers, args.contacts_per_customer)
            log(
                f"backend pid {running.process.pid} at {running.base_url}; added {args.agents} agents, "
                f"{args.customers} contacts"
            )
            cpu = CpuWatch(running.process.pid)
            result = asyncio.run(traffic(args, running, emails, agent_emails))
            result["other_cpu_cores"] = cpu.other_cores()  # includes the customer processes (not children of it)
            result["backend_env"] = extra
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0, help="agent messages per second in all")
    parser.add_argument("--seconds", type=float, default=30.0, help="steady sending before the storm")
    parser.add_argument("--storm-seconds", type=float, default=20.0, help="sending during and after the storm")
    parser.add_argument(
        "--contacts-per-customer",
        type=int,
        default=10,
        help="bench contacts per bench customer (default 10; every Customer load also loads all its contacts)",
    )
    parser.add_argument("--procs", type=int, default=4, help="processes for the customer sockets")
    parser.add_argument("--connect-concurrency", type=int, default=25, help="connects in flight per process")
    parser.add_argument("--label", default=time.strftime("%Y-%m-%d-%H%M"))
    parser.add_argument("--out", type=Path, help="default bench/results/livechat-<label>.json")
    parser.add_argument("--compare", "--baseline", dest="compare", type=Path, help="a JSON of an earlier run")
    parser.add_argument("--note", default="")
    parser.add_argument("--keep-var", action="store_true")
    args = parser.parse_args(argv)
    if min(args.customers, args.agents, args.procs, args.contacts_per_customer) < 1 or args.rate <= 0:
        parser.error("--customers, --agents, --procs must be >= 1 and --rate > 0")
    baseline = json.loads(args.compare.read_text()) if args.compare else None
    report: dict[str, Any] = {
        "machine": machine_info(),
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "scenarios": {},
    }
    if args.note:
        report["machine"]["note"] = args.note
    failed = False
    try:
        report["scenarios"]["livechat"] = run(args)
    except KeyboardInterrupt:
        log("interrupted; processes stopped")
        return 130
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc()
        report["scenarios"]["livechat"] = {"error": f"{type(exc).__name__}: {exc}"}
        failed = True
    report["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    title = (
        f"livechat: {args.customers} customers, {args.agents} agents, {args.rate:g} msg/s, "
        f"{args.seconds:g}+{args.storm_seconds:g} s, {args.procs} customer processes"
    )
    print_report("livechat benchmark", report, baseline, ROWS, {"livechat": title})
    write_report(report, args.out or ROOT / "bench" / "results" / f"livechat-{args.label}.json")
    return 1 if failed else 0


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(main())
