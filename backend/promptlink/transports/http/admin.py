"""`/api/v1/admin`: the review inbox, model training and activation, the dashboard, users, audit.

Administrators only (role `admin`); every change is written to the audit log by the services.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text
from sanic_ext.extensions.openapi import openapi
from sanic_ext.extensions.openapi.definitions import Component

from promptlink.infra.db import transaction
from promptlink.services import audit, model_versions, review, stats, users
from promptlink.services.auth import Principal, require_role
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.nlu_files import BotVocabulary, read_vocabulary
from promptlink.transports.http.api import endpoint, parse_body, parse_query, reply
from promptlink.transports.http.common import caller
from promptlink.transports.http.schemas.admin import (
    ActivateIn,
    ActivationOut,
    AuditList,
    AuditQuery,
    CsvTable,
    DashboardOut,
    Dismissed,
    LabelIn,
    Labelled,
    LastActivation,
    ModelList,
    ModelVersionOut,
    PasswordIn,
    ReviewInbox,
    ReviewQuery,
    StatsQuery,
    TrainIn,
    UserCreate,
    UserList,
    UserOut,
    UserUpdate,
    VocabularyOut,
)
from promptlink.transports.http.views import admin as views

bp = Blueprint("admin", url_prefix="/api/v1/admin")
DENIED: dict[int, None] = {401: None, 403: None}  # every operation: anonymous, not an administrator


async def admin(request: Request) -> Principal:
    p = await caller(request)
    require_role(p, "admin")
    return p


def _vocabulary(request: Request) -> BotVocabulary:
    return read_vocabulary(request.app.ctx.settings.bot_project_dir)


@bp.get("/review")
@endpoint(
    summary="Review inbox: misunderstood customer messages grouped by similarity",
    description="Customer messages parsed under the fallback threshold, classified `nlu_fallback`, or followed by "
    "a request for a person, not yet labelled or dismissed; grouped by character-trigram similarity. `limit` "
    "(1-1000) bounds the messages considered.",
    query=ReviewQuery,
    responses={200: ReviewInbox, **DENIED, 422: None},
)
async def review_inbox(request: Request) -> HTTPResponse:
    await admin(request)
    query = parse_query(request, ReviewQuery)
    settings = request.app.ctx.settings
    async with request.app.ctx.sessions() as session:
        items = await review.inbox(session=session, threshold=settings.review_confidence_threshold, limit=query.limit)
    return reply(views.review_inbox(review.group_similar(items), messages=len(items)))


@bp.get("/vocabulary")
@endpoint(
    summary="Intents and entities of the assistant's domain, and intents added by review",
    responses={200: VocabularyOut, **DENIED},
)
async def vocabulary(request: Request) -> HTTPResponse:
    await admin(request)
    vocab = _vocabulary(request)
    async with request.app.ctx.sessions() as session:
        labelled = await review.labelled_examples(session=session)
    return reply(views.vocabulary(vocab, labelled))


@bp.post("/review/<message_id:int>/label")
@endpoint(
    summary="Label a misunderstood message",
    description="Body `{intent, entities?: [{start, end, entity}]}`. A new intent name is allowed "
    "([a-z][a-z0-9_]{1,63}). Refused when the sentence is in the held-out set or already trained under another "
    "intent. The reviewed NLU file is rewritten.",
    body=LabelIn,
    responses={201: Labelled, **DENIED, 404: None, 422: None},
)
async def label(request: Request, message_id: int) -> HTTPResponse:
    p = await admin(request)
    data = parse_body(request, LabelIn)
    settings = request.app.ctx.settings
    vocab = _vocabulary(request)
    entities = None if data.entities is None else [e.model_dump() for e in data.entities]
    async with transaction(request.app.ctx.sessions) as session:
        decision = await review.label(
            session=session,
            message_id=message_id,
            intent=data.intent,
            entities=entities,
            vocabulary=vocab,
            actor=p.email,
            now=request.app.ctx.clock.now(),
        )
        exported = await review.export_reviewed(session=session, vocabulary=vocab, path=settings.reviewed_nlu_path)
        return reply(views.labelled(message_id, decision, exported=exported), status=201)


@bp.post("/review/<message_id:int>/dismiss")
@endpoint(
    summary="Dismiss a message from the review inbox (not a training example)",
    responses={200: Dismissed, **DENIED, 404: None, 422: None},
)
async def dismiss(request: Request, message_id: int) -> HTTPResponse:
    p = await admin(request)
    async with transaction(request.app.ctx.sessions) as session:
        await review.dismiss(session=session, message_id=message_id, actor=p.email, now=request.app.ctx.clock.now())
    return reply(views.dismissed(message_id))


async def _active_metrics(request: Request) -> dict[str, Any] | None:
    async with request.app.ctx.sessions() as session:
        active = await model_versions.active_version(session=session)
        return active.metrics if active else None


@bp.get("/models")
@endpoint(
    summary="Trained models",
    description="Newest first: fingerprint, status (training, evaluating, ready, failed, active), held-out metrics, "
    "comparison with the active model, who trained and activated each; and `running`, the model the assistant "
    "runs now (asked to Rasa; when Rasa does not answer, the model it starts with).",
    responses={200: ModelList, **DENIED},
)
async def models(request: Request) -> HTTPResponse:
    await admin(request)
    metrics = await _active_metrics(request)
    path, answered, written = await request.app.ctx.training.running_model()
    async with request.app.ctx.sessions() as session:
        versions = await model_versions.list_versions(session=session)
        running = await model_versions.running_json(session=session, model=path, answered=answered, written=written)
    return reply(views.model_list(versions, active_metrics=metrics, running=running))


@bp.post("/models")
@endpoint(
    summary="Start a retrain in the background",
    description="Body `{recipe: full | quick}`. 202 with the new model version; poll `GET /models/{id}` for "
    "progress. 409 while another training runs; 502 when the assistant (Rasa) does not answer.",
    body=TrainIn,
    responses={202: ModelVersionOut, **DENIED, 409: None, 422: None, 502: None},
)
async def train(request: Request) -> HTTPResponse:
    p = await admin(request)
    recipe = parse_body(request, TrainIn).recipe
    if not isinstance(recipe, str):  # a list or an object failed the look-up as a 500 (issue #13 F13)
        raise InvalidInput("recipe must be the string full or quick", public="La receta debe ser «full» o «quick».")
    version = await request.app.ctx.training.start(recipe=recipe, actor=p.email, now=request.app.ctx.clock.now())
    return reply(views.model(version), status=202)


@bp.get("/models/<version_id:int>")
@endpoint(
    summary="One model version: training progress, evaluation, comparison",
    responses={200: ModelVersionOut, **DENIED, 404: None},
)
async def model(request: Request, version_id: int) -> HTTPResponse:
    await admin(request)
    metrics = await _active_metrics(request)
    async with request.app.ctx.sessions() as session:
        version = await model_versions.get_version(session=session, version_id=version_id)
    return reply(views.model(version, active_metrics=metrics))


@bp.post("/models/<version_id:int>/activate")
@endpoint(
    summary="Activate (or roll back to) a model: hot-loaded into the running Rasa server",
    description="Body `{force?: true}` to activate a model that scored worse than the active one (409 otherwise). "
    "202: the load runs in the background; poll `GET /activation`. Chats keep their state; a message arriving "
    "during the swap waits for it and is answered by the new model.",
    body=ActivateIn,
    responses={202: ActivationOut, **DENIED, 404: None, 409: None, 422: None},
)
async def activate(request: Request, version_id: int) -> HTTPResponse:
    p = await admin(request)
    data = parse_body(request, ActivateIn) if request.body else ActivateIn.model_validate({})
    state = await request.app.ctx.training.activate(
        version_id=version_id, force=data.force, actor=p.email, now=request.app.ctx.clock.now()
    )
    return reply(state, status=202)


@bp.get("/activation")
@endpoint(
    summary="The last activation: `{version_id, state: running | done | failed, load_seconds, message}`",
    description="The same on every backend of a cluster, whichever ran it; `null` when there was none yet.",
    responses={200: LastActivation, **DENIED},
)
async def activation(request: Request) -> HTTPResponse:
    await admin(request)
    return reply(await request.app.ctx.training.activation_json())


async def _tables(request: Request) -> dict[str, stats.Table]:
    query = parse_query(request, StatsQuery)
    async with request.app.ctx.sessions() as session:
        return await stats.dashboard(
            session=session,
            now=request.app.ctx.clock.now(),
            days=query.days,
            threshold=request.app.ctx.settings.review_confidence_threshold,
        )


@bp.get("/stats")
@endpoint(
    summary="Dashboard figures",
    description="`days` (1-366, default 30). Tables: tickets per day by channel, priority and tier; updates on "
    "time and breaches; conversations solved without a person; handoffs per tier; waiting times; satisfaction; "
    "most frequent misunderstood messages. Definitions in docs/admin.md.",
    query=StatsQuery,
    responses={200: DashboardOut, **DENIED, 422: None},
)
async def dashboard(request: Request) -> HTTPResponse:
    await admin(request)
    return reply(views.dashboard(await _tables(request)))


@bp.get("/stats/<name:str>")
@openapi.response(200, {"text/csv": Component(CsvTable)}, "The table as CSV (an attachment)")
@endpoint(
    summary="One dashboard table as CSV: `/stats/<table>.csv` (cells that look like formulas are quoted with ')",
    query=StatsQuery,
    responses={**DENIED, 404: None, 422: None},
)
async def dashboard_csv(request: Request, name: str) -> HTTPResponse:
    await admin(request)
    table = name.removesuffix(".csv")
    if not name.endswith(".csv") or table not in stats.TABLES:
        raise NotFound(f"no table {table}", public="Esa tabla no existe.")
    tables = await _tables(request)
    return text(
        stats.to_csv(tables[table]),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="promptlink-{table}.csv"'},
    )


@bp.get("/users")
@endpoint(summary="Support staff accounts", responses={200: UserList, **DENIED})
async def list_users(request: Request) -> HTTPResponse:
    await admin(request)
    async with request.app.ctx.sessions() as session:
        agents = await users.list_agents(session=session)
    return reply(views.user_list(agents))


@bp.post("/users")
@endpoint(
    summary="Create a support staff account",
    description="Body `{email, name, role: agent | supervisor | admin, tiers: [L1, L2, L3], password (>= 10)}`.",
    body=UserCreate,
    responses={201: UserOut, **DENIED, 409: None, 422: None},
)
async def create_user(request: Request) -> HTTPResponse:
    p = await admin(request)
    data = parse_body(request, UserCreate).model_dump(exclude_unset=True)
    async with transaction(request.app.ctx.sessions) as session:
        agent = await users.create_agent(session=session, data=data, actor=p.email, now=request.app.ctx.clock.now())
        return reply(views.user(agent), status=201)


@bp.patch("/users/<agent_id:int>")
@endpoint(
    summary="Change an account's name, role, tiers or active flag",
    description="Body with any of `{name, role, tiers, active}`. The last active administrator cannot be demoted "
    "or deactivated (409).",
    body=UserUpdate,
    responses={200: UserOut, **DENIED, 404: None, 409: None, 422: None},
)
async def update_user(request: Request, agent_id: int) -> HTTPResponse:
    p = await admin(request)
    data = parse_body(request, UserUpdate).model_dump(exclude_unset=True)
    async with transaction(request.app.ctx.sessions) as session:
        agent = await users.update_agent(
            session=session, agent_id=agent_id, data=data, actor=p.email, now=request.app.ctx.clock.now()
        )
        return reply(views.user(agent))


@bp.post("/users/<agent_id:int>/password")
@endpoint(
    summary="Reset an account's password",
    description="Body `{password}` (at least 10 characters). Every login token of the account stops working.",
    body=PasswordIn,
    responses={200: UserOut, **DENIED, 404: None, 422: None},
)
async def reset_password(request: Request, agent_id: int) -> HTTPResponse:
    p = await admin(request)
    data = parse_body(request, PasswordIn)
    async with transaction(request.app.ctx.sessions) as session:
        agent = await users.reset_password(
            session=session, agent_id=agent_id, password=data.password, actor=p.email, now=request.app.ctx.clock.now()
        )
        return reply(views.user(agent))


@bp.get("/audit")
@endpoint(
    summary="Audit log of administrators' actions",
    description="Newest first; `limit`, `offset`, `action`.",
    query=AuditQuery,
    responses={200: AuditList, **DENIED, 422: None},
)
async def audit_log(request: Request) -> HTTPResponse:
    await admin(request)
    query = parse_query(request, AuditQuery)
    async with request.app.ctx.sessions() as session:
        entries = await audit.list_audit(session=session, limit=query.limit, offset=query.offset, action=query.action)
    return reply(views.audit_list(entries))
