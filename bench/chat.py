"""Chat benchmark: ack latency and throughput of the `/chat` gateway, and assistant reply time.

Run with the backend environment, from the repository root:

    .venv/bin/python bench/chat.py [--scenario store|assistant|all] [--clients C] [--messages N]
                                   [--assistant-messages M] [--out FILE.json] [--baseline FILE.json]

It starts its own processes on free ports in a temporary var dir, the way tests/conftest.py
does (its helpers are imported from there), talks to them only on 127.0.0.1 and stops them
on exit, Ctrl-C or error. It prints figures; it never asserts anything about timing.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "/chat"
CALL_TIMEOUT = 10.0  # one ack
REPLY_TIMEOUT = 60.0  # one assistant reply (the first one also loads Rasa's graph)
MAX_CONSECUTIVE_ERRORS = 10
OTHER_WORK_WARNING = 0.1  # cores of CPU used by other processes during a scenario
CONTACT = "ana.gomez@cableandina.example"  # a demo contact (PROMPTLINK_DEMO=1 seeds it)
RASA_CHANNEL_TOKEN = "demo-rasa-channel-token-not-for-production"  # the demo value (PROMPTLINK_DEMO=1)

# Greetings, thanks, goodbyes, "are you a bot" and out-of-scope questions: each one gets one reply.
ASSISTANT_TEXTS = [
    "hola",
    "buenas tardes",
    "gracias",
    "cuál es el clima hoy",
    "buenos días",
    "eres un robot?",
    "muchas gracias",
    "me recomiendas una película",
    "saludos",
    "qué hora es",
    "te lo agradezco",
    "quién ganó el partido ayer",
    "buenas noches",
    "hasta luego",
    "cuéntame un chiste",
]


# --------------------------------------------------------------------------- processes


def load_conftest() -> ModuleType:
    """tests/conftest.py as a module (tests/ is not a package)."""
    name = "promptlink_bench_conftest"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "conftest.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("cannot load tests/conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


@contextmanager
def started(kind: str, *, keep_var: bool, model: Path | None = None, rasa_processes: int = 1) -> Iterator[Any]:
    """A `Running` (see tests/conftest.py): `lone` = backend alone with Rasa down, `stack` = supervisor.

    Same steps as conftest's `_start`, but the process is stopped on any exit, KeyboardInterrupt included,
    and also while waiting for it to become healthy.
    """
    ct = load_conftest()
    var_dir = Path(tempfile.mkdtemp(prefix=f"promptlink-bench-{kind}-"))
    running = None
    try:
        rasa_urls = [f"http://127.0.0.1:{ct.free_port()}" for _ in range(rasa_processes)]
        env = ct.base_env(
            var_dir,
            PROMPTLINK_HOST="127.0.0.1",
            PROMPTLINK_PORT=str(ct.free_port()),
            PROMPTLINK_RASA_URL=rasa_urls[0],
            PROMPTLINK_RASA_URLS=",".join(rasa_urls),
            PROMPTLINK_ACTIONS_URL=f"http://127.0.0.1:{ct.free_port()}",
            # Every simulated customer connects from 127.0.0.1: no bound on sockets per address.
            PROMPTLINK_CHAT_CONNECTIONS_PER_IP="0",
        )
        ct.cli(env, "migrate")
        ct.cli(env, "seed")
        log_path = var_dir / "process.log"
        if kind == "lone":
            argv, accept, timeout = ["serve"], (503,), 60.0
        else:
            argv, accept, timeout = ["run", *(["--model", str(model)] if model else [])], (200,), 300.0
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [str(ct.BACKEND_PY), "-m", "promptlink", *argv],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        running = ct.Running(f"http://127.0.0.1:{env['PROMPTLINK_PORT']}", var_dir, env, process, log_path)
        running.extra["rasa_url"] = env["PROMPTLINK_RASA_URL"]
        running.extra["rasa_urls"] = rasa_urls
        try:
            ct.wait_http(running.base_url + "/api/v1/health", timeout=timeout, accept=accept, process=process)
        except Exception:
            sys.stderr.write(running.log()[-5000:])
            raise
        yield running
    finally:
        if running is not None:
            log(f"stopping {kind} (pid {running.process.pid})")
            running.stop()
        if keep_var:
            log(f"var dir kept: {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


def stack_pids(running: Any, rasa_processes: int) -> dict[str, int]:
    """Pid of each process the supervisor started: backend, every Rasa server, actions."""
    sys.path.insert(0, str(ROOT / "backend"))
    from promptlink.supervisor import rasa_child_name

    names = ["backend", *(rasa_child_name(k) for k in range(rasa_processes)), "actions"]
    return {name: running.pid(name) for name in names}


def _proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in kB from /proc/<pid>/status; empty when the process is gone."""
    fields: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return fields
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM") and value.split():
            fields[key] = int(value.split()[0])
    return fields


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # gone (or going) since the listing
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _machine_ticks() -> tuple[int, int]:
    """(all, busy) CPU ticks of the machine since boot, from the first line of /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values), sum(values) - idle


def _process_ticks(pid: int) -> int:
    """utime + stime + cutime + cstime of a process, in the same ticks as /proc/stat; 0 when gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15])
    except (OSError, IndexError, ValueError):
        return 0


class CpuWatch:
    """CPU used on the machine by processes other than the bench's own, while it measures.

    `other_cores` is the average number of cores that other work kept busy: near 0 on an idle
    machine; anything above ~0.1 means the figures of that run are skewed by other work.
    """

    def __init__(self, root_pid: int) -> None:
        self.pids = [os.getpid(), root_pid, *_descendants(root_pid)]
        self.start = _machine_ticks()
        self.ours = sum(_process_ticks(pid) for pid in self.pids)

    def other_cores(self) -> float:
        total, busy = _machine_ticks()
        ours = sum(_process_ticks(pid) for pid in self.pids) - self.ours
        elapsed_per_cpu = (total - self.start[0]) / max(1, len(os.sched_getaffinity(0)))
        other = busy - self.start[1] - ours
        return round(max(0.0, other / elapsed_per_cpu), 2) if elapsed_per_cpu > 0 else 0.0


def rss_mb(pid: int) -> dict[str, float | int]:
    """RSS of a process (and of its descendants, if it has any), in MB (1 MB = 1024 kB)."""
    own = _proc_status(pid)
    tree_kb = own.get("VmRSS", 0)
    children = _descendants(pid)
    for child in children:
        tree_kb += _proc_status(child).get("VmRSS", 0)
    return {
        "rss": round(own.get("VmRSS", 0) / 1024, 1),
        "peak": round(own.get("VmHWM", 0) / 1024, 1),
        "tree": round(tree_kb / 1024, 1),
        "children": len(children),
    }


# --------------------------------------------------------------------------- client


class BenchClient:
    """A socket.io client of `/chat` that timestamps every `message` event on arrival."""

    def __init__(self, base_url: str) -> None:
        import socketio

        self.base_url = base_url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.session: dict[str, Any] = {}
        self.events: list[tuple[float, dict[str, Any]]] = []
        self._session_ready = asyncio.Event()
        self._arrived = asyncio.Event()
        self.sio.on("session", self._on_session, namespace=NAMESPACE)
        self.sio.on("message", self._on_message, namespace=NAMESPACE)

    async def _on_session(self, data: dict[str, Any]) -> None:
        self.session = data
        self._session_ready.set()

    async def _on_message(self, data: dict[str, Any]) -> None:
        self.events.append((time.perf_counter(), data))
        self._arrived.set()

    async def connect(self, **auth: Any) -> BenchClient:
        await self.sio.connect(
            self.base_url, namespaces=[NAMESPACE], auth=auth, transports=["websocket"], wait_timeout=10
        )
        await asyncio.wait_for(self._session_ready.wait(), 10)
        return self

    async def send(self, text: str) -> tuple[dict[str, Any], float]:
        """Send one message; the ack and the ack latency in ms."""
        start = time.perf_counter()
        ack = await self.sio.call(
            "message", {"client_msg_id": uuid.uuid4().hex, "text": text}, namespace=NAMESPACE, timeout=CALL_TIMEOUT
        )
        return ack, (time.perf_counter() - start) * 1000

    async def wait_event(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, start_index: int = 0
    ) -> tuple[float, dict[str, Any]]:
        """The first `message` event (arrival time, event) from `start_index` on that matches."""
        deadline = time.monotonic() + timeout
        index = start_index
        while True:
            self._arrived.clear()
            for arrived, event in self.events[index:]:
                if predicate(event):
                    return arrived, event
            index = max(index, len(self.events))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching message event")
            await asyncio.wait_for(self._arrived.wait(), remaining)

    def count(self, predicate: Callable[[dict[str, Any]], bool]) -> int:
        return sum(1 for _, event in self.events if predicate(event))

    async def close(self) -> None:
        await self.sio.disconnect()


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: list[float], qs: tuple[int, ...] = (50, 95, 99)) -> dict[str, float]:
    if not values:
        return {}
    out = {f"p{q}": round(percentile(values, q), 2) for q in qs}
    out["max"] = round(max(values), 2)
    out["mean"] = round(sum(values) / len(values), 2)
    return out


# --------------------------------------------------------------------------- store scenario


async def store_traffic(base_url: str, clients: int, messages: int, warmup: int, time_limit: float) -> dict[str, Any]:
    deadline = time.monotonic() + time_limit
    conns: list[BenchClient] = []
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    go = asyncio.Event()

    async def one(i: int, client: BenchClient) -> None:
        for k in range(warmup):
            await client.send(f"calentamiento {k}")
        await go.wait()
        consecutive = 0
        for k in range(messages):
            if time.monotonic() > deadline or consecutive >= MAX_CONSECUTIVE_ERRORS:
                break
            try:
                ack, ms = await client.send(f"mensaje {k} del cliente {i}: el equipo no enciende")
            except (TimeoutError, OSError, ConnectionError) as exc:
                errors[i] += 1
                consecutive += 1
                log(f"client {i}: send failed: {type(exc).__name__}")
                continue
            if "seq" not in ack:
                errors[i] += 1
                consecutive += 1
                continue
            consecutive = 0
            latencies[i].append(ms)

    try:
        for _ in range(clients):
            client = BenchClient(base_url)
            conns.append(client)
            await client.connect()
        runners = [asyncio.create_task(one(i, c)) for i, c in enumerate(conns)]
        await asyncio.sleep(0)
        # Let every client finish its warm-up before the clock starts.
        while any(c.count(lambda e: e.get("role") == "system") < warmup for c in conns):
            if time.monotonic() > deadline or any(r.done() for r in runners):
                break
            await asyncio.sleep(0.02)
        start = time.perf_counter()
        go.set()
        await asyncio.gather(*runners)
        wall = time.perf_counter() - start
        # Each message also starts an assistant turn that fails (Rasa is down) and posts a system
        # notice: wait (bounded) until every notice arrived, so "after" RSS is taken at rest.
        drain_start = time.perf_counter()
        drain_deadline = time.monotonic() + 60
        expected = [warmup + len(lat) for lat in latencies]
        drained = True
        while any(c.count(lambda e: e.get("role") == "system") < n for c, n in zip(conns, expected, strict=True)):
            if time.monotonic() > drain_deadline:
                drained = False
                break
            await asyncio.sleep(0.02)
        drain = time.perf_counter() - drain_start
    finally:
        for client in conns:
            await client.close()
    acked = [ms for lat in latencies for ms in lat]
    return {
        "acked": len(acked),
        "errors": sum(errors),
        "truncated": len(acked) + sum(errors) < clients * messages,
        "wall_s": round(wall, 3),
        "throughput_msg_s": round(len(acked) / wall, 1) if wall > 0 else 0.0,
        "ack_ms": summary(acked),
        "acks_over_100ms": sum(1 for ms in acked if ms > 100),
        "acks_over_1s": sum(1 for ms in acked if ms > 1000),
        "notices_drained": drained,
        "notices_drain_s": round(drain, 3),
    }


def run_store(args: argparse.Namespace) -> dict[str, Any]:
    log(f"store: starting the backend alone (Rasa down) for {args.clients} clients x {args.messages} messages")
    with started("lone", keep_var=args.keep_var) as running:
        pid = running.process.pid
        time.sleep(1.0)  # let start-up settle before the first RSS reading
        before = rss_mb(pid)
        cpu = CpuWatch(pid)
        traffic = asyncio.run(
            asyncio.wait_for(
                store_traffic(running.base_url, args.clients, args.messages, args.warmup, args.time_limit),
                args.time_limit + 60,
            )
        )
        other_cores = cpu.other_cores()
        after = rss_mb(pid)
    return {
        "clients": args.clients,
        "messages_per_client": args.messages,
        "warmup_per_client": args.warmup,
        **traffic,
        "rss_mb": {"before": before["rss"], "after": after["rss"], "peak": after["peak"]},
        "other_cpu_cores": other_cores,
    }


# --------------------------------------------------------------------------- assistant scenario


def widget_token(base_url: str, contact: str) -> str:
    import httpx

    response = httpx.post(f"{base_url}/demo/identity", json={"contact": contact}, timeout=10)
    response.raise_for_status()
    return str(response.json()["token"])


async def assistant_traffic(base_url: str, token: str, messages: int, time_limit: float) -> dict[str, Any]:
    deadline = time.monotonic() + time_limit
    client = await BenchClient(base_url).connect(identity=token)
    replies: list[float] = []
    acks: list[float] = []
    turns: list[dict[str, Any]] = []
    failures = 0
    cold_ms = None

    async def turn(text: str) -> dict[str, Any]:
        index = len(client.events)
        start = time.perf_counter()
        ack, ack_ms = await client.send(text)
        if "seq" not in ack:
            return {"text": text, "error": str(ack.get("error"))}
        seq = ack["seq"]
        arrived, event = await client.wait_event(
            lambda e: e.get("role") in ("bot", "system") and e.get("seq", 0) > seq,
            timeout=max(1.0, min(REPLY_TIMEOUT, deadline - time.monotonic())),
            start_index=index,
        )
        return {
            "text": text,
            "ack_ms": round(ack_ms, 2),
            "reply_ms": round((arrived - start) * 1000, 2),
            "role": event["role"],
            "reply": event["text"][:80],
        }

    try:
        first = await turn("hola")  # cold: Rasa's first prediction; reported apart, not in the percentiles
        cold_ms = first.get("reply_ms")
        for k in range(messages):
            if time.monotonic() > deadline:
                break
            text = ASSISTANT_TEXTS[k % len(ASSISTANT_TEXTS)]
            try:
                result = await turn(text)
            except (TimeoutError, OSError, ConnectionError) as exc:
                result = {"text": text, "error": type(exc).__name__}
            turns.append(result)
            if "error" in result or result["role"] != "bot":
                failures += 1
                continue
            replies.append(result["reply_ms"])
            acks.append(result["ack_ms"])
    finally:
        await client.close()
    return {
        "replied": len(replies),
        "failures": failures,
        "truncated": len(turns) < messages,
        "cold_first_reply_ms": cold_ms,
        "reply_ms": summary(replies, (50, 95)),
        "ack_ms": summary(acks, (50, 95)),
        "turns": turns,
    }


def default_model() -> Path:
    """The Rasa model the supervisor would load: the one named by the fingerprint of the current data."""
    spec = importlib.util.spec_from_file_location("promptlink_bench_model", ROOT / "bot" / "model.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("cannot load bot/model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Path(module.model_path(ROOT))


class Skipped(Exception):
    """A scenario that cannot run here; the message says why and what to do."""


def run_assistant(args: argparse.Namespace) -> dict[str, Any]:
    model = args.model or default_model()
    if not model.exists():
        raise Skipped(
            f"no Rasa model at {model} (the data changed since the last training): run `make setup` or "
            "`.venv/bin/python bot/model.py ensure`, or pass --model with an existing model file"
        )
    log(f"assistant: starting backend + Rasa + action server under the supervisor with {model.name}")
    start = time.perf_counter()
    with started("stack", keep_var=args.keep_var, model=model, rasa_processes=args.rasa_processes) as running:
        startup = time.perf_counter() - start
        log(f"assistant: stack healthy after {startup:.1f} s; {args.assistant_messages} messages")
        pids = stack_pids(running, args.rasa_processes)
        before = {name: rss_mb(pid) for name, pid in pids.items()}
        token = widget_token(running.base_url, CONTACT)
        cpu = CpuWatch(running.process.pid)
        traffic = asyncio.run(
            asyncio.wait_for(
                assistant_traffic(running.base_url, token, args.assistant_messages, args.time_limit),
                args.time_limit + 60,
            )
        )
        other_cores = cpu.other_cores()
        after = {name: rss_mb(pid) for name, pid in pids.items()}
    return {
        "messages": args.assistant_messages,
        "model": model.name,
        "startup_s": round(startup, 1),
        **traffic,
        "rss_mb": {
            name: {"before": before[name]["tree"], "after": after[name]["tree"], "children": after[name]["children"]}
            for name in pids
        },
        "other_cpu_cores": other_cores,
    }


# --------------------------------------------------------------------------- turns scenario

# Small talk and information questions: each one gets exactly one reply (utterances, no action server).
TURN_TEXTS = [
    "hola",
    "¿qué cubre el plan de soporte?",
    "¿cuáles son las prioridades?",
    "gracias",
    "¿eres un robot?",
    "buenas tardes",
]
TURN_GOAL_P95_MS = 300.0
TURN_GOAL_OVERHEAD_PCT = 15.0
TURN_MESSAGES_PER_ROUND = 3  # per chat and path; (a) and (b) alternate in rounds of this many messages


def turn_texts(chat: int, messages: int) -> list[str]:
    """The messages chat `chat` sends (the same on both paths); chats start at different places in the list."""
    return [TURN_TEXTS[(chat + k) % len(TURN_TEXTS)] for k in range(messages)]


async def turns_traffic(
    base_url: str, rasa_urls: list[str], tokens: list[str], messages: int, time_limit: float, think_ms: float = 0.0
) -> dict[str, Any]:
    """Rounds alternating (a) backend path and (b) direct Rasa channel path, each with len(tokens) concurrent chats.

    With several Rasa servers the direct path spreads its turns over them as the backend does.
    `think_ms` > 0: before each message a chat waits a think time drawn uniformly from 50-150 % of it
    (seeded per chat and round, the same on both paths), as a person reading and typing; so the chats
    do not start each round in step.
    """
    import httpx

    sys.path.insert(0, str(ROOT / "backend"))
    from promptlink.assistant.client import RasaClient

    chats = len(tokens)
    deadline = time.monotonic() + time_limit
    spread = RasaClient(rasa_urls=rasa_urls, rasa_token="", channel_token="", actions_url="http://unused")
    headers = {"Authorization": f"Bearer {RASA_CHANNEL_TOKEN}"}
    senders = [str(uuid.uuid4()) for _ in range(chats)]  # like the backend's conversation ids
    texts = [turn_texts(i, messages) for i in range(chats)]
    lat: dict[str, list[float]] = {"backend": [], "direct": []}
    by_text: dict[str, dict[str, list[float]]] = {"backend": {}, "direct": {}}
    errors: dict[str, int] = {"backend": 0, "direct": 0}
    error_kinds: dict[str, dict[str, int]] = {"backend": {}, "direct": {}}
    rounds: list[dict[str, Any]] = []
    conns: list[BenchClient] = []

    def failed(path: str, kind: str) -> None:
        errors[path] += 1
        error_kinds[path][kind] = error_kinds[path].get(kind, 0) + 1

    async def backend_turn(client: BenchClient, text: str) -> float:
        index = len(client.events)
        start = time.perf_counter()
        ack, _ = await client.send(text)
        if "seq" not in ack:
            raise RuntimeError(f"ack error {ack.get('error')}")
        seq = ack["seq"]
        arrived, event = await client.wait_event(
            lambda e: e.get("role") in ("bot", "system") and e.get("seq", 0) > seq,
            timeout=REPLY_TIMEOUT,
            start_index=index,
        )
        if event["role"] != "bot":
            raise RuntimeError("system notice instead of a bot reply")
        return (arrived - start) * 1000

    async def direct_turn(http: Any, sender: str, text: str) -> float:
        start = time.perf_counter()
        server = spread.servers_for(sender)[0]  # the backend's choice: fewest turns in flight
        with spread.counted(server):
            response = await http.post(
                f"{server}/webhooks/promptlink/webhook",
                json={"sender": sender, "message": text, "metadata": {"conversation_id": sender, "contact": CONTACT}},
                headers=headers,
            )
        ms = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        if not response.json().get("messages"):
            raise RuntimeError("no bot message")
        return ms

    async def phase(path: str, http: Any, first: int, last: int) -> list[float]:
        measured: list[float] = []

        async def one(i: int) -> None:
            consecutive = 0
            pauses = random.Random(f"{i}-{first}")  # noqa: S311 - pacing, not security
            for k in range(first, last):
                if time.monotonic() > deadline or consecutive >= MAX_CONSECUTIVE_ERRORS:
                    return
                if think_ms > 0:  # before the first message too: chats do not start in step
                    await asyncio.sleep(think_ms * pauses.uniform(0.5, 1.5) / 1000)
                try:
                    if path == "backend":
                        ms = await backend_turn(conns[i], texts[i][k])
                    else:
                        ms = await direct_turn(http, senders[i], texts[i][k])
                except (TimeoutError, OSError, ConnectionError, RuntimeError, httpx.HTTPError) as exc:
                    failed(path, type(exc).__name__ if not isinstance(exc, RuntimeError) else str(exc))
                    consecutive += 1
                    continue
                consecutive = 0
                measured.append(ms)
                by_text[path].setdefault(texts[i][k], []).append(ms)

        await asyncio.gather(*(one(i) for i in range(chats)))
        lat[path].extend(measured)
        return measured

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=chats)
    async with httpx.AsyncClient(timeout=httpx.Timeout(REPLY_TIMEOUT, connect=3.0), limits=limits) as http:
        try:
            for token in tokens:
                conns.append(await BenchClient(base_url).connect(identity=token))
            # One unmeasured turn per path on a conversation of its own: Rasa's first predictions.
            cold_client = await BenchClient(base_url).connect(identity=tokens[0])
            try:
                cold_backend = round(await backend_turn(cold_client, "hola"), 2)
            finally:
                await cold_client.close()
            cold_direct = round(await direct_turn(http, str(uuid.uuid4()), "hola"), 2)
            start = time.perf_counter()
            for r, first in enumerate(range(0, messages, TURN_MESSAGES_PER_ROUND)):
                if time.monotonic() > deadline:
                    break
                last = min(messages, first + TURN_MESSAGES_PER_ROUND)
                order = ("backend", "direct") if r % 2 == 0 else ("direct", "backend")
                entry: dict[str, Any] = {"round": r, "messages": [first, last], "order": list(order)}
                for path in order:
                    measured = await phase(path, http, first, last)
                    entry[f"{path}_p50_ms"] = round(percentile(measured, 50), 2) if measured else None
                rounds.append(entry)
            wall = time.perf_counter() - start
        finally:
            for client in conns:
                await client.close()
            await spread.close()

    def overhead(q: str) -> float | None:
        a, b = summary_b.get(q), summary_d.get(q)
        return round((a - b) / b * 100, 1) if a is not None and b else None

    summary_b = summary(lat["backend"], (50, 95))
    summary_d = summary(lat["direct"], (50, 95))
    expected = chats * messages
    p95 = summary_b.get("p95")
    over_p95 = overhead("p95")
    return {
        "cold_first_reply_ms": {"backend": cold_backend, "direct": cold_direct},
        "backend": {"reply_ms": summary_b, "replied": len(lat["backend"]), "errors": errors["backend"]},
        "direct": {"reply_ms": summary_d, "replied": len(lat["direct"]), "errors": errors["direct"]},
        "error_kinds": error_kinds,
        "overhead_pct": {"p50": overhead("p50"), "p95": over_p95},
        "goal": {
            "p95_ms_below": TURN_GOAL_P95_MS,
            "overhead_pct_at_most": TURN_GOAL_OVERHEAD_PCT,
            "p95_ok": p95 is not None and p95 < TURN_GOAL_P95_MS,
            "overhead_ok": over_p95 is not None and over_p95 <= TURN_GOAL_OVERHEAD_PCT,
            "met": bool(
                p95 is not None
                and p95 < TURN_GOAL_P95_MS
                and over_p95 is not None
                and over_p95 <= TURN_GOAL_OVERHEAD_PCT
            ),
        },
        "by_text_p50_p95_ms": {
            path: {text: [round(percentile(v, 50), 1), round(percentile(v, 95), 1)] for text, v in per.items()}
            for path, per in by_text.items()
        },
        "truncated": len(lat["backend"]) + errors["backend"] < expected
        or len(lat["direct"]) + errors["direct"] < expected,
        "wall_s": round(wall, 2),
        "rounds": rounds,
    }


def run_turns(args: argparse.Namespace) -> dict[str, Any]:
    model = args.model or default_model()
    if not model.exists():
        raise Skipped(
            f"no Rasa model at {model} (the data changed since the last training): run `make setup` or "
            "`.venv/bin/python bot/model.py ensure`, or pass --model with an existing model file"
        )
    log(f"turns: starting backend + Rasa + action server under the supervisor with {model.name}")
    start = time.perf_counter()
    with started("stack", keep_var=args.keep_var, model=model, rasa_processes=args.rasa_processes) as running:
        startup = time.perf_counter() - start
        log(
            f"turns: stack healthy after {startup:.1f} s; {args.chats} chats x {args.turn_messages} messages "
            "on each path, alternating in rounds"
        )
        tokens = [widget_token(running.base_url, CONTACT) for _ in range(args.chats)]
        pids = stack_pids(running, args.rasa_processes)
        cpu = CpuWatch(running.process.pid)
        traffic = asyncio.run(
            asyncio.wait_for(
                turns_traffic(
                    running.base_url,
                    running.extra["rasa_urls"],
                    tokens,
                    args.turn_messages,
                    args.time_limit,
                    args.think_ms,
                ),
                args.time_limit + 60,
            )
        )
        other_cores = cpu.other_cores()
        rss = {name: rss_mb(pid)["tree"] for name, pid in pids.items()}
    return {
        "chats": args.chats,
        "messages_per_chat": args.turn_messages,
        "think_ms": args.think_ms,
        "rasa_processes": args.rasa_processes,
        "texts": TURN_TEXTS,
        "model": model.name,
        "startup_s": round(startup, 1),
        **traffic,
        "rss_mb_after": rss,
        "other_cpu_cores": other_cores,
    }


# --------------------------------------------------------------------------- report


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine_info() -> dict[str, Any]:
    cpu = ""
    mem_gb = 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "mem_gb": mem_gb,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),  # other work on the machine skews every figure
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


# (scenario, dotted key, label); lower is better except where the label says otherwise.
ROWS = [
    ("store", "ack_ms.p50", "p50 ack ms"),
    ("store", "ack_ms.p95", "p95 ack ms"),
    ("store", "ack_ms.p99", "p99 ack ms"),
    ("store", "ack_ms.max", "max ack ms"),
    ("store", "acks_over_100ms", "acks over 100 ms"),
    ("store", "acks_over_1s", "acks over 1 s"),
    ("store", "throughput_msg_s", "throughput msg/s (higher is better)"),
    ("store", "acked", "acked messages"),
    ("store", "errors", "errors"),
    ("store", "truncated", "stopped by --time-limit"),
    ("store", "notices_drain_s", "notices drain s"),
    ("store", "rss_mb.before", "backend RSS before MB"),
    ("store", "rss_mb.after", "backend RSS after MB"),
    ("store", "rss_mb.peak", "backend RSS peak MB"),
    ("store", "other_cpu_cores", "other work on the machine, cores"),
    ("assistant", "startup_s", "stack start-up s"),
    ("assistant", "cold_first_reply_ms", "cold first reply ms"),
    ("assistant", "reply_ms.p50", "p50 reply ms"),
    ("assistant", "reply_ms.p95", "p95 reply ms"),
    ("assistant", "reply_ms.max", "max reply ms"),
    ("assistant", "ack_ms.p50", "p50 ack ms"),
    ("assistant", "replied", "bot replies"),
    ("assistant", "failures", "failures"),
    ("assistant", "truncated", "stopped by --time-limit"),
    ("assistant", "rss_mb.backend.before", "backend RSS before MB"),
    ("assistant", "rss_mb.backend.after", "backend RSS after MB"),
    ("assistant", "rss_mb.rasa.before", "rasa RSS before MB"),
    ("assistant", "rss_mb.rasa.after", "rasa RSS after MB"),
    ("assistant", "rss_mb.actions.before", "actions RSS before MB"),
    ("assistant", "rss_mb.actions.after", "actions RSS after MB"),
    ("assistant", "other_cpu_cores", "other work on the machine, cores"),
    ("turns", "startup_s", "stack start-up s"),
    ("turns", "cold_first_reply_ms.backend", "cold first reply, backend path ms"),
    ("turns", "cold_first_reply_ms.direct", "cold first reply, direct path ms"),
    ("turns", "backend.reply_ms.p50", "p50 reply, backend path ms"),
    ("turns", "direct.reply_ms.p50", "p50 reply, direct Rasa ms"),
    ("turns", "overhead_pct.p50", "overhead at p50 %"),
    ("turns", "backend.reply_ms.p95", "p95 reply, backend path ms"),
    ("turns", "direct.reply_ms.p95", "p95 reply, direct Rasa ms"),
    ("turns", "overhead_pct.p95", "overhead at p95 %"),
    ("turns", "backend.reply_ms.max", "max reply, backend path ms"),
    ("turns", "direct.reply_ms.max", "max reply, direct Rasa ms"),
    ("turns", "backend.replied", "bot replies, backend path"),
    ("turns", "direct.replied", "bot replies, direct Rasa"),
    ("turns", "backend.errors", "failures, backend path"),
    ("turns", "direct.errors", "failures, direct Rasa"),
    ("turns", "truncated", "stopped by --time-limit"),
    ("turns", "goal.p95_ok", "goal: backend p95 < 300 ms"),
    ("turns", "goal.overhead_ok", "goal: overhead at p95 <= 15 %"),
    ("turns", "goal.met", "goal met"),
    ("turns", "other_cpu_cores", "other work on the machine, cores"),
]


def lookup(report: dict[str, Any] | None, scenario: str, key: str) -> Any:
    node: Any = (report or {}).get("scenarios", {}).get(scenario)
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def print_report(report: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    machine = report["machine"]
    dirty = " (dirty)" if machine["git_dirty"] else ""
    print(
        f"\nchat benchmark  {machine['date']}  commit {machine['git_commit']}{dirty}"
        f"  nproc {machine['nproc']}  python {machine['python']}"
    )
    if machine.get("note"):
        print(f"note            {machine['note']}")
    if baseline:
        bm = baseline.get("machine", {})
        print(f"baseline        {bm.get('date')}  commit {bm.get('git_commit')}  nproc {bm.get('nproc')}")
    params = report["params"]
    for scenario in report["scenarios"]:
        if scenario == "store":
            title = f"store: {params['clients']} clients x {params['messages']} messages, backend alone (Rasa down)"
        elif scenario == "turns":
            title = (
                f"turns: {params['chats']} concurrent chats x {params['turn_messages']} messages"
                f"{' (think time ' + format(params.get('think_ms'), 'g') + ' ms)' if params.get('think_ms') else ''}, "
                "backend path (socket.io) vs direct Rasa channel, alternating rounds"
            )
        else:
            title = f"assistant: {params['assistant_messages']} messages, one client, full stack"
        print(f"\n{title}")
        problem = report["scenarios"][scenario].get("skipped") or report["scenarios"][scenario].get("error")
        if problem:
            print(f"  not measured: {problem}")
            continue
        for row_scenario, key, label in ROWS:
            if row_scenario != scenario:
                continue
            current = lookup(report, scenario, key)
            if baseline is None:
                print(f"  {label:38} {fmt(current):>10}")
                continue
            old = lookup(baseline, scenario, key)
            change = ""
            numeric = (int, float)
            if isinstance(old, numeric) and isinstance(current, numeric) and not isinstance(old, bool) and old:
                change = f"({(current - old) / abs(old) * 100:+.0f}%)"
            print(f"  {label:38} {fmt(old):>10} → {fmt(current):<10} {change}")
        if scenario == "turns":
            per_text = lookup(report, scenario, "by_text_p50_p95_ms") or {}
            old_text = lookup(baseline, scenario, "by_text_p50_p95_ms") or {} if baseline else {}
            for path, texts in per_text.items():
                for text, (p50, p95) in texts.items():
                    was = (old_text.get(path) or {}).get(text)
                    before = f"  (baseline {was[0]} / {was[1]})" if was else ""
                    print(f"  {path:7} p50/p95 ms {p50:>7} / {p95:<7} «{text}»{before}")
        other = lookup(report, scenario, "other_cpu_cores")
        if isinstance(other, float) and other > OTHER_WORK_WARNING:
            print(f"  WARNING: other processes kept {other} cores busy during this scenario; its figures are skewed.")
    print()


# --------------------------------------------------------------------------- main


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=["store", "assistant", "turns", "all"], default="all")
    parser.add_argument("--clients", type=int, default=4, help="store: concurrent clients (default 4)")
    parser.add_argument("--messages", type=int, default=250, help="store: messages per client (default 250)")
    parser.add_argument("--warmup", type=int, default=5, help="store: unmeasured messages per client (default 5)")
    parser.add_argument("--assistant-messages", type=int, default=30, help="assistant: messages (default 30)")
    parser.add_argument("--chats", type=int, default=20, help="turns: concurrent chats on each path (default 20)")
    parser.add_argument(
        "--rasa-processes",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="assistant, turns: Rasa servers the stack runs (default: min(2, cores), as `make run`)",
    )
    parser.add_argument(
        "--turn-messages", type=int, default=15, help="turns: messages per chat on each path (default 15)"
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="turns: a chat's pause between a reply and its next message, 50-150 %% of this (default 0: none)",
    )
    parser.add_argument(
        "--time-limit", type=float, default=300.0, help="seconds of traffic per scenario before it stops (default 300)"
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON to this file")
    parser.add_argument("--baseline", type=Path, help="a JSON file from --out to compare with")
    parser.add_argument(
        "--model", type=Path, help="assistant: Rasa model file (default: the one for the current data in models/)"
    )
    parser.add_argument("--note", default="", help="free text stored in the JSON and printed in the header")
    parser.add_argument("--keep-var", action="store_true", help="keep the temporary var dirs (logs, databases)")
    args = parser.parse_args(argv)
    for name in ("clients", "messages", "assistant_messages", "chats", "turn_messages"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or args.time_limit <= 0 or args.think_ms < 0:
        parser.error("--warmup and --think-ms must be >= 0 and --time-limit > 0")
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None

    signal.signal(signal.SIGTERM, _terminate)
    report: dict[str, Any] = {
        "machine": machine_info(),
        "params": {
            "clients": args.clients,
            "messages": args.messages,
            "warmup": args.warmup,
            "assistant_messages": args.assistant_messages,
            "chats": args.chats,
            "turn_messages": args.turn_messages,
            "think_ms": args.think_ms,
            "time_limit_s": args.time_limit,
        },
        "scenarios": {},
    }
    if args.note:
        report["machine"]["note"] = args.note
    failed = False
    runners = {"store": run_store, "assistant": run_assistant, "turns": run_turns}
    try:
        for name, run in runners.items():
            # `all` keeps its meaning (store + assistant); `turns` starts its own stack and runs only when asked.
            if args.scenario != name and not (args.scenario == "all" and name != "turns"):
                continue
            try:
                report["scenarios"][name] = run(args)
            except Skipped as exc:
                log(f"{name}: skipped: {exc}")
                report["scenarios"][name] = {"skipped": str(exc)}
                failed = True
            except Exception as exc:  # a failed scenario must not lose the other one's figures
                traceback.print_exc()
                log(f"{name}: failed: {type(exc).__name__}: {exc}")
                report["scenarios"][name] = {"error": f"{type(exc).__name__}: {exc}"}
                failed = True
    except (KeyboardInterrupt, asyncio.CancelledError):
        # Ctrl-C inside asyncio.run may surface as the main task's cancellation.
        log("interrupted; processes stopped")
        return 130
    print_report(report, baseline)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        log(f"figures written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
