"""Request and response models of `/api/v1/training-requests` (on-site courses).

The fields of a request are checked by `services.courses`, whose messages are the tested ones
(«attendees must be an integer», «requested_date must be an ISO date»): the models let any value
through to it and document what it accepts.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from promptlink.models.course import MAX_ATTENDEES
from promptlink.services.courses import FACILITIES, MAX_SITE, MAX_TOPICS, STATUSES
from promptlink.transports.http.api import RequestModel, ResponseModel
from promptlink.transports.http.schemas.common import PageQuery, checked


class CourseListQuery(PageQuery):
    status: str | None = Field(None, description=f"Only requests in this status ({', '.join(STATUSES)})")
    customer: str | None = Field(None, description="Customer code (staff only)")


class CourseIn(RequestModel):
    customer: Any = checked("Customer code (staff and the action server; a customer's own company)", type="string")
    contact: Any = checked("The requesting contact's e-mail (staff and the action server)", type="string")
    requested_date: Any = checked("The first day, in the future (YYYY-MM-DD)", type="string", format="date")
    attendees: Any = checked("How many attend", type="integer", minimum=1, maximum=MAX_ATTENDEES)
    site: Any = checked("Where", type="string", minLength=1, maxLength=MAX_SITE)
    topics: Any = checked("What to cover", type="string", maxLength=MAX_TOPICS)
    facilities: Any = checked(
        "What the customer confirms it provides",
        type="object",
        properties={key: {"type": "boolean"} for key in FACILITIES},
        additionalProperties=False,
    )


class CourseStatusIn(RequestModel):
    status: Any = checked("The next status", type="string", enum=list(STATUSES))


class CourseOut(ResponseModel):
    id: int
    customer: str = Field(description="Customer code")
    contact: str | None = Field(description="The requesting contact's e-mail")
    requested_date: str
    duration_days: int
    attendees: int
    site: str
    topics: str
    facilities: dict[str, bool] = Field(description=f"{', '.join(FACILITIES)}: confirmed or not")
    missing_facilities: list[str]
    facilities_reminder: str | None = Field(description="In Spanish, when some facility is not confirmed")
    short_notice: bool = Field(description="The date is less than two weeks away")
    short_notice_message: str | None
    materials_notice_days: int
    materials_notice_due: str
    materials_notice_sent_at: str | None
    status: str
    status_name: str = Field(description="The status in Spanish")
    created_at: str


class CourseList(ResponseModel):
    items: list[CourseOut]
