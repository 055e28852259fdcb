"""Failure and rolling-restart runs of the deploy/ topology (`python -m promptlink cluster --private`).

While `--customers` chats go through HAProxy (half with the assistant, half with an agent who replies;
testkit/cluster.py's ChatLoad), each failure in turn: SIGKILL a backend; SIGKILL a Rasa server;
restart Redis; restart PostgreSQL (the private instance); kill the singleton holder; then a rolling
restart of every backend and Rasa server, one at a time, each back healthy before the next; and a
model activation through the admin API that must reach every Rasa server (`/status` model_file).

Prints, per run: messages sent / acked / stored / delivered / lost / duplicated, turns answered /
notices / unanswered, reconnects and the seconds to recover (health 200 through HAProxy and a new
turn answered); saves everything as JSON under bench/results/. It asserts nothing.

    .venv/bin/python bench/cluster.py                      # full form: 200 customers
    .venv/bin/python bench/cluster.py --customers 40 --only backend,rasa
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import harness  # noqa: F401 - puts the project on sys.path
import httpx

from testkit.cluster import ChatLoad, Cluster, start_cluster

ROOT = Path(__file__).resolve().parents[1]
RUNS = ("backend", "rasa", "redis", "postgres", "singleton", "rolling", "activation")


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


async def _failure(cluster: Cluster, load: ChatLoad, run: str) -> float:
    """Inject `run`'s failure; the seconds until recovered."""
    started = time.monotonic()
    if run == "backend":
        old = cluster.kill("backend-2")
        await asyncio.to_thread(cluster.wait_new_pid, "backend-2", old)
    elif run == "rasa":
        old = cluster.kill("rasa-2")
        await asyncio.to_thread(cluster.wait_new_pid, "rasa-2", old, 300)
    elif run in ("redis", "postgres"):
        old = cluster.restart(run)
        await asyncio.to_thread(cluster.wait_new_pid, run, old)
    elif run == "singleton":
        holder = cluster.singleton_holder()
        old = cluster.kill(holder)
        await asyncio.to_thread(cluster.wait_new_pid, holder, old)
    elif run == "rolling":
        for name in ("backend-1", "backend-2", "rasa-1", "rasa-2"):
            step = time.monotonic()
            old = cluster.restart(name)
            await asyncio.to_thread(cluster.wait_new_pid, name, old, 300)
            await asyncio.to_thread(cluster.wait_healthy, 900)
            log(f"rolling: {name} back in {time.monotonic() - step:.1f} s")
    return await cluster.recovery(started, timeout=900)


async def run_one(cluster: Cluster, run: str, customers: int, interval: float, warmup: float) -> dict[str, Any]:
    load = ChatLoad(cluster, customers, interval=interval)
    await load.setup()
    load.start()
    try:
        await asyncio.sleep(warmup)
        recovery = await _failure(cluster, load, run)
        await asyncio.sleep(warmup)
    finally:
        await load.stop()
    tally = await load.tally()
    await load.close()
    return {"run": run, "customers": customers, "recovery_s": round(recovery, 1), **tally.row(), "errors": load.errors}


async def _poll(api: httpx.AsyncClient, path: str, failures: list[str]) -> Any:
    """GET `path` as JSON; an answer that is not (HAProxy's 503 with no backend up, a timeout) is
    recorded in `failures` and None returned, so that polling goes on and the row says what happened."""
    try:
        response = await api.get(path)
        if response.status_code == 200:
            return response.json()
        failures.append(f"{time.strftime('%H:%M:%S')} GET {path}: HTTP {response.status_code} {response.text[:120]!r}")
    except (httpx.HTTPError, ValueError) as exc:
        failures.append(f"{time.strftime('%H:%M:%S')} GET {path}: {type(exc).__name__}: {exc}"[:200])
    return None


async def activation(cluster: Cluster, timeout: float = 1800) -> dict[str, Any]:
    """Train a quick model through the admin API (HAProxy: each request may reach either backend),
    activate it, and read each Rasa server's model file; the site's answers during the load are counted."""
    token = await asyncio.to_thread(cluster.agent_token, "admin@promptlink.example")
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    failures: list[str] = []
    polls = 0
    async with httpx.AsyncClient(base_url=cluster.public_url + "/api/v1/admin", headers=headers, timeout=60) as api:
        response = await api.post("/models", json={"recipe": "quick"})
        response.raise_for_status()
        version = response.json()
        while version["status"] in ("training", "evaluating"):
            if time.monotonic() - started > timeout:
                return {"run": "activation", "error": "training did not finish", "version": version}
            await asyncio.sleep(5)
            version = await _poll(api, f"/models/{version['id']}", failures) or version
        trained = time.monotonic() - started
        if version["status"] != "ready":
            return {"run": "activation", "error": f"training ended {version['status']}", "version": version}
        response = await api.post(f"/models/{version['id']}/activate", json={"force": True})
        if response.status_code >= 400:
            return {"run": "activation", "error": response.text, "version": version}
        activation_started = time.monotonic()
        state: dict[str, Any] = {}
        while time.monotonic() - started < timeout:
            polls += 1
            state = await _poll(api, "/activation", failures) or state
            if state.get("state") in ("done", "failed"):
                break
            await asyncio.sleep(1)
        activation_s = time.monotonic() - activation_started
    servers = {}
    rasa_token = cluster.secrets["PROMPTLINK_RASA_TOKEN"]
    async with httpx.AsyncClient(timeout=30) as http:
        for url in cluster.rasa_urls:
            status = (await http.get(f"{url}/status", params={"token": rasa_token})).json()
            servers[url] = Path(status.get("model_file", "")).name
    expected = Path(version.get("file") or "").name
    return {
        "run": "activation",
        "version": version.get("id"),
        "train_s": round(trained, 1),
        "activation_s": round(activation_s, 1),
        "activation": state,
        "rasa_model_files": servers,
        "expected": expected,
        "reached_every_server": len(set(servers.values())) == 1 and (not expected or expected in servers.values()),
        "admin_api_polls_during_activation": polls,
        "admin_api_failures": failures,
    }


async def activation_under_load(cluster: Cluster, customers: int, interval: float, warmup: float) -> dict[str, Any]:
    """`activation` while customers chat through HAProxy: what a model activation costs the chats."""
    load = ChatLoad(cluster, customers, interval=interval)
    await load.setup()
    load.start()
    try:
        await asyncio.sleep(warmup)
        row = await activation(cluster)
        await asyncio.sleep(warmup)
    finally:
        await load.stop()
    tally = await load.tally()
    await load.close()
    return {**row, "customers": customers, **tally.row(), "errors": load.errors}


def table(rows: list[dict[str, Any]]) -> str:
    keys = ("sent", "acked", "stored", "delivered", "lost", "duplicated", "turns", "answered", "notices")
    head = f"{'run':11}" + "".join(f"{k:>11}" for k in keys) + f"{'unanswered':>11}{'reconnects':>11}{'recovery s':>11}"
    lines = [head]
    for row in rows:
        if "sent" not in row:
            continue
        cells = "".join(f"{row[k]:>11}" for k in keys)
        recovery = row.get("recovery_s", "-")  # an activation has none
        lines.append(f"{row['run']:11}{cells}{row['unanswered']:>11}{row['reconnects']:>11}{recovery:>11}")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a client's messages")
    parser.add_argument("--warmup", type=float, default=10.0, help="traffic before each failure and after recovery")
    parser.add_argument("--only", default=",".join(RUNS), help=f"comma-separated subset of {','.join(RUNS)}")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    runs = [r for r in args.only.split(",") if r]
    var_dir = Path(tempfile.mkdtemp(prefix="promptlink-cluster-bench-"))
    # The private PostgreSQL runs as `postgres` when started by root: it must reach its folder.
    os.chmod(var_dir, 0o755)  # noqa: S103 - a folder of throwaway bench data
    log(f"starting the cluster (private PostgreSQL and Redis) in {var_dir}")
    # Administrators' models go to the bench's own folder, not the project's models/active.
    models = var_dir / "models"
    models.mkdir(parents=True)
    cluster = await asyncio.to_thread(
        start_cluster, var_dir / "cluster", private=True, timeout=1200, PROMPTLINK_MODELS_DIR=str(models)
    )
    out = args.out or ROOT / "bench" / "results" / f"cluster-{datetime.now(UTC):%Y%m%d-%H%M}.json"
    rows: list[dict[str, Any]] = []

    def save() -> None:  # after every run: a long run stopped part-way keeps what it measured
        out.write_text(json.dumps({"customers": args.customers, "interval": args.interval, "runs": rows}, indent=1))

    try:
        for run in runs:
            log(f"run {run} with {args.customers} customers")
            if run == "activation":
                rows.append(await activation_under_load(cluster, args.customers, args.interval, args.warmup))
            else:
                try:
                    rows.append(await run_one(cluster, run, args.customers, args.interval, args.warmup))
                except Exception as exc:  # noqa: BLE001 - reported in the table's JSON, the next run goes on
                    rows.append({"run": run, "customers": args.customers, "error": repr(exc)[:500]})
            log(json.dumps(rows[-1], ensure_ascii=False))
            save()
            await asyncio.to_thread(cluster.wait_healthy, 900)
    finally:
        await asyncio.to_thread(cluster.stop)
    print(table(rows))
    for row in rows:
        if row["run"] == "activation":
            print(f"activation: {json.dumps(row, ensure_ascii=False)}")
    save()
    print(f"saved {out}")


if __name__ == "__main__":
    asyncio.run(main())
