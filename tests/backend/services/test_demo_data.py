from __future__ import annotations

from promptlink.infra.db import transaction
from promptlink.models import Agent, Contact, Contract, Customer, DeploymentPlan, Device
from promptlink.services.demo_data import DEMO_AGENTS, seed_demo_data
from promptlink.services.passwords import verify_password
from sqlalchemy import func, select


async def test_seeding_twice_creates_nothing_the_second_time(sessions) -> None:
    async with transaction(sessions) as session:
        first = await seed_demo_data(session=session)
    async with transaction(sessions) as session:
        second = await seed_demo_data(session=session)
    assert first == {"customers": 2, "contacts": 3, "devices": 3, "contracts": 3, "agents": 5, "plans": 2}
    assert set(second.values()) == {0}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 2


async def test_the_documented_demo_data_is_there(seeded) -> None:
    async with seeded() as session:
        andina = await session.scalar(select(Customer).where(Customer.code == "CABLEANDINA"))
        assert andina.name == "Cable Andina S.A." and andina.timezone == "America/Bogota"
        assert (andina.business_start.hour, andina.business_end.hour) == (8, 18)
        kinds = set(await session.scalars(select(Contract.kind).where(Contract.customer_id == andina.id)))
        assert kinds == {"software", "hardware"}
        caribe = await session.scalar(select(Customer).where(Customer.code == "TELECARIBE"))
        assert set(await session.scalars(select(Contract.kind).where(Contract.customer_id == caribe.id))) == {
            "software"
        }
        ana = await session.scalar(select(Contact).where(Contact.email == "ana.gomez@cableandina.example"))
        assert ana.notification_party is True
        devices = {d.name: d.mgmt_address for d in await session.scalars(select(Device))}
        assert devices == {"cmts-bog-01": "127.0.0.21", "cmts-bog-02": "127.0.0.22", "olt-sdq-01": "127.0.0.31"}
        stages = {p.customer_id: p.stage for p in await session.scalars(select(DeploymentPlan))}
        assert len(set(stages.values())) == 2  # different stages per customer
        for demo in DEMO_AGENTS:
            agent = await session.scalar(select(Agent).where(Agent.email == demo.email))
            assert verify_password(demo.password, agent.password_hash)
            assert not verify_password("wrong", agent.password_hash)
