"""`/api/v1/admin`: the review inbox, model training and activation, the dashboard, users, audit.

Administrators only (role `admin`); every change is written to the audit log by the services.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, text
from sanic_ext.extensions.openapi import openapi

from promptlink.assistant import retraining
from promptlink.infra.db import transaction
from promptlink.services import audit, review, stats, users
from promptlink.services.auth import Principal, require_role
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.nlu_files import read_vocabulary
from promptlink.transports.http.common import body, caller, int_arg

bp = Blueprint("admin", url_prefix="/api/v1/admin")


async def admin(request: Request) -> Principal:
    p = await caller(request)
    require_role(p, "admin")
    return p


def _vocabulary(request: Request) -> Any:
    return read_vocabulary(request.app.ctx.settings.bot_project_dir)


@bp.get("/review")
@openapi.definition(
    summary="Review inbox: misunderstood customer messages grouped by similarity",
    description="Customer messages parsed under the fallback threshold, classified `nlu_fallback`, or followed by "
    "a request for a person, not yet labelled or dismissed; grouped by character-trigram similarity. `limit` "
    "(1-1000) bounds the messages considered.",
)
async def review_inbox(request: Request) -> HTTPResponse:
    await admin(request)
    settings = request.app.ctx.settings
    async with request.app.ctx.sessions() as session:
        items = await review.inbox(
            session=session,
            threshold=settings.review_confidence_threshold,
            limit=int_arg(request, "limit", 500, low=1, high=1000),
        )
    groups = review.group_similar(items)
    return json({"groups": [g.to_json() for g in groups], "messages": len(items)})


@bp.get("/vocabulary")
@openapi.definition(summary="Intents and entities of the assistant's domain, and intents added by review")
async def vocabulary(request: Request) -> HTTPResponse:
    await admin(request)
    vocab = _vocabulary(request)
    async with request.app.ctx.sessions() as session:
        labelled = await review.labelled_examples(session=session)
    return json(
        {
            "intents": [i for i in vocab.intents if i != review.FALLBACK_INTENT],
            "entities": list(vocab.entities),
            "new_intents": review.new_intents(labelled, vocab),
            "labelled": len(labelled),
        }
    )


@bp.post("/review/<message_id:int>/label")
@openapi.definition(
    summary="Label a misunderstood message",
    description="Body `{intent, entities?: [{start, end, entity}]}`. A new intent name is allowed "
    "([a-z][a-z0-9_]{1,63}). Refused when the sentence is in the held-out set or already trained under another "
    "intent. The reviewed NLU file is rewritten.",
)
async def label(request: Request, message_id: int) -> HTTPResponse:
    p = await admin(request)
    data = body(request)
    settings = request.app.ctx.settings
    vocab = _vocabulary(request)
    async with transaction(request.app.ctx.sessions) as session:
        decision = await review.label(
            session=session,
            message_id=message_id,
            intent=data.get("intent"),
            entities=data.get("entities"),
            vocabulary=vocab,
            actor=p.email,
            now=request.app.ctx.clock.now(),
        )
        exported = await review.export_reviewed(session=session, vocabulary=vocab, path=settings.reviewed_nlu_path)
        return json(
            {"message_id": message_id, "intent": decision.intent, "example": decision.text, "exported": exported},
            status=201,
        )


@bp.post("/review/<message_id:int>/dismiss")
@openapi.definition(summary="Dismiss a message from the review inbox (not a training example)")
async def dismiss(request: Request, message_id: int) -> HTTPResponse:
    p = await admin(request)
    async with transaction(request.app.ctx.sessions) as session:
        await review.dismiss(session=session, message_id=message_id, actor=p.email, now=request.app.ctx.clock.now())
    return json({"message_id": message_id, "status": "dismissed"})


async def _active_metrics(request: Request) -> dict[str, Any] | None:
    async with request.app.ctx.sessions() as session:
        active = await retraining.active_version(session=session)
        return active.metrics if active else None


@bp.get("/models")
@openapi.definition(
    summary="Trained models",
    description="Newest first: fingerprint, status (training, evaluating, ready, failed, active), held-out metrics, "
    "comparison with the active model, who trained and activated each.",
)
async def models(request: Request) -> HTTPResponse:
    await admin(request)
    metrics = await _active_metrics(request)
    async with request.app.ctx.sessions() as session:
        versions = await retraining.list_versions(session=session)
    return json({"items": [retraining.version_json(v, active_metrics=metrics) for v in versions]})


@bp.post("/models")
@openapi.definition(
    summary="Start a retrain in the background",
    description="Body `{recipe: full | quick}`. 202 with the new model version; poll `GET /models/{id}` for "
    "progress. 409 while another training runs.",
)
async def train(request: Request) -> HTTPResponse:
    p = await admin(request)
    data = body(request)
    recipe = data.get("recipe", "full")
    if not isinstance(recipe, str):  # a list or an object failed the look-up as a 500 (issue #13 F13)
        raise InvalidInput("recipe must be the string full or quick", public="La receta debe ser «full» o «quick».")
    version = await request.app.ctx.training.start(recipe=recipe, actor=p.email, now=request.app.ctx.clock.now())
    return json(retraining.version_json(version), status=202)


@bp.get("/models/<version_id:int>")
@openapi.definition(summary="One model version: training progress, evaluation, comparison")
async def model(request: Request, version_id: int) -> HTTPResponse:
    await admin(request)
    metrics = await _active_metrics(request)
    async with request.app.ctx.sessions() as session:
        version = await retraining.get_version(session=session, version_id=version_id)
    return json(retraining.version_json(version, active_metrics=metrics))


@bp.post("/models/<version_id:int>/activate")
@openapi.definition(
    summary="Activate (or roll back to) a model: hot-loaded into the running Rasa server",
    description="Body `{force?: true}` to activate a model that scored worse than the active one (409 otherwise). "
    "202: the load runs in the background; poll `GET /activation`. Chats keep their state; a message arriving "
    "during the swap waits for it and is answered by the new model.",
)
async def activate(request: Request, version_id: int) -> HTTPResponse:
    p = await admin(request)
    data = body(request) if request.body else {}
    state = await request.app.ctx.training.activate(
        version_id=version_id, force=data.get("force"), actor=p.email, now=request.app.ctx.clock.now()
    )
    return json(state, status=202)


@bp.get("/activation")
@openapi.definition(
    summary="The last activation: `{version_id, state: running | done | failed, load_seconds, message}`",
    description="`null` when none ran since the backend started.",
)
async def activation(request: Request) -> HTTPResponse:
    await admin(request)
    return json(request.app.ctx.training.activation_json())


async def _tables(request: Request) -> dict[str, stats.Table]:
    settings = request.app.ctx.settings
    async with request.app.ctx.sessions() as session:
        return await stats.dashboard(
            session=session,
            now=request.app.ctx.clock.now(),
            days=int_arg(request, "days", 30, low=1, high=366),
            threshold=settings.review_confidence_threshold,
        )


@bp.get("/stats")
@openapi.definition(
    summary="Dashboard figures",
    description="`days` (1-366, default 30). Tables: tickets per day by channel, priority and tier; updates on "
    "time and breaches; conversations solved without a person; handoffs per tier; waiting times; satisfaction; "
    "most frequent misunderstood messages. Definitions in docs/admin.md.",
)
async def dashboard(request: Request) -> HTTPResponse:
    await admin(request)
    tables = await _tables(request)
    return json({"summary": stats.summary(tables), "tables": {k: t.to_json() for k, t in tables.items()}})


@bp.get("/stats/<name:str>")
@openapi.definition(
    summary="One dashboard table as CSV: `/stats/<table>.csv` (cells that look like formulas are quoted with ')"
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
@openapi.definition(summary="Support staff accounts")
async def list_users(request: Request) -> HTTPResponse:
    await admin(request)
    async with request.app.ctx.sessions() as session:
        agents = await users.list_agents(session=session)
    return json({"items": [users.agent_json(a) for a in agents]})


@bp.post("/users")
@openapi.definition(
    summary="Create a support staff account",
    description="Body `{email, name, role: agent | supervisor | admin, tiers: [L1, L2, L3], password (>= 10)}`.",
)
async def create_user(request: Request) -> HTTPResponse:
    p = await admin(request)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        agent = await users.create_agent(session=session, data=data, actor=p.email, now=request.app.ctx.clock.now())
        return json(users.agent_json(agent), status=201)


@bp.patch("/users/<agent_id:int>")
@openapi.definition(
    summary="Change an account's name, role, tiers or active flag",
    description="Body with any of `{name, role, tiers, active}`. The last active administrator cannot be demoted "
    "or deactivated (409).",
)
async def update_user(request: Request, agent_id: int) -> HTTPResponse:
    p = await admin(request)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        agent = await users.update_agent(
            session=session, agent_id=agent_id, data=data, actor=p.email, now=request.app.ctx.clock.now()
        )
        return json(users.agent_json(agent))


@bp.post("/users/<agent_id:int>/password")
@openapi.definition(summary="Reset an account's password", description="Body `{password}` (at least 10 characters).")
async def reset_password(request: Request, agent_id: int) -> HTTPResponse:
    p = await admin(request)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        agent = await users.reset_password(
            session=session,
            agent_id=agent_id,
            password=data.get("password"),
            actor=p.email,
            now=request.app.ctx.clock.now(),
        )
        return json(users.agent_json(agent))


@bp.get("/audit")
@openapi.definition(summary="Audit log of administrators' actions", description="Newest first; `limit`, `offset`.")
async def audit_log(request: Request) -> HTTPResponse:
    await admin(request)
    action = request.args.get("action")
    if action is not None and len(action) > 64:
        raise InvalidInput("action too long", public="Parámetro no válido.")
    async with request.app.ctx.sessions() as session:
        entries = await audit.list_audit(
            session=session,
            limit=int_arg(request, "limit", 100, low=1, high=500),
            offset=int_arg(request, "offset", 0, low=0, high=10**9),
            action=action,
        )
    return json({"items": [audit.audit_json(e) for e in entries]})
