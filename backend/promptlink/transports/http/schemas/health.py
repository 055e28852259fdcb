"""Response models of `GET /api/v1/health`."""

from __future__ import annotations

from pydantic import Field

from promptlink.transports.http.api import ResponseModel


class Components(ResponseModel):
    """Each component `ok`, or `down: <why>`."""

    db: str
    rasa: str = Field(description="Every Rasa server up with a model loaded")
    actions: str = Field(description="The action server")
    snmp: str | None = Field(None, description="The SNMP trap receiver, when enabled")


class Healthy(ResponseModel):
    status: str = Field(description="`ok`")
    components: Components


class Degraded(ResponseModel):
    status: str = Field(description="`degraded`")
    components: Components
    failing: list[str] = Field(description="The components that are down")
