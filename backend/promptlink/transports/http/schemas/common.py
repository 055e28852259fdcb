"""Models shared by several resources: ticket history events, pages, fields a service checks."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from promptlink.transports.http.api import QueryModel, ResponseModel


def checked(description: str, *, default: Any = None, **schema: Any) -> Any:
    """A request field (typed `Any`) that the service checks itself, with its own tested messages
    (e.g. «title is required and must be text»): any JSON value passes the model; `schema` (e.g.
    `type="string", maxLength=300`) documents what is expected in the OpenAPI document."""
    return Field(default, description=description, json_schema_extra=schema)


class EventOut(ResponseModel):
    """One entry of a ticket's history."""

    at: str = Field(description="ISO 8601 time")
    kind: str = Field(description="created, status, priority, tier, update, note, rma, bug, …")
    public: bool = Field(description="Whether the customer sees it")
    author: str | None = None
    author_name: str | None = Field(None, description="The author's name when staff wrote it (staff readers)")
    text: str
    data: dict[str, Any] | None = None


class PageQuery(QueryModel):
    limit: int = Field(50, ge=1, le=200, description="How many items (1–200)")
    offset: int = Field(0, ge=0, le=10**9, description="How many to skip")
