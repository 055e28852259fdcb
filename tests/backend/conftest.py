"""Fixtures for data-layer tests: an engine and session factory on each database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from promptlink.infra.db import create_engine, create_sessionmaker, transaction
from promptlink.services.demo_data import seed_demo_data
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest_asyncio.fixture
async def seeded(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    async with transaction(sessions) as session:
        await seed_demo_data(session=session)
    return sessions
