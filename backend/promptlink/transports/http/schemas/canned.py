"""Response models of `/api/v1/canned-responses` (the console's «/» picker)."""

from __future__ import annotations

from pydantic import Field

from promptlink.transports.http.api import ResponseModel


class CannedResponseOut(ResponseModel):
    key: str = Field(description="Stable identifier (a slug)")
    title: str = Field(description="Short Spanish name shown in the picker")
    text: str = Field(description="The reply, with the placeholders {nombre} and {tiquete}")
    tiers: list[str] = Field(description="`common` or the tiers (L1, L2, L3) it is for")


class CannedResponseList(ResponseModel):
    placeholders: list[str] = Field(description="The placeholders the texts may hold, without braces")
    responses: list[CannedResponseOut]
