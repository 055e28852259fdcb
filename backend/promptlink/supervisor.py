"""Run the backend, the Rasa server and the action server as one unit.

Ctrl-C (SIGINT) or SIGTERM stops all three. A child that exits on its own is logged
and restarted with a growing back-off. Each child's pid is written to var/run/<name>.pid.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from promptlink.infra.settings import PROJECT_ROOT, Settings, get_settings

BOT_BIN = PROJECT_ROOT / ".venv-bot" / "bin"
PR_SET_PDEATHSIG = 1
# What each Rasa server gets to hold less memory, measured with bench/rasa_memory.py (docs/performance.md,
# «Rasa server memory»): glibc makes up to 8 malloc arenas per core for TensorFlow's threads, each
# keeping freed memory; two are enough for one event loop. TensorFlow's thread pools sized for a
# one-core share of the machine: it infers one message at a time. None changes what the model answers
# (held-out NLU and test stories identical). Measured gain: small, about 16 MB of ~1.3 GB per server.
# Most of the cut is in the code `python -m bot.rasa_server` runs (1,348 -> 843 MB after traffic,
# session 13): jax not imported, the training step a loaded model traced dropped, malloc_trim after
# each model load; PROMPTLINK_RASA_IMPORT_ALL=1, PROMPTLINK_RASA_DROP_TRAIN_STEP=0 and
# PROMPTLINK_RASA_MALLOC_TRIM=0 switch those off (the last also the gc.freeze after each load;
# PROMPTLINK_RASA_GC_FREEZE=0 that alone). jemalloc (LD_PRELOAD) is not set: on top of them it
# saved nothing (855 vs 843 MB); an operator can still set LD_PRELOAD/MALLOC_CONF, they pass through.
RASA_MEMORY_ENV = {
    "MALLOC_ARENA_MAX": "2",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


def _die_with_parent() -> None:
    """Children get SIGTERM when the supervisor dies, even by SIGKILL (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def log(event: str, **fields: object) -> None:
    entry = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "logger": "supervisor", "msg": event, **fields}
    print(json.dumps(entry, ensure_ascii=False), flush=True)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    pump: asyncio.Task[None] | None = field(default=None, repr=False)
    # Asked at every (re)start for the value of `--model`: a Rasa server restarted after an
    # administrator activated a model must serve that model, not the one the system started with.
    model: Callable[[], Path] | None = field(default=None, repr=False)

    def command(self) -> list[str]:
        if self.model is None:
            return list(self.argv)
        argv = list(self.argv)
        argv[argv.index("--model") + 1] = str(self.model())
        return argv


def _port(url: str) -> str:
    return str(urlsplit(url).port or 80)


def rasa_child_name(k: int) -> str:
    """The supervisor's name (pid file, log prefix) of the k-th Rasa server, from 0: rasa, rasa-2, ..."""
    return "rasa" if k == 0 else f"rasa-{k + 1}"


def active_model(models_dir: Path, fallback: Path) -> Callable[[], Path]:
    """Each Rasa (re)start's model: the one administrators activated last (`models/active`),
    or `fallback` while there is none or its file is gone."""
    from promptlink.assistant.workspace import read_active_pointer

    return lambda: read_active_pointer(models_dir) or fallback


def build_children(
    settings: Settings, model: Path, run_dir: Path, current_model: Callable[[], Path] | None = None
) -> list[Child]:
    """The processes to run; `current_model`, when given, picks each Rasa server's model at every (re)start."""
    base = dict(os.environ)
    base.update(
        RASA_TELEMETRY_ENABLED="false",
        PYTHONPATH=str(PROJECT_ROOT),
        PROMPTLINK_DEMO="1" if settings.demo else "0",
    )
    # Secrets travel in the environment, never on a command line (`ps` shows those; issue #13 F15).
    # Rasa gets its own tokens; only the action server gets the service token.
    rasa_env = dict(
        base,
        PROMPTLINK_RASA_CHANNEL_TOKEN=settings.secret("rasa_channel_token"),
        PROMPTLINK_RASA_TOKEN=settings.secret("rasa_token"),
        PROMPTLINK_ACTIONS_TOKEN=settings.secret("actions_token"),
        PROMPTLINK_ACTIONS_URL=settings.actions_url.rstrip("/"),
        PROMPTLINK_RASA_TRACKER_DB=str(run_dir.parent / "rasa_tracker.db"),
        RASA_CACHE_DIRECTORY=str(PROJECT_ROOT / ".rasa" / "cache"),
        **{k: base.get(k, v) for k, v in RASA_MEMORY_ENV.items()},  # an operator's own value wins
    )
    actions_env = dict(
        base,
        PROMPTLINK_ACTIONS_TOKEN=settings.secret("actions_token"),
        PROMPTLINK_BACKEND_URL=f"http://{settings.host}:{settings.port}",
        PROMPTLINK_SERVICE_TOKEN=settings.secret("service_token"),
        SANIC_HOST=urlsplit(settings.actions_url).hostname or "127.0.0.1",
    )
    backend_env = dict(base, PYTHONPATH=str(PROJECT_ROOT / "backend"))
    return [
        Child("backend", [sys.executable, "-m", "promptlink", "serve"], backend_env),
        *(
            Child(
                rasa_child_name(k),
                [
                    str(BOT_BIN / "python"),
                    "-m",
                    "bot.rasa_server",  # `rasa run` with the API token from PROMPTLINK_RASA_TOKEN
                    "run",
                    "--enable-api",
                    "--interface",
                    urlsplit(url).hostname or "127.0.0.1",
                    "--port",
                    _port(url),
                    "--credentials",
                    str(PROJECT_ROOT / "bot" / "credentials.yml"),
                    "--endpoints",
                    str(PROJECT_ROOT / "bot" / "endpoints.yml"),
                    "--model",
                    str(model),
                    "--log-file",
                    str(run_dir.parent / "log" / f"{rasa_child_name(k)}.log"),
                ],
                rasa_env,
                model=current_model,
            )
            for k, url in enumerate(settings.rasa_servers)
        ),
        Child(
            "actions",
            [
                str(BOT_BIN / "python"),
                "-m",
                "bot.action_server",  # `rasa run actions` behind PROMPTLINK_ACTIONS_TOKEN
                "--actions",
                "actions",
                "--port",
                _port(settings.actions_url),
            ],
            actions_env,
        ),
    ]


class Supervisor:
    def __init__(self, children: list[Child], run_dir: Path) -> None:
        self.children = children
        self.run_dir = run_dir
        self.stopping = asyncio.Event()

    async def start(self, child: Child) -> None:
        argv = child.command()
        child.process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=PROJECT_ROOT,
            env=child.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        child.started_at = time.monotonic()
        (self.run_dir / f"{child.name}.pid").write_text(str(child.process.pid))
        child.pump = asyncio.create_task(self._pump(child, child.process))
        started = {"model": argv[argv.index("--model") + 1]} if child.model is not None else {}
        log("child started", child=child.name, pid=child.process.pid, restarts=child.restarts, **started)

    async def _pump(self, child: Child, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            sys.stdout.write(f"[{child.name}] {raw.decode(errors='replace').rstrip()}\n")
            sys.stdout.flush()

    async def watch(self, child: Child) -> None:
        while not self.stopping.is_set():
            await self.start(child)
            assert child.process is not None
            code = await child.process.wait()
            if child.pump:
                await child.pump
            if self.stopping.is_set():
                break
            uptime = time.monotonic() - child.started_at
            if uptime > 60:
                child.restarts = 0
            delay = min(30.0, 1.0 * 2 ** min(child.restarts, 5))
            child.restarts += 1
            log(
                "child exited unexpectedly; restarting",
                child=child.name,
                code=code,
                uptime_s=round(uptime, 1),
                restart_in_s=delay,
                restarts=child.restarts,
            )
            try:
                await asyncio.wait_for(self.stopping.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self.stopping.set()
        for child in self.children:
            if child.process and child.process.returncode is None:
                child.process.terminate()
        deadline = time.monotonic() + 15
        for child in self.children:
            if child.process and child.process.returncode is None:
                try:
                    await asyncio.wait_for(child.process.wait(), timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    log("child did not stop; killing", child=child.name)
                    child.process.kill()
                    await child.process.wait()
            (self.run_dir / f"{child.name}.pid").unlink(missing_ok=True)
        log("all stopped")


async def wait_healthy(url: str, stopping: asyncio.Event, timeout: float = 600) -> dict[str, Any] | None:
    """The health body once the system serves chats: everything up, or all but the SNMP receiver
    (whose failure the banner then shows). None when that does not happen within `timeout`."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline and not stopping.is_set():
            try:
                response = await client.get(url)
                body = response.json()
                if response.status_code == 200 or body.get("failing") == ["snmp"]:
                    return dict(body)
            except (httpx.HTTPError, ValueError):
                pass
            await asyncio.sleep(1)
    return None


def banner(settings: Settings) -> str:
    from promptlink.services.demo_data import DEMO_AGENTS

    base = f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        "Promptlink Assist is running.",
        f"  Demo site with the chat widget:  {base}/",
        f"  Agent console:                   {base}/console",
        f"  Administration:                  {base}/admin",
        f"  API docs (OpenAPI):              {base}/docs",
        f"  Health:                          {base}/api/v1/health",
        f"  E-mail intake (SMTP):            {settings.smtp_intake_host}:{settings.smtp_intake_port}",
        f"  Rasa (internal, token required): {', '.join(settings.rasa_servers)}",
        f"  Action server (internal):        {settings.actions_url}",
    ]
    if settings.demo:
        lines.append(f"  Demo mailbox (e-mail sent):      {base}/demo/mailbox")
        lines.append("  Demo logins (agents):")
        lines += [f"    {a.email:34} {a.password:22} {a.role} {a.tiers}" for a in DEMO_AGENTS]
    lines.append("Press Ctrl-C to stop all processes.")
    return "\n".join(lines)


async def supervise(settings: Settings, model: Path, current_model: Callable[[], Path] | None = None) -> int:
    run_dir = settings.var_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir.parent / "log").mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(build_children(settings, model, run_dir, current_model), run_dir)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.stopping.set)
    watchers = [asyncio.create_task(supervisor.watch(c)) for c in supervisor.children]
    health_url = f"http://{settings.host}:{settings.port}/api/v1/health"
    health = await wait_healthy(health_url, supervisor.stopping)
    if health is not None:
        print(banner(settings), flush=True)
        if "snmp" in health.get("failing", []):
            print(
                f"WARNING: the SNMP trap receiver is {health['components']['snmp']} (PROMPTLINK_SNMP_PORT)", flush=True
            )
    elif not supervisor.stopping.is_set():
        log("system did not become healthy in time", url=health_url)
    await supervisor.stopping.wait()
    await supervisor.stop()
    await asyncio.gather(*watchers, return_exceptions=True)
    return 0


def main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(PROJECT_ROOT))
    from bot.model import model_path
    from promptlink.assistant.workspace import read_active_pointer

    settings = get_settings()
    # The model an administrator activated last (docs/admin.md) wins over the one of the current data.
    model = Path(args.model) if args.model else (read_active_pointer(settings.models_dir) or model_path())
    if not model.exists():
        print(
            f"promptlink: no Rasa model at {model}; run `python bot/model.py ensure` first "
            "(the README's run command does).",
            file=sys.stderr,
        )
        return 2
    log("rasa model", model=str(model))
    if args.model:
        return asyncio.run(supervise(settings, model))
    # A Rasa server restarted later serves the model activated by then (or, if that file is gone, this one).
    return asyncio.run(supervise(settings, model, active_model(settings.models_dir, model)))
