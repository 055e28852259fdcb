"""The chat benchmark's `turns` scenario: bot turn latency at N concurrent chats, through the backend
(socket.io) and straight to Rasa's channel webhook, in alternating rounds. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from typing import Any

from chat_scenarios import (
    CONTACT,
    MAX_CONSECUTIVE_ERRORS,
    REPLY_TIMEOUT,
    BenchClient,
    stack_pids,
    timed_stack,
)
from harness import log
from measure import CpuWatch, cpu_seconds, percentile, rss_mb, summary

from testkit.chat_client import widget_token
from testkit.demo import RASA_CHANNEL_TOKEN
from testkit.metrics import by_series

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
    base_url: str,
    rasa_urls: list[str],
    tokens: list[str],
    messages: int,
    time_limit: float,
    think_ms: float = 0.0,
    pids: dict[str, int] | None = None,
    channel_token: str = RASA_CHANNEL_TOKEN,
) -> dict[str, Any]:
    """Rounds alternating (a) backend path and (b) direct Rasa channel path, each with len(tokens) concurrent chats.

    With several Rasa servers the direct path spreads its turns over them as the backend does.
    `think_ms` > 0: before each message a chat waits a think time drawn uniformly from 50-150 % of it
    (seeded per chat and round, the same on both paths), as a person reading and typing; so the chats
    do not start each round in step.
    `pids` (name -> pid: backend, rasa, rasa-2, ...; in a cluster backend-1, backend-2, haproxy, rasa-1, ...):
    their CPU time is summed per path, over that path's phases only, for the CPU ms per turn of the
    backend side (every backend process, and HAProxy when there is one) and of the Rasa servers.
    """
    import httpx
    import socketio
    from promptlink.assistant.client import RasaClient

    chats = len(tokens)
    deadline = time.monotonic() + time_limit
    spread = RasaClient(rasa_urls=rasa_urls, rasa_token="", channel_token="", actions_url="http://unused")
    headers = {"Authorization": f"Bearer {channel_token}"}
    senders = [str(uuid.uuid4()) for _ in range(chats)]  # like the backend's conversation ids
    texts = [turn_texts(i, messages) for i in range(chats)]
    lat: dict[str, list[float]] = {"backend": [], "direct": []}
    by_text: dict[str, dict[str, list[float]]] = {"backend": {}, "direct": {}}
    errors: dict[str, int] = {"backend": 0, "direct": 0}
    error_kinds: dict[str, dict[str, int]] = {"backend": {}, "direct": {}}
    rounds: list[dict[str, Any]] = []
    conns: list[BenchClient] = []
    # CPU seconds used during each path's phases: the backend process, and the Rasa servers together.
    cpu_s: dict[str, dict[str, float]] = {
        "backend": {"backend": 0.0, "rasa": 0.0, "actions": 0.0, "client": 0.0},
        "direct": {"backend": 0.0, "rasa": 0.0, "actions": 0.0, "client": 0.0},
    }
    watched = pids or {}

    def cpu_now() -> dict[str, float]:
        return {
            # Every backend process (a cluster has several) and, through HAProxy, the proxy too.
            "backend": sum(
                cpu_seconds(pid) for name, pid in watched.items() if name.startswith(("backend", "haproxy"))
            ),
            "rasa": sum(cpu_seconds(pid) for name, pid in watched.items() if name.startswith("rasa")),
            "actions": sum(cpu_seconds(pid) for name, pid in watched.items() if name.startswith("actions")),
            # This load generator: its socket.io clients (backend path) or HTTP posts (direct path) share the
            # machine's cores with what it measures.
            "client": cpu_seconds(os.getpid()),
        }

    # Time each Rasa server spent on the channel's turns, from its own /metrics (histogram sum and count of
    # the webhook route): tells a turn that waited in Rasa from one that waited in the backend.
    rasa_side = {path: {"sum": 0.0, "count": 0.0} for path in ("backend", "direct")}

    async def rasa_turn_seconds(http: Any) -> dict[str, float]:
        total = {"sum": 0.0, "count": 0.0}
        for url in rasa_urls:
            try:
                series = by_series((await http.get(f"{url}/metrics")).text)
            except httpx.HTTPError:
                continue
            for key in total:
                prefix = f"promptlink_bot_request_seconds_{key}{{"
                total[key] += sum(
                    v for k, v in series.items() if k.startswith(prefix) and 'promptlink/webhook"' in k
                )
        return total

    def failed(path: str, kind: str) -> None:
        errors[path] += 1
        error_kinds[path][kind] = error_kinds[path].get(kind, 0) + 1

    async def backend_turn(client: BenchClient, text: str) -> float:
        ack, _, event, reply_ms = await client.reply(text, REPLY_TIMEOUT)
        if event is None:
            raise RuntimeError(f"ack error {ack.get('error')}")
        if event["role"] != "bot":
            raise RuntimeError("system notice instead of a bot reply")
        return reply_ms

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
                except (
                    TimeoutError,
                    OSError,
                    ConnectionError,
                    RuntimeError,
                    httpx.HTTPError,
                    socketio.exceptions.SocketIOError,  # an ack that did not come in time: a failed turn
                ) as exc:
                    failed(path, type(exc).__name__ if not isinstance(exc, RuntimeError) else str(exc))
                    consecutive += 1
                    continue
                consecutive = 0
                measured.append(ms)
                by_text[path].setdefault(texts[i][k], []).append(ms)

        before, served_before = cpu_now(), await rasa_turn_seconds(http)
        await asyncio.gather(*(one(i) for i in range(chats)))
        after, served_after = cpu_now(), await rasa_turn_seconds(http)
        for key in after:
            cpu_s[path][key] += after[key] - before[key]
        for key in served_after:
            rasa_side[path][key] += served_after[key] - served_before[key]
        lat[path].extend(measured)
        return measured

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=chats)
    async with httpx.AsyncClient(timeout=httpx.Timeout(REPLY_TIMEOUT, connect=3.0), limits=limits) as http:
        try:
            # Each chat on a conversation of its own. A contact connecting without a conversation
            # joins its *empty* one: connected all at once, the chats (one demo contact) shared
            # a single conversation, and each client took another one's reply for its own (the
            # runs before session 12). So each chat writes one unmeasured turn before the next
            # connects; the direct path's senders get one too, alike.
            for token in tokens:
                client = await BenchClient(base_url).connect(identity=token)
                conns.append(client)
                await backend_turn(client, "hola")
            conversations = {c.session.get("conversation_id") for c in conns}
            if len(conversations) != len(conns):
                raise RuntimeError(f"{len(conns)} chats share {len(conversations)} conversations")
            await asyncio.gather(*(direct_turn(http, sender, "hola") for sender in senders))
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
        # Process CPU time / turns answered on that path (primary figure on a shared machine).
        "cpu_ms_per_turn": {
            path: {
                key: round(seconds * 1000 / len(lat[path]), 2) if lat[path] else None for key, seconds in per.items()
            }
            for path, per in cpu_s.items()
        },
        # Mean time a Rasa server took to answer the channel's request (its own measure: queueing for the
        # one-turn-at-a-time semaphore included), per path.
        "rasa_side_mean_ms": {
            path: round(v["sum"] * 1000 / v["count"], 2) if v["count"] else None for path, v in rasa_side.items()
        },
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
    with timed_stack(args, "turns") as (running, model, startup):
        log(f"turns: {args.chats} chats x {args.turn_messages} messages on each path, alternating in rounds")
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
                    pids,
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


def run_cluster_turns(args: argparse.Namespace) -> dict[str, Any]:
    """The same rounds through the deploy/ topology (`python -m promptlink cluster` on the machine's
    PostgreSQL and Redis): the backend path goes through HAProxy to two backends, the direct path to
    the cluster's two Rasa servers (PostgreSQL tracker store, Redis lock store)."""
    import tempfile
    from pathlib import Path

    from testkit.cluster import start_cluster

    var_dir = Path(tempfile.mkdtemp(prefix="promptlink-turns-cluster-"))
    log("turns (cluster): starting 2 backends, 2 Rasa servers, the action server and HAProxy")
    start = time.perf_counter()
    cluster = start_cluster(var_dir / "cluster", timeout=1200)
    startup = time.perf_counter() - start
    try:
        log(f"turns (cluster): healthy after {startup:.1f} s; {args.chats} chats x {args.turn_messages} messages")
        tokens = [widget_token(cluster.public_url, CONTACT) for _ in range(args.chats)]
        pids = {name: cluster.pid(name) for name in cluster.names() if name.startswith(("backend", "rasa", "haproxy"))}
        cpu = CpuWatch(cluster.process.pid)  # the machine's PostgreSQL and Redis count as other work
        traffic = asyncio.run(
            asyncio.wait_for(
                turns_traffic(
                    cluster.public_url,
                    cluster.rasa_urls,
                    tokens,
                    args.turn_messages,
                    args.time_limit,
                    args.think_ms,
                    pids,
                    cluster.secrets["PROMPTLINK_RASA_CHANNEL_TOKEN"],  # the cluster generates its own
                ),
                args.time_limit + 60,
            )
        )
        other_cores = cpu.other_cores()
        rss = {name: rss_mb(pid)["tree"] for name, pid in pids.items()}
    finally:
        cluster.stop()
    return {
        "topology": "cluster: HAProxy, 2 backends, 2 Rasa (PostgreSQL tracker, Redis lock), PostgreSQL, Redis",
        "chats": args.chats,
        "messages_per_chat": args.turn_messages,
        "think_ms": args.think_ms,
        "rasa_processes": len(cluster.rasa_urls),
        "texts": TURN_TEXTS,
        "startup_s": round(startup, 1),
        **traffic,
        "rss_mb_after": rss,
        "other_cpu_cores": other_cores,
    }
