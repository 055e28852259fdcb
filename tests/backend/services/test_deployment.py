"""Deployment plans: the five stages, moves forward and back, history with authors.

docs/support-plan.md#deployment-plan
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Customer
from promptlink.models.deployment import STAGES
from promptlink.services import deployment as svc
from promptlink.services.errors import InvalidInput, NotFound

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
SUPERVISOR = "supervisor@promptlink.example"


def test_the_five_stages_are_the_support_plans() -> None:
    assert list(STAGES) == [1, 2, 3, 4, 5]
    assert STAGES[1] == "Análisis de las necesidades y de las limitaciones del cliente"
    assert STAGES[5] == "Finalización y comisionamiento para servicio comercial"


@pytest.mark.parametrize(
    ("current", "states"),
    [
        (1, ["current", "pending", "pending", "pending", "pending"]),
        (3, ["done", "done", "current", "pending", "pending"]),
        (5, ["done", "done", "done", "done", "current"]),
    ],
)
def test_stage_states_relative_to_the_current_stage(current: int, states: list[str]) -> None:
    views = svc.stage_states(current)
    assert [v.state for v in views] == states
    assert [(v.number, v.name) for v in views] == list(STAGES.items())


async def test_the_demo_plans_and_their_history(seeded) -> None:
    async with seeded() as session:
        andina = await svc.get_customer(session=session, code="CABLEANDINA")
        plan = await svc.get_plan(session=session, customer=andina)
        assert plan.stage == 4 and plan.stage_name == STAGES[4]
        assert [c.stage for c in plan.history] == [1, 2, 3, 4]
        caribe = await svc.get_customer(session=session, code="TELECARIBE")
        assert (await svc.get_plan(session=session, customer=caribe)).stage == 2
        with pytest.raises(NotFound):
            await svc.get_customer(session=session, code="NADIE")


async def test_moving_forward_and_back_is_logged_with_author_and_note(seeded) -> None:
    async with transaction(seeded) as session:
        caribe = await svc.get_customer(session=session, code="TELECARIBE")
        plan = await svc.move_stage(
            session=session, customer=caribe, stage=3, note=" Diseño aprobado ", author=SUPERVISOR, now=NOW
        )
        assert (plan.stage, plan.updated_at) == (3, NOW)
    later = NOW + timedelta(days=3)
    async with transaction(seeded) as session:
        caribe = await svc.get_customer(session=session, code="TELECARIBE")
        plan = await svc.move_stage(
            session=session,
            customer=caribe,
            stage=2,
            note="Falta un requisito",
            author="l1@promptlink.example",
            now=later,
        )
    async with seeded() as session:
        caribe = await svc.get_customer(session=session, code="TELECARIBE")
        plan = await svc.get_plan(session=session, customer=caribe)
        assert plan.stage == 2
        assert [(c.stage, c.note, c.author) for c in plan.history[-2:]] == [
            (3, "Diseño aprobado", SUPERVISOR),
            (2, "Falta un requisito", "l1@promptlink.example"),
        ]
        assert plan.history[-1].at == later


async def test_invalid_stages_are_refused_in_spanish(seeded) -> None:
    for stage in (0, 6, "3", 2.5, True, None):
        async with transaction(seeded) as session:
            caribe = await svc.get_customer(session=session, code="TELECARIBE")
            with pytest.raises(InvalidInput) as refused:
                await svc.move_stage(session=session, customer=caribe, stage=stage, note="", author=SUPERVISOR, now=NOW)
        assert refused.value.public == "La etapa debe ser un número del 1 al 5.", stage


async def test_the_same_stage_or_a_bad_note_is_refused(seeded) -> None:
    async with transaction(seeded) as session:
        caribe = await svc.get_customer(session=session, code="TELECARIBE")
        with pytest.raises(InvalidInput) as same:
            await svc.move_stage(session=session, customer=caribe, stage=2, note="", author=SUPERVISOR, now=NOW)
        assert "ya está en la etapa 2" in same.value.public
        with pytest.raises(InvalidInput):
            await svc.move_stage(session=session, customer=caribe, stage=3, note=42, author=SUPERVISOR, now=NOW)


async def test_a_customer_without_a_plan_gets_one_on_its_first_move(seeded) -> None:
    async with transaction(seeded) as session:
        newcomer = Customer(
            code="NUEVO", name="Nuevo S.A.", timezone="UTC", business_start=time(8), business_end=time(18)
        )
        session.add(newcomer)
        await session.flush()
        with pytest.raises(NotFound) as missing:
            await svc.get_plan(session=session, customer=newcomer)
        assert missing.value.public == "El cliente no tiene un plan de despliegue."
        plan = await svc.move_stage(
            session=session, customer=newcomer, stage=1, note="Inicio", author=SUPERVISOR, now=NOW
        )
        assert plan.stage == 1 and [(c.stage, c.author) for c in plan.history] == [(1, SUPERVISOR)]
