"""The SQLite adapter with one thread hand-off per statement (infra/sqlite_driver.py): what a
statement returns, counts and raises is what the stock aiosqlite adapter gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from promptlink.infra import sqlite_driver
from promptlink.infra.db import create_engine
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError

METADATA = MetaData()
ITEMS = Table("items", METADATA, Column("id", Integer, primary_key=True), Column("name", String(20), unique=True))


async def test_statements_return_rows_counts_and_errors_as_before(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    try:
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.dbapi_connection.cursor(), sqlite_driver.OneHopCursor)
            await conn.run_sync(METADATA.create_all)
            first = await conn.execute(insert(ITEMS).values(name="a"))
            assert first.inserted_primary_key == (1,)  # from the cursor's lastrowid
            many = await conn.execute(insert(ITEMS), [{"name": "b"}, {"name": "c"}, {"name": "d"}])
            assert many.rowcount == 3
            assert (
                await conn.execute(update(ITEMS).where(ITEMS.c.id > 2).values(name=ITEMS.c.name + "!"))
            ).rowcount == 2
            assert (await conn.execute(select(ITEMS.c.name).order_by(ITEMS.c.id))).scalars().all() == [
                "a",
                "b",
                "c!",
                "d!",
            ]
            assert (await conn.execute(text("SELECT 1 WHERE 0"))).all() == []
            returned = await conn.execute(insert(ITEMS).values(name="e").returning(ITEMS.c.id, ITEMS.c.name))
            assert returned.one() == (5, "e")
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(insert(ITEMS).values(name="a"))
        async with engine.connect() as conn:  # the failed transaction left nothing
            assert await conn.scalar(select(ITEMS.c.id).where(ITEMS.c.name == "a")) == 1
            assert len((await conn.execute(select(ITEMS))).all()) == 5
    finally:
        await engine.dispose()
