"""The JSON of `/api/v1/training-requests` (shapes in `schemas/courses.py`)."""

from __future__ import annotations

from typing import Any

from promptlink.models.course import MATERIALS_NOTICE_DAYS
from promptlink.services import courses as svc

SHORT_NOTICE = (
    "La fecha está a menos de dos semanas: la solicitud queda registrada, pero el aviso del material "
    "necesario no podrá enviarse con dos semanas de antelación."
)


def training_request(row: svc.TrainingRow) -> dict[str, Any]:
    request = row.request
    return {
        "id": request.id,
        "customer": row.customer_code,
        "contact": row.contact_email,
        "requested_date": request.requested_date.isoformat(),
        "duration_days": request.duration_days,
        "attendees": request.attendees,
        "site": request.site,
        "topics": request.topics,
        "facilities": {key: getattr(request, column) for key, (column, _name) in svc.FACILITIES.items()},
        "missing_facilities": svc.missing_facilities(request),
        "facilities_reminder": svc.facilities_reminder(request),
        "short_notice": request.short_notice,
        "short_notice_message": SHORT_NOTICE if request.short_notice else None,
        "materials_notice_days": MATERIALS_NOTICE_DAYS,
        "materials_notice_due": request.materials_notice_due.isoformat(),
        "materials_notice_sent_at": (
            request.materials_notice_sent_at.isoformat() if request.materials_notice_sent_at else None
        ),
        "status": request.status,
        "status_name": svc.STATUS_NAMES[request.status],
        "created_at": request.created_at.isoformat(),
    }


def training_list(rows: list[svc.TrainingRow]) -> dict[str, Any]:
    return {"items": [training_request(row) for row in rows]}
