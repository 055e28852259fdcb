"""Hot-loading a trained model into the running Rasa servers, in the background.

The previous active model stays available for rollback; a model that scored worse than the
active one on the held-out set needs `force`. Once loaded, the model is recorded as active
(`services.model_versions.mark_active`) and in the `active` pointer file the supervisor starts
Rasa with (`assistant.workspace`).

In a cluster every backend shares the Rasa servers: the activation's state is a row of
`model_activations` (any backend answers `GET /admin/activation` alike), and the backend running a
load holds the lease `model-activation` (a training holds `model-training`), so that one activation
runs cluster-wide at a time and a backend starting up does not mark another one's load failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.assistant.client import AssistantUnavailable, ModelsMixed
from promptlink.assistant.workspace import write_active_pointer
from promptlink.infra.db import transaction
from promptlink.infra.lease import Lease
from promptlink.models import ModelActivation, ModelVersion
from promptlink.models.base import utcnow
from promptlink.services.errors import DomainError, NotFound
from promptlink.services.model_versions import active_version, compare, get_version, mark_active

log = logging.getLogger(__name__)


ACTIVATION_RUNS = "Ya se está activando un modelo; espere a que termine."
INTERRUPTED = (
    "La activación se interrumpió porque el servidor se detuvo; compruebe el modelo en uso y actívelo de nuevo "
    "si hace falta."
)


class Busy(DomainError):
    """409: a training or an activation runs, or the model cannot be activated as it is."""

    status = 409


class Activator:
    """One activation at a time cluster-wide (under `lease`); the last one's
    state (running, done, failed) is the newest row of `model_activations`."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        models_dir: Path,
        rasa: Any,
        lock: asyncio.Lock,
        lease: Lease,
    ) -> None:
        self.sessions = sessions
        self.models_dir = models_dir
        self.rasa = rasa
        self.task: asyncio.Task[None] | None = None
        self.lease = lease
        self._lock = lock  # shared with the training runner: one start at a time in this process

    async def state_json(self) -> dict[str, Any] | None:
        """The last activation, whichever backend ran it; None when there was none.

        A `running` row whose lease nobody holds lost its backend without a shutdown (SIGKILL, a
        crash): it is marked failed here, by whichever backend is asked first, instead of staying
        "running" until some backend restarts."""
        row = await self._last()
        if row is not None and row.state == "running" and not self.lease.held and await self.fail_orphans(INTERRUPTED):
            row = await self._last()
        if row is None:
            return None
        return {
            "version_id": row.version_id,
            "state": row.state,
            "load_seconds": row.load_seconds,
            "message": row.message,
        }

    async def _last(self) -> ModelActivation | None:
        async with self.sessions() as session:
            row: ModelActivation | None = await session.scalar(
                select(ModelActivation).order_by(ModelActivation.id.desc()).limit(1)
            )
        return row

    async def fail_orphans(self, message: str) -> bool:
        """Mark `running` rows failed with `message` if the lease is free (their backend is gone: killed,
        or this one restarted); whether any was."""
        async with self._lock:
            if self.lease.held or not await take_once(self.lease):
                return False  # a live backend is loading (or this one started meanwhile)
            try:
                return await fail_orphaned(self.sessions, message) > 0
            finally:
                await self.lease.release()

    async def activate(self, *, version_id: int, force: Any, actor: str, now: datetime) -> dict[str, Any]:
        """Start hot-loading `version_id` into Rasa (in the background: loading takes longer than a
        request may); the previous active model stays available for rollback."""
        async with self._lock:
            if self.lease.held or not await take_once(self.lease):
                raise Busy("an activation is running", public=ACTIVATION_RUNS)
            try:
                version, active, verdict = await self._candidate(version_id, force)
                path = Path(version.path)
                if not await asyncio.to_thread(path.is_file):
                    raise NotFound(f"model file {path} missing", public="El archivo del modelo ya no existe.")
                async with transaction(self.sessions) as session:
                    row = ModelActivation(
                        version_id=version_id, state="running", message="", actor=actor, holder=self.lease.holder
                    )
                    session.add(row)
                    await session.flush()
                    activation_id = row.id
            except BaseException:
                await self.lease.release()
                raise
            detail = {"file": path.name, "previous": active.id if active else None, "forced": verdict == "worse"}
            previous = active.path if active is not None else None
            load = partial(self._activate, activation_id, version_id, path, previous, actor, now, detail)
            self.task = asyncio.create_task(self._run(activation_id, load), name="model-activation")
            return {"version_id": version_id, "state": "running", "load_seconds": None, "message": ""}

    async def _run(self, activation_id: int, load: Callable[[], Awaitable[None]]) -> None:
        try:
            await under_lease(self.lease, load)
        except asyncio.CancelledError:
            # The backend stops (shutdown, restart) during the load: say so instead of "running" forever.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._finish(activation_id, "failed", INTERRUPTED))
            raise

    async def _finish(self, activation_id: int, state: str, message: str, load_seconds: float | None = None) -> None:
        async with transaction(self.sessions) as session:
            await session.execute(_ended(activation_id, state, message, load_seconds))

    async def _candidate(self, version_id: int, force: Any) -> tuple[ModelVersion, ModelVersion | None, str]:
        """The version to activate, the active one and the verdict comparing them; 409 unless it may be."""
        async with self.sessions() as session:
            version = await get_version(session=session, version_id=version_id)
            active = await active_version(session=session)
        if version.status == "active":
            raise Busy("model already active", public="Ese modelo ya es el activo.")
        if version.status != "ready":
            raise Busy(f"model {version_id} is {version.status}", public="Ese modelo no está listo para activarse.")
        verdict = compare(version.metrics, active.metrics if active else None)["verdict"]
        if verdict == "worse" and force is not True:
            raise Busy(
                "candidate is worse than the active model",
                public=(
                    "El modelo nuevo es peor que el activo en el conjunto reservado; "
                    "confirme para activarlo igualmente."
                ),
            )
        return version, active, verdict

    async def _activate(
        self,
        activation_id: int,
        version_id: int,
        path: Path,
        previous: str | None,
        actor: str,
        now: datetime,
        detail: dict[str, Any],
    ) -> None:
        started = time.monotonic()
        failure = await self._load(version_id, path, previous)
        if failure is not None:
            await self._finish(activation_id, "failed", failure)
            return
        seconds = round(time.monotonic() - started, 2)
        try:
            await asyncio.to_thread(write_active_pointer, self.models_dir, path)
            async with transaction(self.sessions) as session:
                # The model serves from now on: the request time plus the load time.
                done = now + timedelta(seconds=seconds)
                await mark_active(
                    session=session,
                    version_id=version_id,
                    actor=actor,
                    at=done,
                    detail={**detail, "load_seconds": seconds},
                )
                await session.execute(_ended(activation_id, "done", f"Modelo #{version_id} activo.", seconds))
        except Exception:
            log.exception("activation bookkeeping failed", extra={"version": version_id})
            await self._finish(
                activation_id, "failed", "El modelo se cargó, pero no se pudo registrar la activación.", seconds
            )
            raise
        log.info("model activated", extra={"version": version_id, "load_s": seconds})

    async def _load(self, version_id: int, path: Path, previous: str | None) -> str | None:
        """Rasa loads `path`; the reason (for the administrator) when it could not, else None."""
        try:
            # A server failing part-way puts the servers already switched back on `previous`.
            await self.rasa.load_model(str(path), previous)
        except ModelsMixed as exc:
            log.error("model load failed part-way; servers differ", extra={"version": version_id, "detail": exc.detail})
            return (
                "El modelo se cargó solo en parte de los servidores del asistente y no se pudo volver al "
                "anterior en todos: active de nuevo un modelo."
            )
        except AssistantUnavailable as exc:
            log.warning("model load failed", extra={"version": version_id, "detail": exc.detail})
            return "El asistente no pudo cargar el modelo; sigue el anterior."
        return None


async def take_once(lease: Lease) -> bool:
    """One try at `lease`; when another process holds it, close the connection that asked (nothing
    polls it: PostgreSQL would end it as idle and the next try would fail on a dead connection)."""
    if await lease.try_acquire():
        return True
    await lease.release()
    return False


def _ended(activation_id: int, state: str, message: str, load_seconds: float | None) -> Update:
    """The statement that ends an activation's row (done or failed, with the reason)."""
    return (
        update(ModelActivation)
        .where(ModelActivation.id == activation_id)
        .values(state=state, message=message, load_seconds=load_seconds, finished_at=utcnow())
    )


async def under_lease(lease: Lease, work: Callable[[], Awaitable[None]]) -> None:
    """`work()` with `lease` (already held) kept alive meanwhile, and released at the end whatever happened."""
    keepalive = asyncio.create_task(keep_lease(lease), name=f"{lease.name}-keepalive")
    try:
        await work()
    finally:
        keepalive.cancel()
        await asyncio.gather(keepalive, return_exceptions=True)
        await lease.release()


async def keep_lease(lease: Lease) -> None:
    """Use the lease's connection often enough that the server does not end it as idle."""
    while True:
        await asyncio.sleep(max(lease.idle_timeout / 4, 0.05))
        if not await lease.check():
            log.warning("lease lost while working", extra={"lease": lease.name})
            return


async def fail_orphaned(sessions: async_sessionmaker[AsyncSession], message: str) -> int:
    """Mark `running` activations failed (a backend that died during the load left them); the
    caller holds the lease, so none of them is really running. How many were marked."""
    async with transaction(sessions) as session:
        result = await session.execute(
            update(ModelActivation)
            .where(ModelActivation.state == "running")
            .values(state="failed", message=message, finished_at=utcnow())
        )
    return int(getattr(result, "rowcount", 0) or 0)
