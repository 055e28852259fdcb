"""Response models of `GET /api/v1/health`."""

from __future__ import annotations

from pydantic import Field

from promptlink.transports.http.api import ResponseModel


class Components(ResponseModel):
    """Each component `ok`, or `down: <why>`."""

    db: str
    rasa: str = Field(description="Every Rasa server up with a model loaded")
    actions: str = Field(description="The action server")
    snmp: str | None = Field(
        None, description="The SNMP trap receiver, when enabled (`standby`: another process holds its lease)"
    )


class SingletonState(ResponseModel):
    """A component that runs in one process of the cluster, under a lease (docs/architecture.md)."""

    here: str = Field(description="This process: `active`, `standby`, `down: <why>`, or `off` (not competing)")
    holder: str | None = Field(description="host:pid of the process that last acquired the lease")
    generation: int | None = Field(description="The fencing generation, one more at each acquisition")
    acquired_at: str | None = Field(description="When it was last acquired (ISO 8601)")


class Healthy(ResponseModel):
    status: str = Field(description="`ok`")
    components: Components
    singletons: dict[str, SingletonState] = Field(default_factory=dict)


class Degraded(ResponseModel):
    status: str = Field(description="`degraded`")
    components: Components
    singletons: dict[str, SingletonState] = Field(default_factory=dict)
    failing: list[str] = Field(description="The components that are down")
