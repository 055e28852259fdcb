"""What-if variants of the backend's database layer, for measuring a proposal before anyone edits
`promptlink`: each patches `promptlink.db` in memory at start-up, nothing on disk.

    app                  the code as it is (no patch)
    sqlite-normal        PRAGMA synchronous=NORMAL on every SQLite connection (WAL stays on):
                         a commit no longer waits for an fsync of the WAL
    sqlite-writer-queue  write transactions (`promptlink.infra.db.transaction`) wait their turn on one
                         asyncio.Lock per process, first come first served, instead of in SQLite's
                         busy handler (which sleeps 1 to 100 ms between attempts)
    sqlite-both          both of the above

Used by `tickets.py --variant NAME`: in-process for the service scenario, and for the HTTP
scenario as the backend's entry point (`python bench/variants.py NAME`, which then runs
`python -m promptlink serve`). The patches touch SQLite engines only.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

VARIANTS = ("app", "sqlite-normal", "sqlite-writer-queue", "sqlite-both")


def apply(name: str) -> None:
    """Patch `promptlink.db` for variant `name`; call before anything imports `transaction` by name."""
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; one of {', '.join(VARIANTS)}")
    if name == "app":
        return
    import promptlink.infra.db as db
    from sqlalchemy import event

    original_engine, original_transaction = db.create_engine, db.transaction
    normal = name in ("sqlite-normal", "sqlite-both")
    queue = name in ("sqlite-writer-queue", "sqlite-both")

    def create_engine(url: str, **kwargs: Any) -> Any:
        engine = original_engine(url, **kwargs)
        if normal and url.startswith("sqlite"):

            @event.listens_for(engine.sync_engine, "connect")
            def _synchronous_normal(dbapi_conn: Any, _record: Any) -> None:
                cursor = dbapi_conn.cursor()
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

        return engine

    writers = asyncio.Lock()

    @asynccontextmanager
    async def transaction(sessions: Any) -> AsyncIterator[Any]:
        if not (queue and sessions.kw["bind"].dialect.name == "sqlite"):
            async with original_transaction(sessions) as session:
                yield session
            return
        async with writers, original_transaction(sessions) as session:
            yield session

    db.create_engine = create_engine  # type: ignore[assignment]
    db.transaction = transaction  # type: ignore[assignment]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
    apply(sys.argv[1])
    from promptlink.cli import main

    main(["serve"])
