"""The system's real processes on free ports: a backend alone, or the full stack under the supervisor.

Each one gets its own var dir (SQLite database, Rasa tracker store, logs) and demo-mode settings;
nothing listens beyond 127.0.0.1. The caller stops what it started (`Running.stop()`, or the
`stopping` context manager).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BACKEND_PY = ROOT / ".venv" / "bin" / "python"


# Ports handed out by this process: a server may bind its port many seconds later (a Rasa server
# after loading its model), so the same port must not be handed out twice meanwhile.
_HANDED_OUT: set[int] = set()


def _ephemeral_low() -> int:
    """The first port the kernel gives to outgoing connections (net.ipv4.ip_local_port_range)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _free(kind: socket.SocketKind) -> int:
    """A port below the kernel's ephemeral range, free now. A port the kernel picked (bind to 0) is in
    that range: until the server binds it, any outgoing connection may take it as its source port,
    and a long-lived one (a pooled HTTP or database connection) keeps it — a Rasa server of the test
    stack then failed to bind for ten minutes (CI, «address already in use»)."""
    low = _ephemeral_low()
    for _ in range(500 if low > 11000 else 0):
        port = random.randint(10000, low - 1)  # noqa: S311 - spreading test ports, not a secret
        if port in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    with socket.socket(socket.AF_INET, kind) as s:  # no room below the range: the kernel's choice
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port() -> int:
    return _free(socket.SOCK_STREAM)


def free_udp_port() -> int:
    return _free(socket.SOCK_DGRAM)


def base_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTLINK_")}
    env.update(
        PROMPTLINK_DEMO="1",
        PROMPTLINK_VAR_DIR=str(var_dir),
        PROMPTLINK_SMTP_INTAKE_PORT=str(free_port()),
        PROMPTLINK_SNMP_PORT=str(free_udp_port()),
        PROMPTLINK_SNMP_METRICS_PORT=str(free_port()),  # `promptlink snmp` alone serves its metrics there
        PROMPTLINK_OUTBOX_INTERVAL_SECONDS="0.2",
        PROMPTLINK_LOG_FORMAT="json",
        # Administrators' labels and activated models stay in the test's own folder, not the project's.
        PROMPTLINK_REVIEWED_NLU_PATH=str(var_dir / "reviewed" / "reviewed.yml"),
        PROMPTLINK_MODELS_DIR=str(var_dir / "models"),
        PYTHONPATH=str(ROOT / "backend"),
        RASA_TELEMETRY_ENABLED="false",
    )
    env.update(overrides)
    return env


def lone_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """A backend alone: Rasa and the action server point at closed ports; `overrides` add to it."""
    defaults = {
        "PROMPTLINK_PORT": str(free_port()),
        "PROMPTLINK_RASA_URL": f"http://127.0.0.1:{free_port()}",
        "PROMPTLINK_RASA_PROCESSES": "1",  # no Rasa runs: one closed URL, not a second one derived from it
        "PROMPTLINK_ACTIONS_URL": f"http://127.0.0.1:{free_port()}",
    }
    return base_env(var_dir, **{**defaults, **overrides})


def stack_env(var_dir: Path, rasa_processes: int = 2, **overrides: str) -> dict[str, str]:
    """The full stack: `rasa_processes` Rasa servers (as `make run` starts on 2 cores) and the action server."""
    rasa_urls = [f"http://127.0.0.1:{free_port()}" for _ in range(rasa_processes)]
    defaults = {
        "PROMPTLINK_PORT": str(free_port()),
        "PROMPTLINK_RASA_URL": rasa_urls[0],
        "PROMPTLINK_RASA_URLS": ",".join(rasa_urls),
        "PROMPTLINK_ACTIONS_URL": f"http://127.0.0.1:{free_port()}",
    }
    return base_env(var_dir, **{**defaults, **overrides})


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(BACKEND_PY), "-m", "promptlink", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def wait_http(
    url: str, *, timeout: float, accept: tuple[int, ...] = (200,), process: subprocess.Popen[bytes] | None = None
) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} while waiting for {url}")
        try:
            response = httpx.get(url, timeout=3)
            if response.status_code in accept:
                return
            last = f"HTTP {response.status_code}: {response.text[:300]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout} s ({last})")


@dataclass
class Running:
    """A backend (alone, or with Rasa and actions under the supervisor) on free ports."""

    base_url: str
    var_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def pid(self, child: str) -> int:
        return int((self.var_dir / "run" / f"{child}.pid").read_text())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    var_dir: Path,
    argv: list[str],
    env: dict[str, str],
    health_timeout: float,
    accept: tuple[int, ...],
    *,
    entry: Sequence[str] = ("-m", "promptlink"),
) -> Running:
    """Migrate and seed `env`'s database, start `python <entry> <argv>`, wait until health answers `accept`.

    A process that does not become healthy (or a Ctrl-C meanwhile) is stopped before the error goes on;
    its log's tail goes to stderr.
    """
    cli(env, "migrate")
    cli(env, "seed")
    log_path = var_dir / "process.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(BACKEND_PY), *entry, *argv], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    running = Running(f"http://127.0.0.1:{env['PROMPTLINK_PORT']}", var_dir, env, process, log_path)
    try:
        wait_http(running.base_url + "/api/v1/health", timeout=health_timeout, accept=accept, process=process)
    except BaseException as exc:
        running.stop()
        if isinstance(exc, Exception):
            sys.stderr.write(running.log()[-5000:])
        raise
    return running


def start_lone_backend(var_dir: Path, **overrides: str) -> Running:
    """Migrate, seed and start a backend alone (Rasa and actions down); `overrides` add to its environment.

    The caller stops it (`Running.stop()`).
    """
    # Rasa is down on purpose, so health answers 503 once the server is up.
    return start(var_dir, ["serve"], lone_env(var_dir, **overrides), health_timeout=backend_timeout(), accept=(503,))


def start_stack(
    var_dir: Path, *, timeout: float, rasa_processes: int = 2, model: str | Path | None = None, **overrides: str
) -> Running:
    """Backend, Rasa and the action server under the supervisor (`promptlink run`), healthy (200).

    `model`: the Rasa model file to load instead of the one for the current data. `extra` holds
    `rasa_url` (the first server) and `rasa_urls` (all of them). The caller stops it.
    """
    env = stack_env(var_dir, rasa_processes, **overrides)
    argv = ["run", "--model", str(model)] if model else ["run"]
    running = start(var_dir, argv, env, health_timeout=timeout, accept=(200,))
    running.extra["rasa_url"] = env["PROMPTLINK_RASA_URL"]
    running.extra["rasa_urls"] = env["PROMPTLINK_RASA_URLS"].split(",")
    return running


def backend_timeout() -> float:
    """How long the tests wait for a lone backend to answer: 60 s, more on a loaded machine
    (PROMPTLINK_TEST_BACKEND_TIMEOUT, seconds)."""
    return float(os.environ.get("PROMPTLINK_TEST_BACKEND_TIMEOUT", "60"))


def stack_timeout() -> float:
    """How long the tests wait for the stack: a loaded 2-core machine can need more than 10 minutes to load
    Rasa (PROMPTLINK_TEST_STACK_TIMEOUT, seconds)."""
    return float(os.environ.get("PROMPTLINK_TEST_STACK_TIMEOUT", "600"))


@contextmanager
def stopping(started: Running) -> Iterator[Running]:
    """Stop `started` when the block ends, however it ends (like `contextlib.closing`)."""
    try:
        yield started
    finally:
        started.stop()


def start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """A private redis-server on 127.0.0.1:`port` (nothing saved), once it accepts connections; tests
    that restart Redis stop it and start another on the same port."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("private redis-server did not start")
