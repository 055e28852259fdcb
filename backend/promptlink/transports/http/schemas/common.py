"""Models shared by several resources: ticket history events, pages."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from promptlink.transports.http.api import QueryModel, ResponseModel


class EventOut(ResponseModel):
    """One entry of a ticket's history."""

    at: str = Field(description="ISO 8601 time")
    kind: str = Field(description="created, status, priority, tier, update, note, rma, bug, …")
    public: bool = Field(description="Whether the customer sees it")
    author: str | None = None
    text: str
    data: dict[str, Any] | None = None


class PageQuery(QueryModel):
    limit: int = Field(50, ge=1, le=200, description="How many items (1–200)")
    offset: int = Field(0, ge=0, le=10**9, description="How many to skip")
