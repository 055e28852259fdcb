"""Request and response models of `/api/v1/bugs` (the bug-tracking module).

The fields of a bug are checked by `services.bugs`, whose messages are the tested ones («title is
required and must be text», «unknown bug state 'open'»): the models let any value through to it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from promptlink.models.bug import STATES
from promptlink.services.bugs import MAX_PRODUCT, MAX_TEXT, MAX_TITLE, MAX_VERSION
from promptlink.transports.http.api import RequestModel, ResponseModel
from promptlink.transports.http.schemas.common import PageQuery, checked


class BugListQuery(PageQuery):
    state: str | None = Field(None, description=f"Only bugs in this state ({', '.join(STATES)})")
    q: str | None = Field(None, description="Key, title, description or product contains (first 100 characters)")


class BugIn(RequestModel):
    title: Any = checked("The fault in a line", type="string", minLength=1, maxLength=MAX_TITLE)
    description: Any = checked("What happens", type="string", maxLength=MAX_TEXT)
    product: Any = checked("The product", type="string", maxLength=MAX_PRODUCT)
    version: Any = checked("The version the fault was seen on", type="string", maxLength=MAX_VERSION)
    ticket: Any = checked("A ticket number to link", type="string")


class BugPatch(RequestModel):
    state: Any = checked("The next state", type="string", enum=list(STATES))
    note: Any = checked("Why (logged)", type="string", maxLength=MAX_TEXT)
    version: Any = checked("The version that fixes it (required for fixed)", type="string", maxLength=MAX_VERSION)


class LinkIn(RequestModel):
    ticket: Any = checked("The ticket number to link", type="string")


class BugOut(ResponseModel):
    key: str | None
    title: str
    description: str
    product: str
    version: str | None = Field(description="The version the fault was seen on")
    state: str
    state_name: str = Field(description="The state in Spanish")
    fixed_in_version: str | None
    next_states: list[str]
    created_at: str
    updated_at: str


class BugEventOut(ResponseModel):
    at: str
    from_state: str | None
    to_state: str
    note: str
    author: str


class BugDetailOut(BugOut):
    tickets: list[str | None] = Field(description="Numbers of the linked tickets")
    history: list[BugEventOut]


class BugList(ResponseModel):
    items: list[BugOut]
    total: int
