"""Request and response models of `/api/v1/verification` (a chat visitor proves to be a contact).

The fields are checked by `services.verification` (its messages are the tested ones): the models
let any value through to it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from promptlink.services.verification import CODE_DIGITS, MAX_FIELD
from promptlink.transports.http.api import ErrorOut, RequestModel, ResponseModel
from promptlink.transports.http.schemas.common import checked


class StartIn(RequestModel):
    conversation_id: Any = checked("The visitor's chat (its `X-Conversation-Token` is the caller's)", type="string")
    customer: Any = checked("The customer code the visitor gives", type="string", maxLength=MAX_FIELD)
    email: Any = checked("The contact's e-mail the visitor gives", type="string", maxLength=MAX_FIELD)


class ConfirmIn(RequestModel):
    conversation_id: Any = checked("The visitor's chat", type="string")
    code: Any = checked(f"The {CODE_DIGITS}-digit code from the e-mail", type="string", maxLength=32)


class CodeSent(ResponseModel):
    """The same answer whether or not the e-mail is the customer's contact."""

    status: Literal["sent"]


class Verified(ResponseModel):
    verified: Literal[True]
    contact: str = Field(description="The contact's e-mail")
    customer: str = Field(description="Customer code")
    customer_name: str
    name: str = Field(description="The contact's name")


class CodeRefused(ErrorOut):
    """A code that cannot be accepted (wrong, expired, too many attempts, none started)."""

    attempts_left: int | None = Field(None, description="Given for a wrong code")
