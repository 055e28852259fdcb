"""Shared fixtures: real processes on free ports, real databases (SQLite and PostgreSQL), a real browser.

The helpers behind them (starting processes, demo credentials, clients) live in `testkit/`, which
the benchmarks use too; tests import them from there. Imports of backend-only packages stay inside
fixtures: the bot environment runs tests/actions with this same conftest.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.browser import CHROMIUM_ARGS, chromium_path
from testkit.databases import PG_ADMIN_URL, pg_admin, pg_url
from testkit.demo import ANA, DEMO_PASSWORDS, LUIS, MARIA, SERVICE_TOKEN, agent_headers, service_headers, widget_token
from testkit.processes import Running, free_port, stack_timeout, start_lone_backend, start_redis, start_stack


@pytest.fixture(scope="session")
def lone_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The backend alone: Rasa and the action server point at closed ports (both down)."""
    running = start_lone_backend(tmp_path_factory.mktemp("lone"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def auth_headers(lone_backend: Running) -> dict[str, dict[str, str]]:
    """Request headers per caller of the `lone_backend` API: every role the API knows."""

    def widget(contact: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {widget_token(lone_backend.base_url, contact)}"}

    headers = {email.split("@")[0]: agent_headers(lone_backend.base_url, email) for email in DEMO_PASSWORDS}
    headers.update(
        service={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        service_as_ana=service_headers(ANA),
        ana=widget(ANA),
        luis=widget(LUIS),
        maria=widget(MARIA),
        anonymous={},
    )
    return headers


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The three real processes (backend, Rasa, action server) under the supervisor."""
    # Two Rasa processes, as `make run` starts on 2 cores; conversations are spread over both.
    running = start_stack(tmp_path_factory.mktemp("stack"), timeout=stack_timeout(), rasa_processes=2)
    yield running
    running.stop()


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
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        templates["pg_error"] = str(exc)
        yield templates
        return
    try:
        upgrade(pg_url(name))
        templates["postgresql"] = name
        yield templates
    finally:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: dict[str, str | None]
) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a fresh PostgreSQL database."""
    import asyncio

    if request.param == "sqlite":
        target = tmp_path / "test.db"
        shutil.copy(str(migrated_templates["sqlite"]), target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    template = migrated_templates["postgresql"]
    if template is None:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {migrated_templates['pg_error']}")
    name = f"promptlink_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield pg_url(name)
    finally:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Real-browser fixtures: Debian's chromium driven by Playwright (no browser download).
# Shared by tests/e2e (chat widget) and tests/backend/web (agent console).


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


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A Redis of the test's own, on a free port: (port, its processes — a restart appends one)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian's redis-server): no private Redis to restart")
    port = free_port()
    processes = [start_redis(port, tmp_path)]
    yield port, processes
    for process in processes:
        process.terminate()
        process.wait(10)
