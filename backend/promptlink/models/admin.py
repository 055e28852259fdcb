"""Administration: reviewed customer messages, trained assistant models, their activations and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from promptlink.models.base import Base, utcnow

REVIEW_STATUSES = ("labelled", "dismissed")
MODEL_STATUSES = ("training", "evaluating", "ready", "failed", "active", "retired")


class ReviewDecision(Base):
    """An administrator's decision on one misunderstood customer message.

    A message without a row is still in the review inbox. `labelled` rows are the
    training examples written to the reviewed NLU file (`text` may carry entity
    annotations, `[cmts-bog-01](device)`).
    """

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    intent: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(254))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelVersion(Base):
    """One trained assistant model: how it was trained, how it scored, who activated it."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(String(1000), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    recipe: Mapped[str] = mapped_column(String(32), default="full")
    examples_added: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(200), default="")
    log_tail: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    train_seconds: Mapped[float | None] = mapped_column()
    eval_seconds: Mapped[float | None] = mapped_column()
    trained_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    activated_at: Mapped[datetime | None] = mapped_column()
    activated_by: Mapped[str | None] = mapped_column(String(254))


class ModelActivation(Base):
    """One hot-load of a model into the Rasa servers: kept in the database so that every backend
    of a cluster answers `GET /admin/activation` alike, whichever one runs the load (issue 16)."""

    __tablename__ = "model_activations"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))  # running, done, failed
    load_seconds: Mapped[float | None] = mapped_column()
    message: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(254), default="")
    holder: Mapped[str] = mapped_column(String(255), default="")  # the process running the load
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class AuditLog(Base):
    """Append-only record of administrators' actions."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(254), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
