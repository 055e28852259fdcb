"""Request and response models of `/api/v1/auth` (agent login, logout, who am I)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from promptlink.transports.http.api import ErrorOut, RequestModel, ResponseModel

# The credentials are checked by `services.auth.login` only: any refusal (a number, an over-long
# address, nothing at all) is the one uniform 401 that the login throttle counts, never a 422.
Credential = Annotated[Any, WithJsonSchema({"type": "string", "maxLength": 256})]


class LoginIn(RequestModel):
    email: Credential = Field(None, description="The agent's e-mail address")
    password: Credential = Field(None, description="The agent's password")


class LoginAgent(ResponseModel):
    email: str
    name: str
    role: str = Field(description="agent, supervisor or admin")
    tiers: list[str] = Field(description="The levels the agent works: L1, L2, L3")


class LoginOut(ResponseModel):
    token: str = Field(description="Bearer token for the API; also set as the `pl_session` cookie")
    agent: LoginAgent


class TooManyAttemptsOut(ErrorOut):
    retry_after: int = Field(description="Seconds to wait (also the `Retry-After` header)")


class LoggedOut(ResponseModel):
    status: str = Field(description="`logged out`")


class MeOut(ResponseModel):
    role: str = Field(description="agent, supervisor, admin, service or customer")
    email: str
    name: str
    tiers: list[str]
    customer_id: int | None = Field(description="The customer a customer identity belongs to")
