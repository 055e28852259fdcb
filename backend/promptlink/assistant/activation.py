"""Hot-loading a trained model into the running Rasa servers, in the background.

The previous active model stays available for rollback; a model that scored worse than the
active one on the held-out set needs `force`. Once loaded, the model is recorded as active
(`services.model_versions.mark_active`) and in the `active` pointer file the supervisor starts
Rasa with (`assistant.workspace`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.assistant.client import AssistantUnavailable, ModelsMixed
from promptlink.assistant.workspace import write_active_pointer
from promptlink.infra.db import transaction
from promptlink.models import ModelVersion
from promptlink.services.errors import DomainError, NotFound
from promptlink.services.model_versions import active_version, compare, get_version, mark_active

log = logging.getLogger(__name__)


class Busy(DomainError):
    """409: a training or an activation runs, or the model cannot be activated as it is."""

    status = 409


class Activator:
    """One activation at a time; `activation` is the last one's state (running, done, failed)."""

    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], models_dir: Path, rasa: Any, lock: asyncio.Lock
    ) -> None:
        self.sessions = sessions
        self.models_dir = models_dir
        self.rasa = rasa
        self.task: asyncio.Task[None] | None = None
        self.activation: dict[str, Any] | None = None
        self._lock = lock  # shared with the training runner: one start at a time

    def state_json(self) -> dict[str, Any] | None:
        return None if self.activation is None else dict(self.activation)

    async def activate(self, *, version_id: int, force: Any, actor: str, now: datetime) -> dict[str, Any]:
        """Start hot-loading `version_id` into Rasa (in the background: loading takes longer than a
        request may); the previous active model stays available for rollback."""
        async with self._lock:
            if self.activation is not None and self.activation["state"] == "running":
                raise Busy("an activation is running", public="Ya se está activando un modelo; espere a que termine.")
            version, active, verdict = await self._candidate(version_id, force)
            path = Path(version.path)
            if not await asyncio.to_thread(path.is_file):
                raise NotFound(f"model file {path} missing", public="El archivo del modelo ya no existe.")
            self.activation = {"version_id": version_id, "state": "running", "load_seconds": None, "message": ""}
            detail = {"file": path.name, "previous": active.id if active else None, "forced": verdict == "worse"}
            previous = active.path if active is not None else None
            self.task = asyncio.create_task(self._activate(version_id, path, previous, actor, now, detail))
            return dict(self.activation)

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
        self, version_id: int, path: Path, previous: str | None, actor: str, now: datetime, detail: dict[str, Any]
    ) -> None:
        assert self.activation is not None
        started = time.monotonic()
        if not await self._load(version_id, path, previous):
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
        except Exception:
            log.exception("activation bookkeeping failed", extra={"version": version_id})
            self.activation.update(
                state="failed", message="El modelo se cargó, pero no se pudo registrar la activación."
            )
            raise
        log.info("model activated", extra={"version": version_id, "load_s": seconds})
        self.activation.update(state="done", load_seconds=seconds, message=f"Modelo #{version_id} activo.")

    async def _load(self, version_id: int, path: Path, previous: str | None) -> bool:
        """Rasa loads `path`; False (the activation failed, with the reason) when it could not."""
        assert self.activation is not None
        try:
            # A server failing part-way puts the servers already switched back on `previous`.
            await self.rasa.load_model(str(path), previous)
        except ModelsMixed as exc:
            log.error("model load failed part-way; servers differ", extra={"version": version_id, "detail": exc.detail})
            self.activation.update(
                state="failed",
                message=(
                    "El modelo se cargó solo en parte de los servidores del asistente y no se pudo volver al "
                    "anterior en todos: active de nuevo un modelo."
                ),
            )
            return False
        except AssistantUnavailable as exc:
            log.warning("model load failed", extra={"version": version_id, "detail": exc.detail})
            self.activation.update(state="failed", message="El asistente no pudo cargar el modelo; sigue el anterior.")
            return False
        return True
