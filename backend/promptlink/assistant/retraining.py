"""Retrain the assistant from reviewed examples, evaluate it, hot-load it into Rasa.

One training at a time runs in the background: a workspace under `var/training/<id>/`
(a copy of the bot's `data/` with every labelled example, the domain plus any new
intents, the recipe's config), `rasa train` from the bot environment with its progress
parsed from the output, then `rasa test nlu` on the held-out set for the candidate (and
for the active model when it has no stored metrics). Activation asks the running Rasa
server to load the model (`PUT /model`) and records an `active` pointer file that the
supervisor starts Rasa with after a restart.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import shutil
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.assistant.client import AssistantUnavailable, ModelsMixed
from promptlink.infra.db import transaction
from promptlink.models import ModelVersion
from promptlink.models.base import utcnow
from promptlink.services import review
from promptlink.services.audit import record
from promptlink.services.errors import DomainError, InvalidInput, NotFound
from promptlink.services.nlu_files import HELDOUT, REVIEWED_NAME, read_vocabulary, render_reviewed, write_atomically

log = logging.getLogger(__name__)

ACTIVE_POINTER = "active"
RUNNING = ("training", "evaluating")
# Recipes: `full` is config.yml as is; `quick` trains DIET for fewer epochs (everything else
# as config.yml, so Rasa's cache keeps the unchanged dialogue policies) — for tests and trials.
RECIPES = {"full": None, "quick": 20}
RECIPE_NAMES = {"full": "completa (config.yml)", "quick": "rápida (DIET 20 épocas)"}
NOT_WORSE_MARGIN = 0.01  # macro-F1 the candidate may lose and still count as «no peor»
LOG_TAIL_CHARS = 4000
EPOCHS = re.compile(r"Epochs:\s+(\d+)%")
COMPONENT = re.compile(r"Starting to train component '([A-Za-z]+)'")


class Busy(DomainError):
    status = 409


class AssistantFailed(DomainError):
    status = 502


def read_active_pointer(models_dir: Path) -> Path | None:
    """The model the administrators activated last, when its file still exists."""
    pointer = models_dir / ACTIVE_POINTER
    if not pointer.is_file():
        return None
    target = Path(pointer.read_text(encoding="utf-8").strip())
    return target if target.is_file() else None


def write_active_pointer(models_dir: Path, model: Path) -> None:
    write_atomically(models_dir / ACTIVE_POINTER, f"{model.resolve()}\n")


def fingerprint(workspace: Path) -> str:
    digest = hashlib.sha256()
    for name in ("data", "domain", "config.yml"):
        root = workspace / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            digest.update(str(path.relative_to(workspace)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def quick_config(config_text: str, epochs: int) -> str:
    config = yaml.safe_load(config_text)
    for component in config.get("pipeline", []):
        if component.get("name") == "DIETClassifier":
            component["epochs"] = epochs
    return str(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


def build_workspace(
    *, project: Path, workspace: Path, pairs: list[tuple[str, str]], new_intents: list[str], recipe: str
) -> None:
    """Training inputs of one run: the project's data, every labelled example, new intents, the recipe."""
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    shutil.copytree(project / "data", workspace / "data")
    write_atomically(workspace / "data" / "nlu" / REVIEWED_NAME, render_reviewed(pairs))
    (workspace / "domain").mkdir()
    shutil.copy(project / "domain.yml", workspace / "domain" / "domain.yml")
    if new_intents:
        # Rasa merges every file of a domain directory: the project's domain.yml stays untouched.
        write_atomically(
            workspace / "domain" / "reviewed_intents.yml",
            'version: "3.1"\nintents:\n' + "".join(f"  - {name}\n" for name in new_intents),
        )
    config = (project / "config.yml").read_text(encoding="utf-8")
    epochs = RECIPES[recipe]
    (workspace / "config.yml").write_text(config if epochs is None else quick_config(config, epochs), "utf-8")


def summarise_evaluation(report: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-intent F1/support and the confusions (true, predicted, count)."""
    per_intent = {
        name: {"f1": round(float(v["f1-score"]), 4), "support": int(v["support"])}
        for name, v in report.items()
        if isinstance(v, dict) and "f1-score" in v and name not in ("macro avg", "weighted avg", "micro avg")
    }
    pairs = Counter(
        (str(e.get("intent")), str((e.get("intent_prediction") or {}).get("name")))
        for e in errors
        if isinstance(e, dict)
    )
    return {
        "accuracy": round(float(report.get("accuracy", report.get("micro avg", {}).get("f1-score", 0.0))), 4),
        "macro_f1": round(float(report["macro avg"]["f1-score"]), 4),
        "per_intent": per_intent,
        "confusion": [[t, p, n] for (t, p), n in pairs.most_common(40)],
    }


def read_evaluation(out: Path) -> dict[str, Any]:
    """The summary of the reports `rasa test nlu` wrote to `out`."""
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    errors_path = out / "intent_errors.json"
    errors = json.loads(errors_path.read_text(encoding="utf-8")) if errors_path.exists() else []
    return summarise_evaluation(report, errors)


def compare(candidate: dict[str, Any] | None, active: dict[str, Any] | None) -> dict[str, Any]:
    if not candidate or not active:
        return {"verdict": "unknown", "delta_macro_f1": None}
    delta = round(candidate["macro_f1"] - active["macro_f1"], 4)
    return {"verdict": "not_worse" if delta >= -NOT_WORSE_MARGIN else "worse", "delta_macro_f1": delta}


def version_json(v: ModelVersion, *, active_metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": v.id,
        "fingerprint": v.fingerprint,
        "file": Path(v.path).name,
        "status": v.status,
        "recipe": v.recipe,
        "recipe_name": RECIPE_NAMES.get(v.recipe, v.recipe),
        "examples_added": v.examples_added,
        "progress": v.progress,
        "stage": v.stage,
        "error": v.error,
        "log_tail": v.log_tail[-1500:],
        "metrics": v.metrics,
        "comparison": compare(v.metrics, active_metrics) if v.status != "active" else None,
        "train_seconds": v.train_seconds,
        "eval_seconds": v.eval_seconds,
        "trained_by": v.trained_by,
        "created_at": v.created_at.isoformat(),
        "finished_at": v.finished_at.isoformat() if v.finished_at else None,
        "activated_at": v.activated_at.isoformat() if v.activated_at else None,
        "activated_by": v.activated_by,
    }


async def list_versions(*, session: AsyncSession) -> list[ModelVersion]:
    return list(await session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())))


async def active_version(*, session: AsyncSession) -> ModelVersion | None:
    version: ModelVersion | None = await session.scalar(select(ModelVersion).where(ModelVersion.status == "active"))
    return version


async def get_version(*, session: AsyncSession, version_id: int) -> ModelVersion:
    version = await session.get(ModelVersion, version_id)
    if version is None:
        raise NotFound(f"model version {version_id} not found", public="El modelo no existe.")
    return version


async def register_loaded(*, session: AsyncSession, model: Path, now: datetime) -> ModelVersion:
    """The model Rasa runs now, as a version (the one `make setup` trained has no row yet)."""
    version = await session.scalar(select(ModelVersion).where(ModelVersion.path == str(model)))
    if version is None:
        version = ModelVersion(
            fingerprint=model.name.removeprefix("promptlink-").removesuffix(".tar.gz")[:64],
            path=str(model),
            status="active",
            recipe="full",
            trained_by="instalación (make setup)",
            created_at=now,
            finished_at=now,
            activated_at=now,
            activated_by="instalación (make setup)",
        )
        session.add(version)
    elif version.status != "active":
        for other in await session.scalars(select(ModelVersion).where(ModelVersion.status == "active")):
            other.status = "ready"
        version.status = "active"
    await session.flush()
    return version


class TrainingOutput:
    """Progress of `rasa train` from its output: component starts and the DIET/TED epoch bars.

    tqdm redraws its bar with a carriage return and no newline, so the unfinished last
    line is parsed too (for progress, not for the log tail).
    """

    def __init__(self) -> None:
        self.tail = ""
        self.progress = 2
        self.stage = "Entrenando"
        self.component = ""
        self._buffer = b""

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        parts = re.split(rb"[\r\n]", self._buffer)
        self._buffer = parts.pop()
        for raw in parts:
            line = raw.decode(errors="replace").strip()
            if line:
                self.tail = (self.tail + line + "\n")[-LOG_TAIL_CHARS:]
                self._line(line)
        self._line(self._buffer.decode(errors="replace"))

    def _line(self, line: str) -> None:
        if found := COMPONENT.search(line):
            self.component = found.group(1)
            self.stage = f"Entrenando {self.component}"
            self.progress = max(self.progress, 70 if "TED" in self.component else 10)
        elif (epochs := EPOCHS.search(line)) and self.component:
            share = int(epochs.group(1))
            base, span = (70, 14) if "TED" in self.component else (10, 58)
            self.progress = min(84, max(self.progress, base + span * share // 100))
            self.stage = f"Entrenando {self.component}: {share} % de las épocas"


@dataclass
class TrainingConfig:
    project: Path  # data/, domain.yml, config.yml, tests/nlu_heldout.yml
    models_dir: Path
    work_dir: Path
    rasa_bin: Path
    cache_dir: Path


class Rasa:
    """What retraining needs of the running Rasa server (RasaClient implements it)."""

    loaded_model: Callable[[], Awaitable[str]]
    load_model: Callable[[str, str | None], Awaitable[None]]


class TrainingRunner:
    """Runs one training job at a time in the background and records its progress."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], config: TrainingConfig, rasa: Any) -> None:
        self.sessions = sessions
        self.config = config
        self.rasa = rasa
        self.task: asyncio.Task[None] | None = None
        self.activating: asyncio.Task[None] | None = None
        self.activation: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    async def stop(self) -> None:
        """Backend shutdown: end a running job (its subprocess is killed with the task)."""
        for task in (self.task, self.activating):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def recover(self) -> None:
        """A backend restart ends any run it was doing: mark those failed."""
        async with transaction(self.sessions) as session:
            for v in await session.scalars(select(ModelVersion).where(ModelVersion.status.in_(RUNNING))):
                v.status, v.error = "failed", "El servidor se reinició durante el entrenamiento."

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

    async def start(self, *, recipe: Any, actor: str, now: datetime) -> ModelVersion:
        if recipe not in RECIPES:
            raise InvalidInput("recipe must be full or quick", public="La receta debe ser «full» o «quick».")
        async with self._lock:
            if self.task is not None and not self.task.done():
                raise Busy("a training is running", public="Ya hay un entrenamiento en curso; espere a que termine.")
            current = await self.current_model()
            async with transaction(self.sessions) as session:
                if await session.scalar(select(ModelVersion).where(ModelVersion.status.in_(RUNNING))):
                    raise Busy(
                        "a training is running", public="Ya hay un entrenamiento en curso; espere a que termine."
                    )
                baseline = await register_loaded(session=session, model=current, now=now)
                vocabulary = read_vocabulary(self.config.project)
                pairs = review.training_pairs(
                    await review.labelled_examples(session=session), vocabulary, new_intents=True
                )
                version = ModelVersion(
                    fingerprint="",
                    path=f"pending:{now.timestamp()}",
                    status="training",
                    recipe=recipe,
                    examples_added=len(pairs),
                    stage="Preparando los datos",
                    trained_by=actor,
                    created_at=now,
                )
                session.add(version)
                await session.flush()
                record(
                    session=session,
                    actor=actor,
                    action="model.train",
                    target=f"model:{version.id}",
                    detail={"recipe": recipe, "examples": len(pairs)},
                    now=now,
                )
                job = (version.id, baseline.id, baseline.metrics is None, pairs, review.new_intents(pairs, vocabulary))
            self.task = asyncio.create_task(self._run(*job))
            return version

    async def _update(self, version_id: int, **fields: Any) -> None:
        async with transaction(self.sessions) as session:
            version = await session.get(ModelVersion, version_id)
            assert version is not None
            for key, value in fields.items():
                setattr(version, key, value)

    async def _run(
        self, version_id: int, baseline_id: int, evaluate_baseline: bool, pairs: list[tuple[str, str]], new: list[str]
    ) -> None:
        workspace = self.config.work_dir / str(version_id)
        baseline_eval: asyncio.Task[dict[str, Any] | None] | None = None
        try:
            recipe = await self._recipe(version_id)
            await asyncio.to_thread(
                build_workspace,
                project=self.config.project,
                workspace=workspace,
                pairs=pairs,
                new_intents=new,
                recipe=recipe,
            )
            fp = fingerprint(workspace)
            out = self.config.models_dir / "candidates"
            model = out / f"promptlink-{fp}-v{version_id}.tar.gz"
            await self._update(version_id, fingerprint=fp, path=str(model), stage="Entrenando", progress=2)
            if evaluate_baseline:
                baseline_eval = asyncio.create_task(self._evaluate_baseline(baseline_id, workspace))
            started = time.monotonic()
            await self._train(version_id, workspace, out, model)
            train_seconds = round(time.monotonic() - started, 1)
            await self._update(
                version_id,
                status="evaluating",
                stage="Evaluando con el conjunto reservado",
                progress=85,
                train_seconds=train_seconds,
            )
            started = time.monotonic()
            metrics = await self.evaluate(model, workspace / "eval-candidate")
            eval_seconds = round(time.monotonic() - started, 1)
            if baseline_eval is not None:
                await self._update(version_id, stage="Evaluando el modelo activo", progress=95)
                await baseline_eval
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

    async def _recipe(self, version_id: int) -> str:
        async with self.sessions() as session:
            version = await session.get(ModelVersion, version_id)
            assert version is not None
            return version.recipe

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
        import os

        return dict(
            os.environ,
            RASA_TELEMETRY_ENABLED="false",
            RASA_CACHE_DIRECTORY=str(self.config.cache_dir),
            PYTHONWARNINGS="ignore",
            TF_CPP_MIN_LOG_LEVEL="2",
        )

    async def _train(self, version_id: int, workspace: Path, out: Path, model: Path) -> None:
        await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
        argv = [
            str(self.config.rasa_bin),
            "train",
            "--data",
            "data",
            "--domain",
            "domain",
            "--config",
            "config.yml",
            "--out",
            str(out),
            "--fixed-model-name",
            model.name.removesuffix(".tar.gz"),
        ]
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=workspace, env=self._env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            await self._follow(version_id, process, model)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    async def _follow(self, version_id: int, process: asyncio.subprocess.Process, model: Path) -> None:
        assert process.stdout is not None
        parser = TrainingOutput()
        last_push, pending = 0.0, False
        while True:
            try:
                chunk: bytes | None = await asyncio.wait_for(process.stdout.read(4096), timeout=1.0)
            except TimeoutError:
                chunk = None
            if chunk == b"":
                break
            if chunk:
                parser.feed(chunk)
                pending = True
            if pending and time.monotonic() - last_push >= 1.0:
                last_push, pending = time.monotonic(), False
                await self._update(version_id, progress=parser.progress, stage=parser.stage, log_tail=parser.tail)
        tail = parser.tail
        code = await process.wait()
        await self._update(version_id, log_tail=tail)
        if code != 0 or not await asyncio.to_thread(model.is_file):
            raise RuntimeError(f"rasa train exited with {code}")

    async def evaluate(self, model: Path, out: Path) -> dict[str, Any]:
        """`rasa test nlu` of `model` on the held-out set; the summary of its reports."""
        process = await asyncio.create_subprocess_exec(
            str(self.config.rasa_bin),
            "test",
            "nlu",
            "--nlu",
            str(self.config.project / HELDOUT),
            "--model",
            str(model),
            "--out",
            str(out),
            "--quiet",
            cwd=self.config.project,
            env=self._env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        if process.returncode != 0:
            raise RuntimeError(
                f"rasa test nlu exited with {process.returncode}: {output.decode(errors='replace')[-500:]}"
            )
        return await asyncio.to_thread(read_evaluation, out)

    def activation_json(self) -> dict[str, Any] | None:
        return None if self.activation is None else dict(self.activation)

    async def activate(self, *, version_id: int, force: Any, actor: str, now: datetime) -> dict[str, Any]:
        """Start hot-loading `version_id` into Rasa (in the background: loading takes longer than a
        request may); the previous active model stays available for rollback."""
        async with self._lock:
            if self.activation is not None and self.activation["state"] == "running":
                raise Busy("an activation is running", public="Ya se está activando un modelo; espere a que termine.")
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
            path = Path(version.path)
            if not await asyncio.to_thread(path.is_file):
                raise NotFound(f"model file {path} missing", public="El archivo del modelo ya no existe.")
            self.activation = {"version_id": version_id, "state": "running", "load_seconds": None, "message": ""}
            detail = {"file": path.name, "previous": active.id if active else None, "forced": verdict == "worse"}
            previous = active.path if active is not None else None
            self.activating = asyncio.create_task(self._activate(version_id, path, previous, actor, now, detail))
            return dict(self.activation)

    async def _activate(
        self, version_id: int, path: Path, previous: str | None, actor: str, now: datetime, detail: dict[str, Any]
    ) -> None:
        assert self.activation is not None
        started = time.monotonic()
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
            return
        except AssistantUnavailable as exc:
            log.warning("model load failed", extra={"version": version_id, "detail": exc.detail})
            self.activation.update(state="failed", message="El asistente no pudo cargar el modelo; sigue el anterior.")
            return
        seconds = round(time.monotonic() - started, 2)
        try:
            await asyncio.to_thread(write_active_pointer, self.config.models_dir, path)
            async with transaction(self.sessions) as session:
                for other in await session.scalars(select(ModelVersion).where(ModelVersion.status == "active")):
                    other.status = "ready"
                version = await get_version(session=session, version_id=version_id)
                # The model serves from now on: the request time plus the load time.
                done = now + timedelta(seconds=seconds)
                version.status, version.activated_at, version.activated_by = "active", done, actor
                record(
                    session=session,
                    actor=actor,
                    action="model.activate",
                    target=f"model:{version_id}",
                    detail={**detail, "load_seconds": seconds},
                    now=done,
                )
        except Exception:
            log.exception("activation bookkeeping failed", extra={"version": version_id})
            self.activation.update(
                state="failed", message="El modelo se cargó, pero no se pudo registrar la activación."
            )
            raise
        log.info("model activated", extra={"version": version_id, "load_s": seconds})
        self.activation.update(state="done", load_seconds=seconds, message=f"Modelo #{version_id} activo.")
