"""The chat benchmark's `store` and `assistant` scenarios, and the client all its scenarios use.

`store`: C clients send N messages each to the backend alone (Rasa down); ack latency and throughput.
`assistant`: one customer talks to the full stack; reply time. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import ROOT, backend_process, full_stack, log
from measure import CpuWatch, rss_mb, summary

from testkit.chat_client import ChatClient, widget_token
from testkit.demo import ANA

CALL_TIMEOUT = 10.0  # one ack
REPLY_TIMEOUT = 60.0  # one assistant reply (the first one also loads Rasa's graph)
MAX_CONSECUTIVE_ERRORS = 10
CONTACT = ANA  # a demo contact (PROMPTLINK_DEMO=1 seeds it)

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


# --------------------------------------------------------------------------- the stack


class Skipped(Exception):
    """A scenario that cannot run here; the message says why and what to do."""


def default_model() -> Path:
    """The Rasa model the supervisor would load: the one named by the fingerprint of the current data."""
    spec = importlib.util.spec_from_file_location("promptlink_bench_model", ROOT / "bot" / "model.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("cannot load bot/model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Path(module.model_path(ROOT))


def model_to_load(args: argparse.Namespace) -> Path:
    """`--model`, or the model for the current data; Skipped when that file does not exist."""
    model: Path = args.model or default_model()
    if not model.exists():
        raise Skipped(
            f"no Rasa model at {model} (the data changed since the last training): run `make setup` or "
            "`.venv/bin/python bot/model.py ensure`, or pass --model with an existing model file"
        )
    return model


@contextmanager
def timed_stack(args: argparse.Namespace, scenario: str) -> Iterator[tuple[Any, Path, float]]:
    """The full stack with `args`' model (Skipped without one) and Rasa servers: (running, model, start-up s)."""
    model = model_to_load(args)
    log(f"{scenario}: starting backend + Rasa + action server under the supervisor with {model.name}")
    start = time.perf_counter()
    with full_stack(keep_var=args.keep_var, model=model, rasa_processes=args.rasa_processes) as running:
        startup = time.perf_counter() - start
        log(f"{scenario}: stack healthy after {startup:.1f} s")
        yield running, model, startup


def stack_pids(running: Any, rasa_processes: int) -> dict[str, int]:
    """Pid of each process the supervisor started: backend, every Rasa server, actions."""
    from promptlink.supervisor import rasa_child_name

    names = ["backend", *(rasa_child_name(k) for k in range(rasa_processes)), "actions"]
    return {name: running.pid(name) for name in names}


# --------------------------------------------------------------------------- client


class BenchClient(ChatClient):
    """testkit's `/chat` client that also timestamps every `message` event on arrival."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.events: list[tuple[float, dict[str, Any]]] = []
        self._arrived = asyncio.Event()

    async def _on_message(self, data: dict[str, Any]) -> None:
        await super()._on_message(data)
        self.events.append((time.perf_counter(), data))
        self._arrived.set()

    async def timed_send(self, text: str) -> tuple[dict[str, Any], float]:
        """Send one message; the ack and the ack latency in ms."""
        start = time.perf_counter()
        ack = await self.sio.call(
            "message", {"client_msg_id": uuid.uuid4().hex, "text": text}, namespace="/chat", timeout=CALL_TIMEOUT
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

    async def reply(self, text: str, timeout: float) -> tuple[dict[str, Any], float, dict[str, Any] | None, float]:
        """Send `text`, then wait for the first bot reply or system notice after its ack.

        Returns the ack, the ack ms, the reply event (None when the ack was an error) and the reply ms
        (from sending).
        """
        index = len(self.events)
        start = time.perf_counter()
        ack, ack_ms = await self.timed_send(text)
        if "seq" not in ack:
            return ack, ack_ms, None, 0.0
        seq = ack["seq"]
        arrived, event = await self.wait_event(
            lambda e: e.get("role") in ("bot", "system") and e.get("seq", 0) > seq, timeout=timeout, start_index=index
        )
        return ack, ack_ms, event, (arrived - start) * 1000


# --------------------------------------------------------------------------- store scenario


async def store_traffic(base_url: str, clients: int, messages: int, warmup: int, time_limit: float) -> dict[str, Any]:
    deadline = time.monotonic() + time_limit
    conns: list[BenchClient] = []
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    go = asyncio.Event()

    async def one(i: int, client: BenchClient) -> None:
        for k in range(warmup):
            await client.timed_send(f"calentamiento {k}")
        await go.wait()
        consecutive = 0
        for k in range(messages):
            if time.monotonic() > deadline or consecutive >= MAX_CONSECUTIVE_ERRORS:
                break
            try:
                ack, ms = await client.timed_send(f"mensaje {k} del cliente {i}: el equipo no enciende")
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
    with backend_process(keep_var=args.keep_var) as running:
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


async def assistant_traffic(base_url: str, token: str, messages: int, time_limit: float) -> dict[str, Any]:
    deadline = time.monotonic() + time_limit
    client = await BenchClient(base_url).connect(identity=token)
    replies: list[float] = []
    acks: list[float] = []
    turns: list[dict[str, Any]] = []
    failures = 0
    cold_ms = None

    async def turn(text: str) -> dict[str, Any]:
        timeout = max(1.0, min(REPLY_TIMEOUT, deadline - time.monotonic()))
        ack, ack_ms, event, reply_ms = await client.reply(text, timeout)
        if event is None:
            return {"text": text, "error": str(ack.get("error"))}
        return {
            "text": text,
            "ack_ms": round(ack_ms, 2),
            "reply_ms": round(reply_ms, 2),
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


def run_assistant(args: argparse.Namespace) -> dict[str, Any]:
    with timed_stack(args, "assistant") as (running, model, startup):
        log(f"assistant: {args.assistant_messages} messages")
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
