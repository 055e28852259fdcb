"""Retrain the assistant from reviewed examples, evaluate it, hot-load it into Rasa.

One training at a time runs in the background: a workspace under `var/training/<id>/`
(`assistant.workspace`), `rasa train` from the bot environment with its progress parsed
from the output (`assistant.training`), then `rasa test nlu` on the held-out set for the
candidate (and for the active model when it has no stored metrics; `assistant.evaluation`).
Activation asks the running Rasa server to load the model (`PUT /model`) and records an
`active` pointer file that the supervisor starts Rasa with after a restart. The rows of the
versions are `services.model_versions`.

Cluster-wide, the backend running a training holds the lease `model-training` until it ends (an
activation, `model-activation`): a second request on any backend gets 409, and a backend starting
up marks runs failed only when nobody holds their lease (their process died), not while another
backend is still running them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.assistant import evaluation, training
from promptlink.assistant.activation import Activator, Busy, take_once, under_lease
from promptlink.assistant.client import AssistantUnavailable
from promptlink.assistant.workspace import RECIPES, build_workspace, fingerprint, read_active_pointer
from promptlink.infra.db import transaction
from promptlink.infra.lease import Lease
from promptlink.models import ModelVersion
from promptlink.models.base import utcnow
from promptlink.services import review
from promptlink.services.errors import DomainError, InvalidInput
from promptlink.services.model_versions import register_loaded, start_version, update_version
from promptlink.services.nlu_files import read_vocabulary

log = logging.getLogger(__name__)

RUNNING = ("training", "evaluating")
TRAINING_RUNS = "Ya hay un entrenamiento en curso; espere a que termine."


PROJECT_INPUTS = ("data", "domain.yml", "config.yml")  # bot/model.py's INPUTS


def _written(path: Path) -> datetime | None:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC) if path.is_file() else None


class AssistantFailed(DomainError):
    status = 502


@dataclass
class TrainingConfig:
    project: Path  # data/, domain.yml, config.yml, tests/nlu_heldout.yml
    models_dir: Path
    work_dir: Path
    rasa_bin: Path
    cache_dir: Path
    var_dir: Path  # the leases' lock files on SQLite (`infra.lease`)
    lease_idle_seconds: float = 10.0  # PostgreSQL ends a lease's session idle this long


class Rasa:
    """What retraining needs of the running Rasa server (RasaClient implements it)."""

    loaded_model: Callable[[], Awaitable[str]]
    load_model: Callable[[str, str | None], Awaitable[None]]


@dataclass(frozen=True)
class Job:
    """One training run: its version, the recipe, the examples, the model it is compared with."""

    version_id: int
    recipe: str
    baseline_id: int
    evaluate_baseline: bool  # the active model has no held-out metrics yet
    pairs: list[tuple[str, str]]
    new_intents: list[str]


class TrainingRunner:
    """Runs one training job at a time in the background and records its progress."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], config: TrainingConfig, rasa: Any) -> None:
        self.sessions = sessions
        self.config = config
        self.rasa = rasa
        self.task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one training or activation starts at a time in this process
        self.lease = self._lease("model-training")
        self.activator = Activator(
            sessions=sessions,
            models_dir=config.models_dir,
            rasa=rasa,
            lock=self._lock,
            lease=self._lease("model-activation"),
        )

    def _lease(self, name: str) -> Lease:
        return Lease(
            name, sessions=self.sessions, var_dir=self.config.var_dir, idle_timeout=self.config.lease_idle_seconds
        )

    async def stop(self) -> None:
        """Backend shutdown: end a running job (its subprocess is killed with the task)."""
        for task in (self.task, self.activator.task):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        for lease in (self.lease, self.activator.lease):
            await lease.close()

    async def recover(self) -> None:
        """A backend restart ends any run it was doing: mark those failed — unless another backend of
        the cluster holds the run's lease, i.e. is still doing it."""
        if await take_once(self.lease):
            try:
                async with transaction(self.sessions) as session:
                    for v in await session.scalars(select(ModelVersion).where(ModelVersion.status.in_(RUNNING))):
                        v.status, v.error = "failed", "El servidor se reinició durante el entrenamiento."
            finally:
                await self.lease.release()
        await self.activator.fail_orphans("El servidor se reinició durante la activación; sigue el modelo anterior.")

    async def current_model(self) -> Path:
        """Path of the model Rasa has loaded (by name, in the models folders)."""
        try:
            name = Path(await self.rasa.loaded_model()).name
        except AssistantUnavailable as exc:
            raise AssistantFailed(
                f"rasa status: {exc.detail}", public="El asistente (Rasa) no responde; inténtelo en unos minutos."
            ) from exc
        if not name.endswith(".tar.gz"):
            name += ".tar.gz"
        for folder in (self.config.models_dir, self.config.models_dir / "candidates", self.config.project / "models"):
            if (folder / name).is_file():
                return (folder / name).resolve()
        raise InvalidInput(
            f"loaded model {name} not found on disk", public="No se encuentra el modelo activo en disco."
        )

    async def running_model(self) -> tuple[Path, bool, datetime | None]:
        """The model the assistant runs and True (Rasa said so); when Rasa does not answer, the one it
        starts with (the administrators' last activation, else the current data's: bot/model.py) and False;
        and when its file was written (None: no such file)."""
        try:
            model, answered = await self.current_model(), True
        except (AssistantFailed, InvalidInput):
            model, answered = await asyncio.to_thread(self._startup_model), False
        return model, answered, await asyncio.to_thread(_written, model)

    def _startup_model(self) -> Path:
        project = self.config.project
        return read_active_pointer(self.config.models_dir) or (
            project / "models" / f"promptlink-{fingerprint(project, PROJECT_INPUTS)}.tar.gz"
        )

    # --- Training -----------------------------------------------------------------------

    async def start(self, *, recipe: Any, actor: str, now: datetime) -> ModelVersion:
        if recipe not in RECIPES:
            raise InvalidInput("recipe must be full or quick", public="La receta debe ser «full» o «quick».")
        async with self._lock:
            if (self.task is not None and not self.task.done()) or self.lease.held:
                raise Busy("a training is running", public=TRAINING_RUNS)
            if not await take_once(self.lease):  # another backend of the cluster trains
                raise Busy("a training is running on another backend", public=TRAINING_RUNS)
            try:
                current = await self.current_model()
                async with transaction(self.sessions) as session:
                    version, job = await self._new_job(session, recipe, current, actor, now)
            except BaseException:
                await self.lease.release()
                raise
            self.task = asyncio.create_task(under_lease(self.lease, partial(self._run, job)), name="model-training")
            return version

    async def _new_job(
        self, session: AsyncSession, recipe: str, current: Path, actor: str, now: datetime
    ) -> tuple[ModelVersion, Job]:
        if await session.scalar(select(ModelVersion).where(ModelVersion.status.in_(RUNNING))):
            raise Busy("a training is running", public=TRAINING_RUNS)
        baseline = await register_loaded(session=session, model=current, now=now)
        vocabulary = read_vocabulary(self.config.project)
        pairs = review.training_pairs(await review.labelled_examples(session=session), vocabulary, new_intents=True)
        version = await start_version(session=session, recipe=recipe, examples=len(pairs), actor=actor, now=now)
        new = review.new_intents(pairs, vocabulary)
        return version, Job(version.id, recipe, baseline.id, baseline.metrics is None, pairs, new)

    async def _update(self, version_id: int, **fields: Any) -> None:
        async with transaction(self.sessions) as session:
            await update_version(session=session, version_id=version_id, **fields)

    async def _run(self, job: Job) -> None:
        version_id = job.version_id
        baseline_eval: asyncio.Task[dict[str, Any] | None] | None = None
        try:
            workspace, model = await self._workspace(job)
            if job.evaluate_baseline:
                baseline_eval = asyncio.create_task(self._evaluate_baseline(job.baseline_id, workspace))
            train_seconds = await self._train(version_id, workspace, model)
            metrics, eval_seconds = await self._evaluate_candidate(version_id, workspace, model, baseline_eval)
            await self._update(
                version_id,
                status="ready",
                stage="Listo para activar",
                progress=100,
                metrics=metrics,
                eval_seconds=eval_seconds,
                finished_at=utcnow(),
            )
            log.info("model trained", extra={"version": version_id, "train_s": train_seconds, "eval_s": eval_seconds})
        except Exception as exc:  # noqa: BLE001 - any failure ends the run with a visible reason
            log.exception("training failed", extra={"version": version_id})
            if baseline_eval is not None and not baseline_eval.done():
                baseline_eval.cancel()
            await self._update(
                version_id,
                status="failed",
                stage="Falló",
                error=f"{type(exc).__name__}: {exc}"[:2000],
                finished_at=utcnow(),
            )

    async def _workspace(self, job: Job) -> tuple[Path, Path]:
        """The run's workspace, built; the path its model will have (named by its fingerprint)."""
        workspace = self.config.work_dir / str(job.version_id)
        await asyncio.to_thread(
            build_workspace,
            project=self.config.project,
            workspace=workspace,
            pairs=job.pairs,
            new_intents=job.new_intents,
            recipe=job.recipe,
        )
        fp = fingerprint(workspace)
        model = self.config.models_dir / "candidates" / f"promptlink-{fp}-v{job.version_id}.tar.gz"
        await self._update(job.version_id, fingerprint=fp, path=str(model), stage="Entrenando", progress=2)
        return workspace, model

    async def _train(self, version_id: int, workspace: Path, model: Path) -> float:
        """`rasa train`, its progress in the version; the seconds it took."""
        started = time.monotonic()
        await training.train(
            rasa_bin=self.config.rasa_bin,
            workspace=workspace,
            out=model.parent,
            model=model,
            env=self._env(),
            report=partial(self._update, version_id),
        )
        train_seconds = round(time.monotonic() - started, 1)
        await self._update(
            version_id,
            status="evaluating",
            stage="Evaluando con el conjunto reservado",
            progress=85,
            train_seconds=train_seconds,
        )
        return train_seconds

    async def _evaluate_candidate(
        self, version_id: int, workspace: Path, model: Path, baseline_eval: asyncio.Task[Any] | None
    ) -> tuple[dict[str, Any], float]:
        """The candidate's held-out metrics and the seconds they took (after the active model's, if run)."""
        started = time.monotonic()
        metrics = await self.evaluate(model, workspace / "eval-candidate")
        eval_seconds = round(time.monotonic() - started, 1)
        if baseline_eval is not None:
            await self._update(version_id, stage="Evaluando el modelo activo", progress=95)
            await baseline_eval
        return metrics, eval_seconds

    async def _evaluate_baseline(self, baseline_id: int, workspace: Path) -> dict[str, Any] | None:
        async with self.sessions() as session:
            baseline = await session.get(ModelVersion, baseline_id)
            assert baseline is not None
            path = Path(baseline.path)
        started = time.monotonic()
        metrics = await self.evaluate(path, workspace / "eval-active")
        await self._update(baseline_id, metrics=metrics, eval_seconds=round(time.monotonic() - started, 1))
        return metrics

    def _env(self) -> dict[str, str]:
        return training.rasa_env(self.config.cache_dir)

    async def evaluate(self, model: Path, out: Path) -> dict[str, Any]:
        """`rasa test nlu` of `model` on the held-out set; the summary of its reports."""
        return await evaluation.evaluate(
            rasa_bin=self.config.rasa_bin, project=self.config.project, model=model, out=out, env=self._env()
        )

    # --- Activation (`assistant.activation`) ----------------------------------------------

    async def activation_json(self) -> dict[str, Any] | None:
        return await self.activator.state_json()

    async def activate(self, *, version_id: int, force: Any, actor: str, now: datetime) -> dict[str, Any]:
        """Start hot-loading `version_id` into Rasa (in the background); see `Activator.activate`."""
        return await self.activator.activate(version_id=version_id, force=force, actor=actor, now=now)
