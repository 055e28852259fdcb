"""Trained assistant models as rows (ModelVersion): the list, the active one, the comparison.

The training itself (workspace, `rasa train`, evaluation, hot-loading) is
`assistant/runner.py`; this module is what the database knows of its results.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import ModelVersion
from promptlink.services.audit import record
from promptlink.services.errors import NotFound

RECIPE_NAMES = {"full": "completa (config.yml)", "quick": "rápida (DIET 20 épocas)"}
NOT_WORSE_MARGIN = 0.01  # macro-F1 the candidate may lose and still count as «no peor»
INSTALLED_BY = "instalación (make setup)"


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


async def running_json(
    *, session: AsyncSession, model: Path, answered: bool, written: datetime | None
) -> dict[str, Any]:
    """What the models page says of the model the assistant runs: its file, fingerprint, version and date
    (when it was activated, else when the file was `written`; None: the file is missing)."""
    version = await session.scalar(select(ModelVersion).where(ModelVersion.path == str(model)))
    when = written
    if version is not None:
        when = version.activated_at or version.finished_at or version.created_at
    return {
        "file": model.name,
        "fingerprint": version.fingerprint
        if version is not None
        else model.name.removeprefix("promptlink-").removesuffix(".tar.gz")[:64],
        "version_id": version.id if version is not None else None,
        "since": when.isoformat() if when else None,
        "answered": answered,
        "exists": written is not None,
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


async def update_version(*, session: AsyncSession, version_id: int, **fields: Any) -> None:
    version = await session.get(ModelVersion, version_id)
    assert version is not None
    for key, value in fields.items():
        setattr(version, key, value)


async def _retire_active(session: AsyncSession) -> None:
    """The active model (at most one) becomes a ready one: another takes its place."""
    for other in await session.scalars(select(ModelVersion).where(ModelVersion.status == "active")):
        other.status = "ready"


async def register_loaded(*, session: AsyncSession, model: Path, now: datetime) -> ModelVersion:
    """The model Rasa runs now, as a version (the one `make setup` trained has no row yet)."""
    version = await session.scalar(select(ModelVersion).where(ModelVersion.path == str(model)))
    if version is None:
        version = ModelVersion(
            fingerprint=model.name.removeprefix("promptlink-").removesuffix(".tar.gz")[:64],
            path=str(model),
            status="active",
            recipe="full",
            trained_by=INSTALLED_BY,
            created_at=now,
            finished_at=now,
            activated_at=now,
            activated_by=INSTALLED_BY,
        )
        session.add(version)
    elif version.status != "active":
        await _retire_active(session)
        version.status = "active"
    await session.flush()
    return version


async def start_version(
    *, session: AsyncSession, recipe: str, examples: int, actor: str, now: datetime
) -> ModelVersion:
    """The row of a training that starts now (its path is known once its workspace is); audited."""
    version = ModelVersion(
        fingerprint="",
        path=f"pending:{now.timestamp()}",
        status="training",
        recipe=recipe,
        examples_added=examples,
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
        detail={"recipe": recipe, "examples": examples},
        now=now,
    )
    return version


async def mark_active(
    *, session: AsyncSession, version_id: int, actor: str, at: datetime, detail: dict[str, Any]
) -> None:
    """`version_id` serves from `at` on (the one before it becomes ready); audited."""
    await _retire_active(session)
    version = await get_version(session=session, version_id=version_id)
    version.status, version.activated_at, version.activated_by = "active", at, actor
    record(session=session, actor=actor, action="model.activate", target=f"model:{version_id}", detail=detail, now=at)
