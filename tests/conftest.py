"""Shared fixtures: real processes on free ports, real databases (SQLite and PostgreSQL).

Imports of backend-only packages stay inside fixtures: the bot environment runs
tests/actions with this same conftest.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKEND_PY = ROOT / ".venv" / "bin" / "python"
PG_ADMIN_URL = os.environ.get("PROMPTLINK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTLINK_")}
    env.update(
        PROMPTLINK_DEMO="1",
        PROMPTLINK_VAR_DIR=str(var_dir),
        PROMPTLINK_SMTP_INTAKE_PORT=str(free_port()),
        PROMPTLINK_SNMP_PORT=str(free_udp_port()),
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
    extra: dict[str, str] = field(default_factory=dict)

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


def agent_token(base_url: str, email: str, password: str) -> str:
    """Log a demo agent in through the API; returns its bearer token."""
    import httpx

    response = httpx.post(f"{base_url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)
    response.raise_for_status()
    return str(response.json()["token"])


DEMO_PASSWORDS = {
    "l1@promptlink.example": "demo-l1-pass",
    "l2@promptlink.example": "demo-l2-pass",
    "l3@promptlink.example": "demo-l3-pass",
    "supervisor@promptlink.example": "demo-supervisor-pass",
    "admin@promptlink.example": "demo-admin-pass",
}
SERVICE_TOKEN = "demo-service-token-not-for-production"
DEMO_SESSION_SECRET = "demo-session-secret-not-for-production"


def service_headers(contact: str | None = None, *, conversation_id: str = "test-conversation") -> dict[str, str]:
    """The action server's headers in demo mode: the service token with the conversation token the backend
    gives Rasa for `conversation_id` (a conversation of `contact`), on behalf of `contact` when given."""
    from promptlink.services.conversation_token import HEADER, key_from, sign

    # Valid for a day: session fixtures keep these headers for the whole run.
    token = sign(key=key_from(DEMO_SESSION_SECRET), conversation_id=conversation_id, contact=contact, lifetime=86400)
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", HEADER: token}
    if contact:
        headers["X-On-Behalf-Of"] = contact
    return headers


def _start(
    var_dir: Path, argv: list[str], env: dict[str, str], health_timeout: float, accept: tuple[int, ...]
) -> Running:
    cli(env, "migrate")
    cli(env, "seed")
    log_path = var_dir / "process.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [str(BACKEND_PY), "-m", "promptlink", *argv], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
    )
    running = Running(f"http://127.0.0.1:{env['PROMPTLINK_PORT']}", var_dir, env, process, log_path)
    try:
        wait_http(running.base_url + "/api/v1/health", timeout=health_timeout, accept=accept, process=process)
    except Exception:
        running.stop()
        sys.stderr.write(running.log()[-5000:])
        raise
    return running


def start_lone_backend(var_dir: Path, **overrides: str) -> Running:
    """Migrate, seed and start a backend alone (Rasa and actions down); `overrides` add to its environment.

    The caller stops it (`Running.stop()`).
    """
    env = base_env(
        var_dir,
        PROMPTLINK_PORT=str(free_port()),
        PROMPTLINK_RASA_URL=f"http://127.0.0.1:{free_port()}",
        PROMPTLINK_RASA_PROCESSES="1",  # no Rasa runs: one closed URL, not a second one derived from it
        PROMPTLINK_ACTIONS_URL=f"http://127.0.0.1:{free_port()}",
        **overrides,
    )
    return _start(var_dir, ["serve"], env, health_timeout=60, accept=(503,))


@pytest.fixture(scope="session")
def lone_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The backend alone: Rasa and the action server point at closed ports (both down)."""
    running = start_lone_backend(tmp_path_factory.mktemp("lone"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def auth_headers(lone_backend: Running) -> dict[str, dict[str, str]]:
    """Request headers per caller of the `lone_backend` API: every role the API knows."""
    import httpx

    def widget(contact: str) -> dict[str, str]:
        response = httpx.post(f"{lone_backend.base_url}/demo/identity", json={"contact": contact}, timeout=10)
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    headers = {
        email.split("@")[0]: {"Authorization": f"Bearer {agent_token(lone_backend.base_url, email, password)}"}
        for email, password in DEMO_PASSWORDS.items()
    }
    headers.update(
        service={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        service_as_ana=service_headers("ana.gomez@cableandina.example"),
        ana=widget("ana.gomez@cableandina.example"),
        luis=widget("luis.perez@cableandina.example"),
        maria=widget("maria.rodriguez@telecaribe.example"),
        anonymous={},
    )
    return headers


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The three real processes (backend, Rasa, action server) under the supervisor."""
    var_dir = tmp_path_factory.mktemp("stack")
    # Two Rasa processes, as `make run` starts on 2 cores; conversations are spread over both.
    rasa_urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    rasa_url = rasa_urls[0]
    env = base_env(
        var_dir,
        PROMPTLINK_PORT=str(free_port()),
        PROMPTLINK_RASA_URL=rasa_url,
        PROMPTLINK_RASA_URLS=",".join(rasa_urls),
        PROMPTLINK_ACTIONS_URL=f"http://127.0.0.1:{free_port()}",
    )
    # A loaded 2-core machine can need more than 10 minutes to load Rasa: PROMPTLINK_TEST_STACK_TIMEOUT.
    timeout = float(os.environ.get("PROMPTLINK_TEST_STACK_TIMEOUT", "600"))
    running = _start(var_dir, ["run"], env, health_timeout=timeout, accept=(200,))
    running.extra["rasa_url"] = rasa_url
    running.extra["rasa_urls"] = rasa_urls
    yield running
    running.stop()


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str | None]]:
    """Migrate once per session: a SQLite file to copy and a PostgreSQL template database."""
    import asyncio

    import asyncpg
    from promptlink.infra.migrate import upgrade

    sqlite_path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{sqlite_path}")
    templates: dict[str, str | None] = {"sqlite": str(sqlite_path), "postgresql": None, "pg_error": None}
    name = f"promptlink_tpl_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        templates["pg_error"] = str(exc)
        yield templates
        return
    try:
        upgrade(_pg_url(name))
        templates["postgresql"] = name
        yield templates
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: dict[str, str | None]
) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a fresh PostgreSQL database."""
    import asyncio
    import shutil

    if request.param == "sqlite":
        target = tmp_path / "test.db"
        shutil.copy(str(migrated_templates["sqlite"]), target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    template = migrated_templates["postgresql"]
    if template is None:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {migrated_templates['pg_error']}")
    name = f"promptlink_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _pg_url(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Real-browser fixtures: Debian's chromium driven by Playwright (no browser download).
# Shared by tests/e2e (chat widget) and tests/backend/web (agent console).

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("PROMPTLINK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Debian's chromium is not installed: `apt-get install chromium` (the test command does this as root)"
        )
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for the session-wide `browser`, and async tests (socket.io clients) that run after it
    starts cannot run their own loop."""
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))
