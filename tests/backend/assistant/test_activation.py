"""Model activation shared by the backends of a cluster: the state is the database's (any backend
answers alike), one activation and one training at a time cluster-wide (leases), and a backend
starting up marks runs failed only when no live process is still doing them.

Two `TrainingRunner`s on one database stand for two backends; the Rasa servers are a recorder
whose `PUT /model` waits until the test lets it finish (the HTTP client's own load across servers
is tested in tests/backend/assistant/test_client.py, the real hot-load in the admin browser test).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from promptlink.assistant.activation import Busy, take_once
from promptlink.assistant.client import AssistantUnavailable
from promptlink.assistant.runner import TrainingConfig, TrainingRunner
from promptlink.assistant.workspace import read_active_pointer
from promptlink.infra.db import transaction
from promptlink.models import AuditLog, ModelActivation, ModelVersion
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

NOW = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)


class Servers:
    """Every Rasa server of the cluster, as `RasaClient.load_model` sees them: a load waits for `go`."""

    def __init__(self) -> None:
        self.loaded: list[str] = []
        self.go = asyncio.Event()
        self.fail = False

    async def loaded_model(self) -> str:
        return self.loaded[-1] if self.loaded else "promptlink-base.tar.gz"

    async def load_model(self, path: str, previous: str | None = None) -> None:
        await self.go.wait()
        if self.fail:
            raise AssistantUnavailable("rasa", "PUT /model HTTP 500")
        self.loaded.append(path)


def _runner(sessions: async_sessionmaker[AsyncSession], tmp_path: Path, servers: Servers) -> TrainingRunner:
    config = TrainingConfig(
        project=tmp_path / "project",
        models_dir=tmp_path / "models",
        work_dir=tmp_path / "var" / "training",
        rasa_bin=tmp_path / "rasa",
        cache_dir=tmp_path / "cache",
        var_dir=tmp_path / "var",
        lease_idle_seconds=2.0,
    )
    return TrainingRunner(sessions=sessions, config=config, rasa=servers)


@pytest_asyncio.fixture
async def two_backends(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[tuple[TrainingRunner, TrainingRunner, Servers, list[int]]]:
    """Two backends sharing the database and the Rasa servers; two ready models on disk, the first active."""
    servers = Servers()
    ids = []
    async with transaction(sessions) as session:
        for k, status in enumerate(("active", "ready", "ready")):
            path = tmp_path / "models" / "candidates" / f"promptlink-{k}.tar.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"model")
            version = ModelVersion(fingerprint=str(k), path=str(path), status=status, metrics=None)
            session.add(version)
            await session.flush()
            ids.append(version.id)
    first, second = _runner(sessions, tmp_path, servers), _runner(sessions, tmp_path, servers)
    yield first, second, servers, ids
    servers.go.set()
    for runner in (first, second):
        await runner.stop()


async def _settled(runner: TrainingRunner) -> None:
    task = runner.activator.task
    assert task is not None
    await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), timeout=10)


async def test_every_backend_sees_the_activation_and_a_second_one_waits(two_backends, sessions) -> None:
    first, second, servers, ids = two_backends
    assert await second.activation_json() is None

    started = await first.activate(version_id=ids[1], force=False, actor="admin@promptlink.example", now=NOW)
    assert started["state"] == "running"
    # The other backend (another process behind HAProxy) answers the same.
    assert await second.activation_json() == {
        "version_id": ids[1],
        "state": "running",
        "load_seconds": None,
        "message": "",
    }
    # A second activation, on either backend, waits for this one to end.
    for runner in (second, first):
        with pytest.raises(Busy) as refused:
            await runner.activate(version_id=ids[2], force=True, actor="admin@promptlink.example", now=NOW)
        assert refused.value.status == 409 and "activando" in refused.value.public

    servers.go.set()
    await _settled(first)
    state = await second.activation_json()
    assert state is not None
    assert state["state"] == "done" and state["message"] == f"Modelo #{ids[1]} activo." and state["load_seconds"] >= 0
    assert servers.loaded == [str(Path(first.config.models_dir) / "candidates" / "promptlink-1.tar.gz")]
    assert read_active_pointer(first.config.models_dir) == Path(servers.loaded[0])
    async with sessions() as session:
        statuses = {v.id: v.status for v in await session.scalars(select(ModelVersion))}
        audit = [a.action for a in await session.scalars(select(AuditLog))]
    assert statuses == {ids[0]: "ready", ids[1]: "active", ids[2]: "ready"}
    assert audit.count("model.activate") == 1

    # Once it ended, the other backend may activate (a rollback here).
    await second.activate(version_id=ids[0], force=True, actor="admin@promptlink.example", now=NOW)
    await _settled(second)
    assert (await first.activation_json() or {})["state"] == "done"
    assert servers.loaded[-1].endswith("promptlink-0.tar.gz")


async def test_a_failed_load_is_reported_to_every_backend_and_frees_the_next(two_backends) -> None:
    first, second, servers, ids = two_backends
    servers.fail = True
    servers.go.set()
    await first.activate(version_id=ids[1], force=False, actor="admin@promptlink.example", now=NOW)
    await _settled(first)
    state = await second.activation_json()
    assert state is not None and state["state"] == "failed" and "sigue el anterior" in state["message"]
    servers.fail = False
    await second.activate(version_id=ids[1], force=False, actor="admin@promptlink.example", now=NOW)
    await _settled(second)
    assert (await first.activation_json() or {})["state"] == "done"


async def test_a_backend_starting_up_leaves_another_ones_runs_alone_and_fails_orphans(two_backends, sessions) -> None:
    first, second, servers, ids = two_backends
    # A training running on the first backend (it holds the training lease) and an activation in progress.
    async with transaction(sessions) as session:
        training = ModelVersion(fingerprint="t", path="pending:1", status="training")
        session.add(training)
        await session.flush()
        training_id = training.id
    assert await first.lease.try_acquire()
    await first.activate(version_id=ids[1], force=False, actor="admin@promptlink.example", now=NOW)

    # The second backend restarts meanwhile (a rolling restart): nothing of the first's is touched,
    # and it refuses a training of its own.
    await second.recover()
    async with sessions() as session:
        assert (await session.get(ModelVersion, training_id)).status == "training"  # type: ignore[union-attr]
    assert (await second.activation_json() or {})["state"] == "running"
    with pytest.raises(Busy):
        await second.start(recipe="quick", actor="admin@promptlink.example", now=NOW)

    # The first backend dies (SIGKILL): its leases go with it, its load never finishes.
    await first.activator.lease.release()
    await first.lease.release()
    async with sessions() as session:
        running = await session.scalar(select(ModelActivation).where(ModelActivation.state == "running"))
    assert running is not None  # the load never finished: its row still says running

    await second.recover()
    async with sessions() as session:
        version = await session.get(ModelVersion, training_id)
        assert version is not None and version.status == "failed" and "reinició" in version.error
    state = await second.activation_json()
    assert state is not None and state["state"] == "failed" and "reinició" in state["message"]


async def test_a_refused_try_leaves_no_connection_to_go_stale(two_backends) -> None:
    """A backend refused the lease must not keep the connection that asked: PostgreSQL ends it once
    idle (the lease's idle timeout, 2 s here) and the next request failed with a 500 (bench/cluster.py)."""
    first, second, servers, ids = two_backends
    assert await take_once(first.activator.lease)
    assert not await take_once(second.activator.lease)
    assert second.activator.lease._conn is None
    await asyncio.sleep(second.config.lease_idle_seconds + 1)
    await first.activator.lease.release()
    servers.go.set()
    await second.activate(version_id=ids[1], force=False, actor="admin@promptlink.example", now=NOW)
    await _settled(second)
    assert (await first.activation_json() or {})["state"] == "done"


async def test_a_backend_stopping_during_the_load_says_the_activation_was_interrupted(two_backends) -> None:
    first, second, servers, ids = two_backends
    await first.activate(version_id=ids[1], force=False, actor="admin@promptlink.example", now=NOW)
    await asyncio.sleep(0.2)  # the load has begun (it waits on the Rasa servers)
    await first.stop()  # shutdown: the load's task is cancelled
    state = await second.activation_json()
    assert state is not None and state["state"] == "failed" and "interrumpió" in state["message"]
    assert not first.activator.lease.held
    servers.go.set()
    await second.activate(version_id=ids[1], force=False, actor="admin@promptlink.example", now=NOW)
    await _settled(second)
    assert (await second.activation_json() or {})["state"] == "done"


async def test_an_activation_whose_backend_was_killed_is_reported_failed_without_a_restart(two_backends) -> None:
    """SIGKILL leaves no shutdown to record the end: the row said "running" until some backend restarted.
    Now the first backend asked, seeing the lease free, marks it failed; while the lease is held it stays."""
    first, second, servers, ids = two_backends
    await first.activate(version_id=ids[1], force=False, actor="admin@promptlink.example", now=NOW)
    await asyncio.sleep(0.2)  # the load has begun (it waits on the Rasa servers)
    assert (await second.activation_json() or {})["state"] == "running"  # alive: its lease is held
    # The first backend dies: its task never runs again and its lease goes with its connection.
    task = first.activator.task
    assert task is not None
    task.cancel()  # stands for the kill; the row is left as it was (no shutdown path in a SIGKILL)
    await asyncio.gather(task, return_exceptions=True)
    await _reset_running(second, first)
    state = await second.activation_json()
    assert state is not None and state["state"] == "failed" and "interrumpió" in state["message"]
    servers.go.set()
    await second.activate(version_id=ids[1], force=False, actor="admin@promptlink.example", now=NOW)
    await _settled(second)
    assert (await first.activation_json() or {})["state"] == "done"


async def _reset_running(second: TrainingRunner, first: TrainingRunner) -> None:
    """Undo what the cancelled task's shutdown path wrote, so the row is what a SIGKILL leaves: "running"."""
    assert not first.activator.lease.held
    async with transaction(second.sessions) as session:
        row = await session.scalar(select(ModelActivation).order_by(ModelActivation.id.desc()).limit(1))
        assert row is not None
        row.state, row.message, row.finished_at = "running", "", None
