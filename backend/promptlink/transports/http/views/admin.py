"""The JSON of `/api/v1/admin` (shapes in `schemas/admin.py`)."""

from __future__ import annotations

from typing import Any

from promptlink.models import Agent, AuditLog, ModelVersion, ReviewDecision
from promptlink.services import model_versions, review, stats
from promptlink.services.nlu_files import BotVocabulary
from promptlink.services.users import ROLE_NAMES
from promptlink.vocabulary import INTENT_NAMES


def review_inbox(groups: list[review.InboxGroup], *, messages: int) -> dict[str, Any]:
    return {"groups": [g.to_json() for g in groups], "messages": messages}


def vocabulary(vocab: BotVocabulary, labelled: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "intents": [i for i in vocab.intents if i != review.FALLBACK_INTENT],
        "entities": list(vocab.entities),
        "new_intents": review.new_intents(labelled, vocab),
        "labelled": len(labelled),
        "labels": {i: INTENT_NAMES[i] for i in vocab.intents if i in INTENT_NAMES},
    }


def labelled(message_id: int, decision: ReviewDecision, *, exported: int) -> dict[str, Any]:
    return {"message_id": message_id, "intent": decision.intent, "example": decision.text, "exported": exported}


def dismissed(message_id: int) -> dict[str, Any]:
    return {"message_id": message_id, "status": "dismissed"}


def model(version: ModelVersion, *, active_metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    return model_versions.version_json(version, active_metrics=active_metrics)


def model_list(
    versions: list[ModelVersion], *, active_metrics: dict[str, Any] | None, running: dict[str, Any]
) -> dict[str, Any]:
    return {"items": [model(v, active_metrics=active_metrics) for v in versions], "running": running}


def dashboard(tables: dict[str, stats.Table]) -> dict[str, Any]:
    return {"summary": stats.summary(tables), "tables": {k: t.to_json() for k, t in tables.items()}}


def user(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "email": agent.email,
        "name": agent.name,
        "role": agent.role,
        "role_name": ROLE_NAMES.get(agent.role, agent.role),
        "tiers": agent.tier_list,
        "active": agent.active,
    }


def user_list(agents: list[Agent]) -> dict[str, Any]:
    return {"items": [user(a) for a in agents]}


def audit_entry(entry: AuditLog) -> dict[str, Any]:
    return {
        "id": entry.id,
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "detail": entry.detail,
        "at": entry.at.isoformat(),
    }


def audit_list(entries: list[AuditLog]) -> dict[str, Any]:
    return {"items": [audit_entry(e) for e in entries]}
