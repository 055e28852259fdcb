"""Backup and restore benchmark: `promptlink.infra.backup` on a database of a given size, while a
writer keeps committing.

Run with the backend environment, from the repository root:

    .venv/bin/python bench/backup.py [--db sqlite|postgresql|all] [--messages N] [--attachments K]
                                     [--out FILE.json]

For each database kind: a fresh database (a SQLite file in WAL mode, or a throwaway PostgreSQL
database; skipped with the reason when PostgreSQL is not reachable) migrated and seeded with the
demo data, then N chat messages (default 200,000, 20 per conversation) bulk-inserted, and K
attachment files of 64 KB (default 100). A writer thread commits one message per transaction
all along; its commit latency is reported for 3 s before the backup (baseline) and during the
backup. Then `backup()` and `restore()` into a second fresh database are timed, and the backup's
size reported. Databases and folders are removed on exit, Ctrl-C or error. It prints figures and
never asserts anything about timing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import DatabaseUnavailable, database, log
from measure import machine_info, summary, tree_state, write_report

BASELINE_SECONDS = 3.0


async def _load(url: str, messages: int) -> None:
    from promptlink.infra.db import create_engine, create_sessionmaker, transaction
    from promptlink.models import Conversation, Message
    from promptlink.services.demo_data import seed_demo_data
    from sqlalchemy import insert

    engine = create_engine(url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            await seed_demo_data(session=session)
        now = datetime.now(UTC)
        per = 20
        conversations = [str(uuid.uuid4()) for _ in range(max(1, messages // per))]
        async with engine.begin() as conn:
            for start in range(0, len(conversations), 5000):
                rows = [
                    {"id": c, "mode": "bot", "last_seq": per, "created_at": now, "updated_at": now}
                    for c in conversations[start : start + 5000]
                ]
                await conn.execute(insert(Conversation), rows)
        for start in range(0, messages, 10000):
            batch = [
                {
                    "conversation_id": conversations[i // per % len(conversations)],
                    "seq": i % per + 1,
                    "role": "customer" if i % 2 == 0 else "bot",
                    "text": f"mensaje {i}: la red del nodo {i % 97} no responde desde las {i % 24} horas",
                    "created_at": now,
                }
                for i in range(start, min(messages, start + 10000))
            ]
            async with engine.begin() as conn:
                await conn.execute(insert(Message), batch)
    finally:
        await engine.dispose()


class Writer(threading.Thread):
    """Commits one message per transaction until stopped; latencies in ms with their start time."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._write())
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc

    async def _write(self) -> None:
        from promptlink.infra.db import create_engine
        from promptlink.models import Conversation, Message
        from sqlalchemy import insert

        engine = create_engine(self.url)
        conversation = str(uuid.uuid4())
        try:
            async with engine.begin() as conn:
                await conn.execute(insert(Conversation).values(id=conversation, mode="bot", last_seq=0))
            seq = 0
            while not self.stop.is_set():
                seq += 1
                started = time.perf_counter()
                async with engine.begin() as conn:
                    await conn.execute(
                        insert(Message).values(conversation_id=conversation, seq=seq, role="customer", text="hola")
                    )
                self.samples.append((started, (time.perf_counter() - started) * 1000))
                await asyncio.sleep(0.01)
        finally:
            await engine.dispose()

    def between(self, start: float, end: float) -> list[float]:
        return [ms for at, ms in self.samples if start <= at < end]


def _deployment(root: Path, url: str) -> Any:
    from promptlink.infra.backup import Deployment

    return Deployment(
        database_url=url,
        models_dir=root / "models",
        active_pointer="active",
        rules={},
        reviewed_nlu=root / "reviewed.yml",
        attachments_dir=root / "attachments",
    )


def run_kind(kind: str, work: Path, messages: int, attachments: int) -> dict[str, Any]:
    from promptlink.infra import backup as bk
    from promptlink.infra.migrate import upgrade

    with database(kind, work, "source") as source_url, database(kind, work, "target") as target_url:
        upgrade(source_url)
        started = time.perf_counter()
        asyncio.run(_load(source_url, messages))
        log(f"{kind}: {messages} messages loaded in {time.perf_counter() - started:.1f} s")
        source = _deployment(work / f"{kind}-source", source_url)
        for i in range(attachments):
            data = os.urandom(64 * 1024)
            path = source.attachments_dir / f"{i:02x}"[:2] / f"{i:064x}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        writer = Writer(source_url)
        writer.start()
        time.sleep(BASELINE_SECONDS)
        backup_start = time.perf_counter()
        manifest = bk.backup(source, work / f"{kind}-backup")
        backup_end = time.perf_counter()
        writer.stop.set()
        writer.join()
        if writer.error:
            raise writer.error
        size = sum(f["size"] for f in manifest["files"].values())
        database_size = manifest["files"][manifest["database"]["file"]]["size"]
        restore_start = time.perf_counter()
        restored = bk.restore(_deployment(work / f"{kind}-target", target_url), work / f"{kind}-backup")
        restore_seconds = time.perf_counter() - restore_start
        baseline = writer.between(backup_start - BASELINE_SECONDS, backup_start)
        during = writer.between(backup_start, backup_end)
        return {
            "messages": messages,
            "attachments": attachments,
            "backup_seconds": round(backup_end - backup_start, 2),
            "restore_seconds": round(restore_seconds, 2),
            "backup_mb": round(size / 1e6, 1),
            "database_file_mb": round(database_size / 1e6, 1),
            "rows_restored": sum(restored.tables.values()),
            "writer_commits_during_backup": len(during),
            "writer_commit_ms_baseline": summary(baseline) if baseline else None,
            "writer_commit_ms_during_backup": summary(during) if during else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--attachments", type=int, default=100)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine_info(), "tree": tree_state(), "scenarios": {}}
    work = Path(tempfile.mkdtemp(prefix="promptlink-bench-backup-"))
    try:
        for kind in ("sqlite", "postgresql") if args.db == "all" else (args.db,):
            try:
                figures = run_kind(kind, work, args.messages, args.attachments)
            except DatabaseUnavailable as exc:
                log(f"{kind}: skipped: {exc}")
                continue
            report["scenarios"][kind] = figures
            print(f"\n{kind}:")
            for key, value in figures.items():
                print(f"  {key:34} {value}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_report(report, args.out)


if __name__ == "__main__":
    main()
