"""Request, query and response models of `/api/v1/admin` (review, models, dashboard, users, audit)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, RootModel, WithJsonSchema

from promptlink.transports.http.api import QueryModel, RequestModel, ResponseModel
from promptlink.transports.http.schemas.common import PageQuery


class StrictRequest(RequestModel):
    """A body whose values are taken only as their JSON type (no "3" for 3, no "true" for true);
    the services check the values themselves (their Spanish messages are the ones shown)."""

    model_config = ConfigDict(strict=True)


# --- review inbox -------------------------------------------------------------------------------


class ReviewQuery(QueryModel):
    limit: int = Field(500, ge=1, le=1000, description="How many misunderstood messages to consider (1–1000)")


class ReviewItemOut(ResponseModel):
    message_id: int
    conversation_id: str
    text: str
    intent: str | None = Field(description="What the assistant understood")
    confidence: float | None
    reason: str = Field(description="low_confidence, fallback or human_after")
    reason_name: str = Field(description="The reason in Spanish")
    created_at: str = Field(description="ISO 8601 time")


class ReviewGroupOut(ResponseModel):
    representative: str = Field(description="The first message's text")
    count: int
    predicted: list[str] = Field(description="Intents the assistant gave, most frequent first")
    items: list[ReviewItemOut]


class ReviewInbox(ResponseModel):
    groups: list[ReviewGroupOut] = Field(description="Similar messages together, largest group first")
    messages: int = Field(description="Messages in the inbox")


class VocabularyOut(ResponseModel):
    intents: list[str] = Field(description="The domain's intents (without nlu_fallback)")
    entities: list[str]
    new_intents: list[str] = Field(description="Intents that exist only in labelled examples")
    labelled: int = Field(description="Labelled examples so far")
    labels: dict[str, str] = Field(description="Each intent's name in Spanish, for the review inbox")


class EntitySpan(StrictRequest):
    start: int = Field(description="Offset of the span's first character in the message")
    end: int = Field(description="Offset just past the span's last character")
    entity: str = Field(description="An entity of the domain (`GET /admin/vocabulary`)")


class LabelIn(StrictRequest):
    intent: str | None = Field(None, max_length=64, description="An intent; a new name matches [a-z][a-z0-9_]{1,63}")
    entities: list[EntitySpan] | None = Field(None, description="At most 5 non-overlapping spans")


class Labelled(ResponseModel):
    message_id: int
    intent: str
    example: str = Field(description="The example as written to the reviewed NLU file (`[span](entity)`)")
    exported: int = Field(description="Examples now in the reviewed NLU file")


class Dismissed(ResponseModel):
    message_id: int
    status: str = Field(description="`dismissed`")


# --- models -------------------------------------------------------------------------------------


class TrainIn(RequestModel):
    # Checked by the handler and the training runner («La receta debe ser «full» o «quick».», tested).
    recipe: Annotated[Any, WithJsonSchema({"type": "string", "enum": ["full", "quick"]})] = Field(
        "full", description="full (config.yml) or quick (DIET, 20 epochs)"
    )


class ActivateIn(StrictRequest):
    force: bool | None = Field(None, description="Activate even if it scored worse than the active model")


class ComparisonOut(ResponseModel):
    verdict: str = Field(description="not_worse, worse or unknown (against the active model)")
    delta_macro_f1: float | None


class ModelVersionOut(ResponseModel):
    id: int
    fingerprint: str
    file: str
    status: str = Field(description="training, evaluating, ready, failed or active")
    recipe: str
    recipe_name: str
    examples_added: int
    progress: int = Field(description="Training progress, 0–100")
    stage: str
    error: str
    log_tail: str
    metrics: dict[str, Any] | None = Field(description="Held-out evaluation")
    comparison: ComparisonOut | None = Field(description="Against the active model; none for the active one")
    train_seconds: float | None
    eval_seconds: float | None
    trained_by: str
    created_at: str
    finished_at: str | None
    activated_at: str | None
    activated_by: str | None


class RunningModelOut(ResponseModel):
    file: str = Field(description="The model file the assistant runs")
    fingerprint: str
    version_id: int | None = Field(description="Its model version, when it has one")
    since: str | None = Field(description="ISO 8601: when it was activated (else when the file was written)")
    answered: bool = Field(description="Whether the assistant (Rasa) said so; if not, the model it starts with")
    exists: bool = Field(description="Whether the file is on disk")


class ModelList(ResponseModel):
    items: list[ModelVersionOut] = Field(description="Newest first")
    running: RunningModelOut = Field(description="The model the assistant runs now")


class ActivationOut(ResponseModel):
    version_id: int
    state: str = Field(description="running, done or failed")
    load_seconds: float | None
    message: str = Field(description="In Spanish, for the administrator")


class LastActivation(RootModel[ActivationOut | None]):
    """The last activation, or `null` when none ran since the backend started."""


# --- dashboard ----------------------------------------------------------------------------------


class StatsQuery(QueryModel):
    days: int = Field(30, ge=1, le=366, description="The last days, today included (1–366)")


class TableOut(ResponseModel):
    title: str
    columns: list[str]
    rows: list[list[Any]]


class SummaryOut(ResponseModel):
    tickets: int
    updates_on_time_pct: float | None
    breaches: int
    solved_without_person_pct: float | None
    handoffs: int
    satisfaction_avg: float | None
    ratings: int


class DashboardOut(ResponseModel):
    summary: SummaryOut
    tables: dict[str, TableOut] = Field(description="By name (docs/admin.md defines each)")


class CsvTable(RootModel[str]):
    """A dashboard table as CSV (cells that look like formulas are quoted with ')."""


# --- users --------------------------------------------------------------------------------------


class UserOut(ResponseModel):
    id: int
    email: str
    name: str
    role: str = Field(description="agent, supervisor or admin")
    role_name: str = Field(description="The role in Spanish")
    tiers: list[str]
    active: bool


class UserList(ResponseModel):
    items: list[UserOut]


class UserCreate(StrictRequest):
    email: str | None = Field(None, description="The account's e-mail address (its login)")
    name: str | None = Field(None, description="1–200 characters")
    role: str | None = Field(None, description="agent (default), supervisor or admin")
    tiers: list[str] | None = Field(None, description="Of L1, L2, L3; an agent needs at least one")
    password: str | None = Field(None, description="10–256 characters")


class UserUpdate(StrictRequest):
    name: str | None = Field(None, description="1–200 characters")
    role: str | None = Field(None, description="agent, supervisor or admin")
    tiers: list[str] | None = Field(None, description="Of L1, L2, L3")
    active: bool | None = Field(None, description="false: the account's tokens stop working")


class PasswordIn(StrictRequest):
    password: str | None = Field(None, description="10–256 characters")


# --- audit --------------------------------------------------------------------------------------


class AuditQuery(PageQuery):
    limit: int = Field(100, ge=1, le=500, description="How many entries (1–500)")
    action: str | None = Field(None, max_length=64, description="Only this action (e.g. `user.create`)")


class AuditEntryOut(ResponseModel):
    id: int
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    at: str = Field(description="ISO 8601 time")


class AuditList(ResponseModel):
    items: list[AuditEntryOut] = Field(description="Newest first")
