"""On-site training requests: six attendees at most, two days, the materials notice two weeks ahead."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from promptlink.background import send_training_notices_once
from promptlink.infra.clock import ManualClock
from promptlink.infra.db import transaction
from promptlink.models import OutboxItem, TrainingRequest
from promptlink.services import courses as svc
from promptlink.services.errors import InvalidInput
from sqlalchemy import select

# 15:00 UTC is 10:00 in Bogotá (CABLEANDINA, UTC-5): the same calendar day on both sides.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
ALL_FACILITIES = {"room": True, "projector": True, "whiteboard": True, "workstations_internet": True}


async def _request(sessions, *, contact: str | None = "luis.perez@cableandina.example", now=NOW, **fields):
    values = {
        "requested_date": (TODAY + timedelta(days=30)).isoformat(),
        "attendees": 4,
        "site": "Sede Bogotá, calle 100",
        "topics": "Actualización de firmware",
        "facilities": ALL_FACILITIES,
    } | fields
    async with transaction(sessions) as session:
        customer, person = await svc.requester(session=session, customer_code="CABLEANDINA", contact_email=contact)
        return await svc.request_training(session=session, customer=customer, contact=person, now=now, **values)


async def _notices(sessions) -> list[OutboxItem]:
    async with sessions() as session:
        items = await session.scalars(select(OutboxItem).order_by(OutboxItem.id))
        return [i for i in items if "X-Promptlink-Training-Request" in (i.headers or {})]


async def _send(sessions, at: datetime) -> int:
    async with transaction(sessions) as session:
        return await svc.send_due_materials_notices(session=session, now=at)


async def test_six_attendees_are_accepted_seven_are_refused(seeded) -> None:
    six = await _request(seeded, attendees=6)
    assert (six.attendees, six.duration_days, six.status) == (6, 2, "requested")
    with pytest.raises(InvalidInput) as seven:
        await _request(seeded, attendees=7)
    assert seven.value.status == 422
    assert seven.value.public == "Los cursos en sitio admiten hasta seis asistentes."
    for bad in (0, -1, "6", 2.5, True, None):
        with pytest.raises(InvalidInput):
            await _request(seeded, attendees=bad)
    async with seeded() as session:
        rows = await svc.list_training_requests(session=session, filters=svc.TrainingFilter())
        assert [r.request.attendees for r in rows] == [6]


async def test_a_short_notice_request_is_flagged_and_still_recorded(seeded) -> None:
    soon = await _request(seeded, requested_date=(TODAY + timedelta(days=10)).isoformat())
    assert soon.short_notice is True and soon.id is not None
    assert soon.materials_notice_due == TODAY + timedelta(days=10) - timedelta(days=14)
    on_time = await _request(seeded, requested_date=(TODAY + timedelta(days=14)).isoformat())
    assert on_time.short_notice is False
    assert on_time.materials_notice_due == TODAY
    for days_ahead, short_notice in ((1, True), (13, True), (15, False), (60, False)):
        request = await _request(seeded, requested_date=(TODAY + timedelta(days=days_ahead)).isoformat())
        assert request.short_notice is short_notice, days_ahead


async def test_the_date_must_be_a_future_iso_date(seeded) -> None:
    for bad in (TODAY.isoformat(), (TODAY - timedelta(days=1)).isoformat(), "25/12/2026", "", 20261225, None):
        with pytest.raises(InvalidInput):
            await _request(seeded, requested_date=bad)
    with pytest.raises(InvalidInput) as far:
        await _request(seeded, requested_date=(TODAY + timedelta(days=800)).isoformat())
    assert "dos años" in far.value.public


async def test_today_is_the_customers_day_not_utcs(seeded) -> None:
    # 02:00 UTC on the 26th is still the 25th in Bogotá: the 26th is a future date there.
    late_evening = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    request = await _request(seeded, requested_date="2026-11-26", now=late_evening)
    assert request.short_notice is True


async def test_missing_facilities_are_recorded_and_echoed_as_a_reminder(seeded) -> None:
    request = await _request(seeded, facilities={"room": True, "whiteboard": True})
    assert (request.has_room, request.has_projector, request.has_whiteboard, request.has_workstations_internet) == (
        True,
        False,
        True,
        False,
    )
    assert svc.missing_facilities(request) == ["projector", "workstations_internet"]
    reminder = svc.facilities_reminder(request)
    assert reminder is not None
    assert "proyector, áreas de trabajo con acceso a Internet" in reminder and "sala" not in reminder
    complete = await _request(seeded)
    assert svc.facilities_reminder(complete) is None
    nothing = await _request(seeded, facilities=None)
    assert "sala, proyector, pizarra, áreas de trabajo con acceso a Internet" in (
        svc.facilities_reminder(nothing) or ""
    )
    for bad in ({"room": "sí"}, {"kitchen": True}, ["room"]):
        with pytest.raises(InvalidInput):
            await _request(seeded, facilities=bad)


async def test_site_is_required_and_contact_must_belong_to_the_customer(seeded) -> None:
    with pytest.raises(InvalidInput):
        await _request(seeded, site="  ")
    with pytest.raises(InvalidInput) as foreign:
        await _request(seeded, contact="maria.rodriguez@telecaribe.example")
    assert foreign.value.public == "El contacto no existe para ese cliente."
    async with seeded() as session:
        with pytest.raises(InvalidInput):
            await svc.requester(session=session, customer_code="NADIE", contact_email=None)


async def test_the_materials_notice_is_sent_once_two_weeks_before_at_the_customers_date(seeded) -> None:
    course = TODAY + timedelta(days=30)
    request = await _request(seeded, requested_date=course.isoformat(), facilities={"room": True})
    due = course - timedelta(days=14)
    assert request.materials_notice_due == due
    assert await _send(seeded, NOW) == 0
    assert (
        await _send(seeded, datetime.combine(due - timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=23))
        == 0
    )
    # 03:00 UTC on the due date is still the day before in Bogotá (UTC-5).
    assert await _send(seeded, datetime.combine(due, datetime.min.time(), UTC) + timedelta(hours=3)) == 0
    at_due = datetime.combine(due, datetime.min.time(), UTC) + timedelta(hours=6)
    assert await _send(seeded, at_due) == 1
    assert await _send(seeded, at_due + timedelta(minutes=1)) == 0
    assert await _send(seeded, at_due + timedelta(days=3)) == 0
    notices = await _notices(seeded)
    # The requesting contact (Luis) and CABLEANDINA's notification party (Ana), once each.
    assert sorted(n.recipient for n in notices) == ["ana.gomez@cableandina.example", "luis.perez@cableandina.example"]
    body = notices[0].body
    assert "sala" in body and "proyector" in body and "pizarra" in body and "acceso a Internet" in body
    assert "material de trabajo y estudio" in body and "(2 días)" in body
    assert "aún falta confirmar" in body  # the projector, whiteboard and workstations were not confirmed
    assert "material necesario" in notices[0].subject
    async with seeded() as session:
        stored = await session.get(TrainingRequest, request.id)
        assert stored.materials_notice_sent_at == at_due


async def test_short_notice_is_noticed_at_once_cancelled_and_past_courses_never(seeded) -> None:
    soon = await _request(seeded, requested_date=(TODAY + timedelta(days=5)).isoformat())
    cancelled = await _request(seeded, requested_date=(TODAY + timedelta(days=6)).isoformat())
    async with transaction(seeded) as session:
        row = await svc.get_training_request(session=session, request_id=cancelled.id)
        svc.change_status(row.request, "cancelled")
    assert await _send(seeded, NOW) == 1
    notices = await _notices(seeded)
    assert {n.headers["X-Promptlink-Training-Request"] for n in notices} == {str(soon.id)}
    assert "menos de dos semanas" in notices[0].body
    # A course whose day has come without a notice (workers down) gets none afterwards.
    late = await _request(seeded, requested_date=(TODAY + timedelta(days=20)).isoformat())
    assert await _send(seeded, NOW + timedelta(days=21)) == 0
    async with seeded() as session:
        assert (await session.get(TrainingRequest, late.id)).materials_notice_sent_at is None


async def test_the_worker_uses_its_clock(seeded) -> None:
    await _request(seeded, requested_date=(TODAY + timedelta(days=20)).isoformat())
    clock = ManualClock(NOW)
    assert await send_training_notices_once(sessions=seeded, clock=clock) == 0
    clock.advance(timedelta(days=6))
    assert await send_training_notices_once(sessions=seeded, clock=clock) == 1
    assert await send_training_notices_once(sessions=seeded, clock=clock) == 0


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["confirmed", "completed"], True),
        (["cancelled"], True),
        (["confirmed", "cancelled"], True),
        (["completed"], False),
        (["confirmed", "requested"], False),
        (["cancelled", "confirmed"], False),
        (["archived"], False),
    ],
)
def test_status_changes(path: list[str], allowed: bool) -> None:
    request = TrainingRequest(status="requested", requested_date=date(2026, 12, 30))
    try:
        for status in path:
            svc.change_status(request, status)
    except InvalidInput:
        assert not allowed
    else:
        assert allowed and request.status == path[-1]


async def test_listing_by_customer_and_status(seeded) -> None:
    first = await _request(seeded, requested_date=(TODAY + timedelta(days=40)).isoformat())
    second = await _request(seeded, requested_date=(TODAY + timedelta(days=20)).isoformat(), contact=None)
    async with seeded() as session:
        rows = await svc.list_training_requests(session=session, filters=svc.TrainingFilter())
        assert [r.request.id for r in rows] == [second.id, first.id]  # soonest first
        assert [(r.customer_code, r.contact_email) for r in rows] == [
            ("CABLEANDINA", None),
            ("CABLEANDINA", "luis.perez@cableandina.example"),
        ]
        caribe, _ = await svc.requester(session=session, customer_code="TELECARIBE", contact_email=None)
        assert (
            await svc.list_training_requests(session=session, filters=svc.TrainingFilter(customer_id=caribe.id)) == []
        )
        assert await svc.list_training_requests(session=session, filters=svc.TrainingFilter(status="confirmed")) == []
        with pytest.raises(InvalidInput):
            await svc.list_training_requests(session=session, filters=svc.TrainingFilter(status="nope"))
