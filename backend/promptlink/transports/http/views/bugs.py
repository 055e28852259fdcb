"""The JSON of `/api/v1/bugs` (shapes in `schemas/bugs.py`)."""

from __future__ import annotations

from typing import Any

from promptlink.models import Bug, BugEvent
from promptlink.services import bugs as svc


def bug(item: Bug) -> dict[str, Any]:
    return {
        "key": item.key,
        "title": item.title,
        "description": item.description,
        "product": item.product,
        "version": item.version,
        "state": item.state,
        "state_name": svc.STATE_NAMES[item.state],
        "fixed_in_version": item.fixed_in_version,
        "next_states": sorted(svc.TRANSITIONS[item.state]),
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }


def _event(event: BugEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note,
        "author": event.author,
    }


def bug_detail(detail: svc.BugDetail) -> dict[str, Any]:
    data = bug(detail.bug)
    data["tickets"] = [t.number for t in detail.tickets]
    data["history"] = [_event(e) for e in detail.history]
    return data


def bug_list(items: list[Bug], total: int) -> dict[str, Any]:
    return {"items": [bug(b) for b in items], "total": total}
