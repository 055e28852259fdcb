"""The fixed demo data that docs, tests and examples name. Seeding is idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Agent, Contact, Contract, Customer, DeploymentPlan, DeploymentStageChange, Device
from promptlink.services.passwords import hash_password, verify_password


@dataclass(frozen=True)
class DemoAgent:
    email: str
    name: str
    role: str
    tiers: str
    password: str
    on_call: bool = False


DEMO_AGENTS = (
    DemoAgent("l1@promptlink.example", "Laura Nivel Uno", "agent", "L1", "demo-l1-pass"),
    DemoAgent("l2@promptlink.example", "Diego Nivel Dos", "agent", "L2", "demo-l2-pass"),
    DemoAgent("l3@promptlink.example", "Sofía Nivel Tres", "agent", "L3", "demo-l3-pass", on_call=True),
    DemoAgent("supervisor@promptlink.example", "Carlos Supervisor", "supervisor", "L1,L2,L3", "demo-supervisor-pass"),
    DemoAgent("admin@promptlink.example", "Admin Promptlink", "admin", "", "demo-admin-pass"),
)


@dataclass(frozen=True)
class DemoCustomer:
    code: str
    name: str
    timezone: str
    contracts: tuple[str, ...]
    contacts: tuple[tuple[str, str, bool], ...]  # e-mail, name, notification party
    devices: tuple[tuple[str, str, str, str], ...]  # name, serial, model, management address
    stage: int  # deployment plan stage (1-5)


CUSTOMERS = (
    DemoCustomer(
        code="CABLEANDINA",
        name="Cable Andina S.A.",
        timezone="America/Bogota",
        contracts=("software", "hardware"),
        contacts=(
            ("ana.gomez@cableandina.example", "Ana Gómez", True),
            ("luis.perez@cableandina.example", "Luis Pérez", False),
        ),
        devices=(
            ("cmts-bog-01", "PLK-CMTS-0001", "PL-CMTS 3200", "127.0.0.21"),
            ("cmts-bog-02", "PLK-CMTS-0002", "PL-CMTS 3200", "127.0.0.22"),
        ),
        stage=4,
    ),
    DemoCustomer(
        code="TELECARIBE",
        name="TeleCaribe Comunicaciones",
        timezone="America/Santo_Domingo",
        contracts=("software",),
        contacts=(("maria.rodriguez@telecaribe.example", "María Rodríguez", True),),
        devices=(("olt-sdq-01", "PLK-OLT-0101", "PL-OLT 1600", "127.0.0.31"),),
        stage=2,
    ),
)

CONTRACT_START = date(2026, 1, 1)
CONTRACT_END = date(2027, 12, 31)


async def seed_demo_data(*, session: AsyncSession) -> dict[str, int]:
    """Insert whatever of the demo data is missing; returns counts of rows created."""
    created = {"customers": 0, "contacts": 0, "devices": 0, "contracts": 0, "agents": 0, "plans": 0}
    for spec in CUSTOMERS:
        customer = await session.scalar(select(Customer).where(Customer.code == spec.code))
        if customer is None:
            customer = Customer(
                code=spec.code,
                name=spec.name,
                timezone=spec.timezone,
                business_start=time(8, 0),
                business_end=time(18, 0),
            )
            session.add(customer)
            await session.flush()
            created["customers"] += 1
        kinds = {c.kind for c in await session.scalars(select(Contract).where(Contract.customer_id == customer.id))}
        for kind in spec.contracts:
            if kind not in kinds:
                session.add(
                    Contract(customer_id=customer.id, kind=kind, starts_on=CONTRACT_START, ends_on=CONTRACT_END)
                )
                created["contracts"] += 1
        for email, name, notify in spec.contacts:
            if await session.scalar(select(Contact.id).where(Contact.email == email)) is None:
                session.add(Contact(customer_id=customer.id, email=email, name=name, notification_party=notify))
                created["contacts"] += 1
        for dev_name, serial, model, address in spec.devices:
            if await session.scalar(select(Device.id).where(Device.name == dev_name)) is None:
                session.add(
                    Device(customer_id=customer.id, name=dev_name, serial=serial, model=model, mgmt_address=address)
                )
                created["devices"] += 1
        if await session.scalar(select(DeploymentPlan.id).where(DeploymentPlan.customer_id == customer.id)) is None:
            plan = DeploymentPlan(customer_id=customer.id, stage=spec.stage)
            session.add(plan)
            await session.flush()
            for stage in range(1, spec.stage + 1):
                session.add(
                    DeploymentStageChange(plan_id=plan.id, stage=stage, note="Datos de demostración", author="seed")
                )
            created["plans"] += 1
    for demo in DEMO_AGENTS:
        agent = await session.scalar(select(Agent).where(Agent.email == demo.email))
        if agent is None:
            session.add(
                Agent(
                    email=demo.email,
                    name=demo.name,
                    role=demo.role,
                    tiers=demo.tiers,
                    password_hash=hash_password(demo.password),
                    on_call=demo.on_call,
                )
            )
            created["agents"] += 1
        elif not verify_password(demo.password, agent.password_hash):
            # Keep demo logins as printed: a demo database is reset to the documented passwords.
            agent.password_hash = hash_password(demo.password)
    await session.flush()
    return created


async def demo_contacts(*, session: AsyncSession) -> list[Contact]:
    """The contacts of the demo customers, for the demo site's identity chooser."""
    codes = [spec.code for spec in CUSTOMERS]
    rows = await session.scalars(
        select(Contact).join(Customer).where(Customer.code.in_(codes)).order_by(Customer.code, Contact.email)
    )
    return list(rows)
