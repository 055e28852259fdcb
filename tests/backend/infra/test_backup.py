"""Backup and restore (infra/backup.py): a deployment's database, models, rules, reviewed NLU and
attachments come back whole in an empty deployment — on SQLite and on PostgreSQL; a corrupt backup
or a target that holds data is refused before anything changes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from promptlink.infra import backup as bk
from promptlink.infra.db import create_engine, create_sessionmaker, transaction
from promptlink.infra.lease import Lease
from promptlink.infra.migrate import upgrade
from promptlink.models import Base, Contact, Conversation, Customer, Message
from promptlink.services import attachments as files
from promptlink.services import tickets
from promptlink.services.demo_data import seed_demo_data
from promptlink.services.ticket_rules import IncidentFacts
from sqlalchemy import select, table, text

from testkit.databases import pg_admin, pg_url
from testkit.files import png

RULES_DIR = Path(bk.__file__).resolve().parents[1] / "rules"
RULE_NAMES = ("priority", "routing", "snmp", "canned_responses")
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def deployment(root: Path, database_url: str) -> bk.Deployment:
    return bk.Deployment(
        database_url=database_url,
        models_dir=root / "models",
        active_pointer="active",
        rules={name: root / "rules" / f"{name}.yml" for name in RULE_NAMES},
        reviewed_nlu=root / "data" / "reviewed.yml",
        attachments_dir=root / "var" / "attachments",
        var_dir=root / "var",
    )


async def _seed(database_url: str, attachments_dir: Path) -> None:
    """The demo data, a ticket with its history and acknowledgement, a conversation with messages and
    an attachment (row and file)."""
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    try:
        async with transaction(sessions) as session:
            await seed_demo_data(session=session)
        async with transaction(sessions) as session:
            customer = await session.scalar(select(Customer).where(Customer.code == "CABLEANDINA"))
            contact = await session.scalar(select(Contact).where(Contact.email == "luis.perez@cableandina.example"))
            assert customer is not None and contact is not None
            conversation = Conversation(
                id=str(uuid.uuid4()), customer_id=customer.id, contact_id=contact.id, last_seq=2, created_at=NOW
            )
            session.add(conversation)
            await session.flush()
            session.add_all(
                [
                    Message(conversation_id=conversation.id, seq=1, role="customer", text="la red está caída"),
                    Message(conversation_id=conversation.id, seq=2, role="bot", text="¿Desde cuándo?"),
                ]
            )
            draft = tickets.TicketDraft(
                channel="chat",
                type="network_outage",
                title="Red caída en el nodo norte",
                customer_id=customer.id,
                contact_id=contact.id,
                conversation_id=conversation.id,
                facts=IncidentFacts(production_down=True),
            )
            created = await tickets.create_ticket(session=session, draft=draft, author="bot", now=NOW)
            store = files.AttachmentStore(attachments_dir)
            checked = files.check(png(), "captura.png", max_bytes=files.DEFAULT_MAX_BYTES)
            store.write(png(), checked.sha256)
            session.add(
                files.new_row(
                    checked,
                    uploader_kind="customer",
                    uploader_id=contact.email,
                    conversation_id=conversation.id,
                    ticket_id=created.ticket.id,
                )
            )
    finally:
        await engine.dispose()


def seed_deployment(root: Path, database_url: str) -> bk.Deployment:
    """A deployment with state everywhere: data, two models (one a candidate) with the active pointer
    on the candidate, edited rules, reviewed NLU, an attachment."""
    source = deployment(root, database_url)
    asyncio.run(_seed(database_url, source.attachments_dir))
    (source.models_dir / "candidates").mkdir(parents=True)
    (source.models_dir / "promptlink-aaaa.tar.gz").write_bytes(b"model one " * 1000)
    candidate = source.models_dir / "candidates" / "promptlink-bbbb-v2.tar.gz"
    candidate.write_bytes(b"model two " * 1000)
    (source.models_dir / "active").write_text(f"{candidate}\n", encoding="utf-8")
    for name, path in source.rules.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(RULES_DIR / f"{name}.yml", path)
    with source.rules["canned_responses"].open("a", encoding="utf-8") as handle:
        handle.write("# edited by an administrator\n")
    source.reviewed_nlu.parent.mkdir(parents=True)
    source.reviewed_nlu.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - buenas\n', "utf-8")
    return source


async def _rows(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the models (and alembic_version), ordered by primary key."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = {}
            for model_table in Base.metadata.sorted_tables:
                order = list(model_table.primary_key.columns) or list(model_table.columns)
                result = await conn.execute(select(model_table).order_by(*order))
                rows[model_table.name] = [tuple(row) for row in result]
            version = await conn.execute(select(text("version_num")).select_from(table("alembic_version")))
            rows["alembic_version"] = [tuple(row) for row in version]
            return rows
    finally:
        await engine.dispose()


def rows(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    return asyncio.run(_rows(database_url))


def tree(root: Path, skip: str | None = None) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under `root`."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != skip
    }


def file_state(d: bk.Deployment) -> dict[str, Any]:
    return {
        "models": tree(d.models_dir, skip=d.active_pointer),
        "rules": {name: tree(p.parent).get(p.name) for name, p in d.rules.items()},
        "reviewed": tree(d.reviewed_nlu.parent).get(d.reviewed_nlu.name),
        "attachments": tree(d.attachments_dir),
    }


@pytest.fixture
def target_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as `database_url`: no file yet (SQLite), or a new database
    without any table (PostgreSQL)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'target' / 'var' / 'promptlink.db'}"
        return
    name = f"promptlink_restore_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url(name)
    finally:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_round_trip_restores_every_row_and_file_into_an_empty_deployment(
    database_url: str, target_url: str, tmp_path: Path
) -> None:
    source = seed_deployment(tmp_path / "source", database_url)
    before = rows(database_url)
    assert before["tickets"] and before["messages"] and before["attachments"] and before["ticket_events"]

    manifest = bk.backup(source, tmp_path / "backup")

    assert manifest["alembic_revision"] == bk.known_revisions()[1]
    assert manifest["promptlink_version"] and manifest["created_at"]
    assert manifest["active_model"] == {"relative": "candidates/promptlink-bbbb-v2.tar.gz"}
    database_copy = tmp_path / "backup" / manifest["database"]["file"]
    if database_url.startswith("sqlite"):  # one self-contained file: no WAL mode, no -wal/-shm beside it
        assert database_copy.read_bytes()[18:20] == b"\x01\x01"
        assert sorted(p.name for p in database_copy.parent.iterdir()) == [database_copy.name]
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((tmp_path / "backup" / name).read_bytes()).hexdigest() == entry["sha256"]
    target = deployment(tmp_path / "target", target_url)

    restored = bk.restore(target, tmp_path / "backup")

    after = rows(target_url)
    assert set(after) == set(before)
    for name in before:  # table by table, for a message that names the table
        assert after[name] == before[name], name
    assert restored.tables["tickets"] == len(before["tickets"]) and restored.attachments == 1
    assert file_state(target) == file_state(source)
    assert (target.models_dir / "active").read_text().strip() == str(
        (target.models_dir / "candidates" / "promptlink-bbbb-v2.tar.gz").resolve()
    )
    assert sorted(restored.rules) == sorted(RULE_NAMES) and restored.reviewed_nlu


def test_a_corrupt_backup_is_refused_and_the_target_is_untouched(
    database_url: str, target_url: str, tmp_path: Path
) -> None:
    source = seed_deployment(tmp_path / "source", database_url)
    backup = tmp_path / "backup"
    manifest = bk.backup(source, backup)
    target = deployment(tmp_path / "target", target_url)
    [attachment] = [name for name in manifest["files"] if name.startswith("attachments/")]
    database_file = backup / manifest["database"]["file"]

    def refused(pattern: str) -> None:
        with pytest.raises(bk.BackupError, match=pattern):
            bk.restore(target, backup, force=True)
        assert not (tmp_path / "target").exists()  # no file, no folder, no SQLite database created
        if not target_url.startswith("sqlite"):
            assert bk.table_rows(target_url) == {}  # the PostgreSQL database still has no table

    data = bytearray(database_file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    database_file.write_bytes(bytes(data))
    refused(rf"backup is corrupt, nothing was restored: {manifest['database']['file']}: SHA-256 does not match")
    data[len(data) // 2] ^= 0xFF
    database_file.write_bytes(bytes(data))

    (backup / attachment).unlink()
    refused(rf"{attachment}: missing")
    (backup / attachment).write_bytes(png())
    (backup / "models" / "stray.bin").write_bytes(b"x")
    refused(r"models/stray.bin: not in the manifest")
    (backup / "models" / "stray.bin").unlink()
    (backup / "manifest.json").write_text("{not json", encoding="utf-8")
    refused(r"backup is corrupt: manifest.json cannot be read")
    (backup / "manifest.json").write_text(json.dumps(manifest | {"rules": {"priority": "../x.yml"}}), "utf-8")
    refused(r"\.\./x.yml: named by the manifest but not among its files")
    (backup / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    bk.restore(target, backup)  # whole again: it restores
    assert rows(target_url) == rows(database_url)


def test_a_target_holding_data_is_refused_unless_forced(database_url: str, tmp_path: Path) -> None:
    source = seed_deployment(tmp_path / "source", database_url)
    bk.backup(source, tmp_path / "backup")
    original = rows(database_url)
    # The deployment changes after the backup: a second ticket, a replaced model pointer.
    asyncio.run(_seed(database_url, source.attachments_dir))
    changed = rows(database_url)
    assert len(changed["tickets"]) == len(original["tickets"]) + 1

    refusal = r"target database is not empty \(agents \(5\), attachments \(2\).*--force to replace"
    with pytest.raises(bk.BackupError, match=refusal):
        bk.restore(source, tmp_path / "backup")
    assert rows(database_url) == changed  # nothing changed

    restored = bk.restore(source, tmp_path / "backup", force=True)
    assert rows(database_url) == original
    assert restored.unchanged >= 1  # the files that were already there are left as they are


def test_an_older_backup_is_migrated_after_the_restore(tmp_path: Path) -> None:
    older = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(older, "0010")
    backup = tmp_path / "backup"
    manifest = bk.backup(deployment(tmp_path / "old", older), backup)
    assert manifest["alembic_revision"] == "0010"
    target_url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'promptlink.db'}"

    restored = bk.restore(deployment(tmp_path / "new", target_url), backup)

    head = bk.known_revisions()[1]
    assert (restored.revision_in_backup, restored.revision_now) == ("0010", head)
    assert "attachments" in restored.tables  # the table 0011 adds
    assert any("migrated 0010 -> " in line for line in restored.lines())


def test_a_backup_of_an_unknown_revision_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    backup = tmp_path / "backup"
    bk.backup(deployment(tmp_path / "a", url), backup)
    copy = backup / "database" / bk.SQLITE_FILE
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    db.close()
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["alembic_revision"] = "9999"
    manifest["files"]["database/promptlink.sqlite3"] = {"sha256": bk.sha256_of(copy), "size": copy.stat().st_size}
    (backup / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(bk.BackupError, match=r"revision '9999', unknown to Promptlink"):
        bk.restore(deployment(tmp_path / "b", f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"), backup)
    assert not (tmp_path / "b.db").exists()


def test_an_active_model_outside_the_models_folder_is_kept_with_the_models(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    source = deployment(tmp_path / "a", url)
    outside = tmp_path / "project-models" / "promptlink-cccc.tar.gz"
    outside.parent.mkdir()
    outside.write_bytes(b"trained by make run")
    source.models_dir.mkdir(parents=True)
    (source.models_dir / "active").write_text(f"{outside}\n")
    manifest = bk.backup(source, tmp_path / "backup")
    assert manifest["active_model"] == {"relative": "external/promptlink-cccc.tar.gz"}
    target = deployment(tmp_path / "b", f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")

    bk.restore(target, tmp_path / "backup")

    model = target.models_dir / "external" / "promptlink-cccc.tar.gz"
    assert model.read_bytes() == b"trained by make run"
    assert (target.models_dir / "active").read_text().strip() == str(model.resolve())


def test_backup_refuses_a_folder_that_holds_files(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("x")
    with pytest.raises(bk.BackupError, match="exists and is not an empty folder"):
        bk.backup(deployment(tmp_path / "a", url), tmp_path / "taken")
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".taken")] == []  # no partial folder left
    with pytest.raises(bk.BackupError, match="inside .*models, which the backup copies"):
        bk.backup(deployment(tmp_path / "a", url), tmp_path / "a" / "models" / "backup")


def test_the_postgresql_url_becomes_libpq_form_with_the_password_in_the_environment() -> None:
    url, env = bk.libpq_url("postgresql+asyncpg://app:s3cr%40t@db.example:6543/promptlink?ssl=require")
    assert url == "postgresql://app@db.example:6543/promptlink?sslmode=require"
    assert env == {"PGPASSWORD": "s3cr@t"}
    assert bk.libpq_url("postgresql+asyncpg://postgres@127.0.0.1:5432/test") == (
        "postgresql://postgres@127.0.0.1:5432/test",
        {},
    )


class HeldLease:
    """A lease held by a live holder (a thread with its own event loop: another process, as far as
    advisory locks and lock files go) until `release()`."""

    def __init__(self, database_url: str, var_dir: Path, name: str = "cadence-sweeper") -> None:
        self.held, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._hold(database_url, var_dir, name),))
        self.thread.start()
        assert self.held.wait(30), "the lease was not taken"

    async def _hold(self, database_url: str, var_dir: Path, name: str) -> None:
        engine = create_engine(database_url)
        lease = Lease(name, sessions=create_sessionmaker(engine), var_dir=var_dir)
        try:
            assert await lease.try_acquire()
            self.held.set()
            await asyncio.to_thread(self.done.wait)
        finally:
            await lease.close()
            await engine.dispose()

    def release(self) -> None:
        self.done.set()
        self.thread.join(30)


def test_a_restore_is_refused_while_promptlink_runs_on_the_deployment(database_url: str, tmp_path: Path) -> None:
    """Restoring under a running backend would swap its database away mid-transaction; a live process
    holds its singleton leases, so a held lease means «running» (even with --force)."""
    source = seed_deployment(tmp_path / "source", database_url)
    bk.backup(source, tmp_path / "backup")
    asyncio.run(_seed(database_url, source.attachments_dir))
    assert source.var_dir is not None
    running = HeldLease(database_url, source.var_dir)
    try:
        changed = rows(database_url)  # the lease's row included
        with pytest.raises(bk.BackupError, match=r"Promptlink is running .*cadence-sweeper.*stop every backend"):
            bk.restore(source, tmp_path / "backup", force=True)
        assert rows(database_url) == changed  # nothing changed
    finally:
        running.release()
    bk.restore(source, tmp_path / "backup", force=True)  # stopped: the lease row stays, nobody holds it
    assert len(rows(database_url)["tickets"]) == len(changed["tickets"]) - 1
