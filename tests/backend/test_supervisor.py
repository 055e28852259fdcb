"""The supervisor restarts a child that exits, and a restarted Rasa server gets the model active by then."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from promptlink.assistant.workspace import write_active_pointer
from promptlink.infra.settings import Settings
from promptlink.supervisor import (
    RASA_MEMORY_ENV,
    Child,
    Supervisor,
    active_model,
    build_children,
    rasa_child_name,
    wait_healthy,
)

# Records its --model argument, then exits as a crashed Rasa server would.
RECORDER = "import json, sys; open(sys.argv[1], 'a').write(json.dumps(sys.argv[2:]) + '\\n'); sys.exit(3)"


async def until(done: Callable[[], bool], timeout_s: float = 20) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not done in {timeout_s} s")


def _models(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A models folder with the start-up model and another one: (folder, start-up, other)."""
    models = tmp_path / "models"
    models.mkdir()
    started_with, other = models / "start.tar.gz", models / "other.tar.gz"
    started_with.write_text("m1")
    other.write_text("m2")
    return models, started_with, other


def test_a_restarted_child_is_started_with_the_model_active_at_restart(tmp_path: Path) -> None:
    models, started_with, activated = _models(tmp_path)
    record = tmp_path / "starts.jsonl"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    child = Child(
        "rasa-2",
        [sys.executable, "-c", RECORDER, str(record), "--model", str(started_with)],
        {"PATH": "/usr/bin:/bin"},
        model=active_model(models, started_with),
    )
    supervisor = Supervisor([child], run_dir)

    async def scenario() -> None:
        watcher = asyncio.create_task(supervisor.watch(child))
        await until(record.exists)  # the first start
        write_active_pointer(models, activated)  # an administrator activates a model meanwhile
        await until(lambda: len(record.read_text().splitlines()) >= 2)  # restarted after a 1 s back-off
        supervisor.stopping.set()
        await asyncio.wait_for(watcher, timeout=10)

    asyncio.run(asyncio.wait_for(scenario(), timeout=30))
    starts = [json.loads(line) for line in record.read_text().splitlines()]
    assert starts[0] == ["--model", str(started_with)]
    assert starts[1] == ["--model", str(activated.resolve())]
    assert child.restarts >= 1


def test_the_active_model_file_removed_falls_back_to_the_start_up_model(tmp_path: Path) -> None:
    models, started_with, activated = _models(tmp_path)
    write_active_pointer(models, activated)
    activated.unlink()
    child = Child("rasa", ["rasa", "run", "--model", "x"], {}, model=active_model(models, started_with))
    assert child.command() == ["rasa", "run", "--model", str(started_with)]


def test_every_rasa_server_asks_for_its_model_and_other_children_keep_their_command(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("PROMPTLINK_DEMO", "1")
    monkeypatch.setenv("PROMPTLINK_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PROMPTLINK_RASA_URLS", "http://127.0.0.1:15005,http://127.0.0.1:15006")
    current = tmp_path / "now.tar.gz"
    children = build_children(Settings(), tmp_path / "start.tar.gz", tmp_path / "run", lambda: current)
    by_name = {c.name: c for c in children}
    for k in range(2):
        argv = by_name[rasa_child_name(k)].command()
        assert argv[argv.index("--model") + 1] == str(current)
        assert argv[argv.index("--port") + 1] == str(15005 + k)
    assert by_name["backend"].command() == by_name["backend"].argv
    assert by_name["actions"].command() == by_name["actions"].argv


def test_rasa_servers_get_the_memory_settings_and_an_operators_own_value_wins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PROMPTLINK_DEMO", "1")
    monkeypatch.setenv("PROMPTLINK_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PROMPTLINK_RASA_URLS", "http://127.0.0.1:15005,http://127.0.0.1:15006")
    for key in RASA_MEMORY_ENV:
        monkeypatch.delenv(key, raising=False)
    by_name = {c.name: c for c in build_children(Settings(), tmp_path / "m.tar.gz", tmp_path / "run")}
    for k in range(2):
        env = by_name[rasa_child_name(k)].env
        assert {key: env.get(key) for key in RASA_MEMORY_ENV} == RASA_MEMORY_ENV
    assert not set(RASA_MEMORY_ENV) & set(by_name["backend"].env)

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    by_name = {c.name: c for c in build_children(Settings(), tmp_path / "m.tar.gz", tmp_path / "run")}
    assert by_name["rasa"].env["MALLOC_ARENA_MAX"] == "4"


def test_the_banner_waits_for_chats_to_work_not_for_the_trap_receiver() -> None:
    from aiohttp import web

    answers = [
        (503, {"failing": ["rasa", "snmp"]}),  # Rasa still loading
        (503, {"failing": ["snmp"], "components": {"snmp": "down: cannot listen on UDP 127.0.0.1:1162"}}),
    ]
    served: list[int] = []

    async def health(_request: web.Request) -> web.Response:
        status, body = answers[min(len(served), len(answers) - 1)]
        served.append(status)
        return web.json_response(body, status=status)

    async def scenario() -> dict | None:
        app = web.Application()
        app.router.add_get("/api/v1/health", health)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            return await wait_healthy(f"http://127.0.0.1:{port}/api/v1/health", asyncio.Event(), timeout=20)
        finally:
            await runner.cleanup()

    body = asyncio.run(scenario())
    assert body is not None and body["failing"] == ["snmp"]
    assert served == [503, 503]  # not before Rasa was up


def test_no_banner_while_the_chat_cannot_work() -> None:
    async def scenario() -> dict | None:
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{closed.getsockname()[1]}/api/v1/health"
            return await wait_healthy(url, asyncio.Event(), timeout=2)

    assert asyncio.run(scenario()) is None
