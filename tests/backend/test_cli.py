"""`python -m promptlink backup|restore` as an operator runs them: real subprocesses against a running
backend that keeps writing (SQLite's online backup gives a consistent copy), then a restore into a
fresh deployment, a refusal of a non-empty one and of a corrupt backup."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import uuid
from pathlib import Path

import httpx

from testkit.demo import agent_headers
from testkit.processes import BACKEND_PY, ROOT, base_env, start_lone_backend, stopping


def promptlink(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BACKEND_PY), "-m", "promptlink", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def contents(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of a SQLite file, in rowid order."""
    with sqlite3.connect(database) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        tables = {name: db.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall() for name in names}  # noqa: S608
    db.close()
    return tables


def test_backup_of_a_running_backend_restores_into_a_fresh_deployment(tmp_path: Path) -> None:
    live = start_lone_backend(tmp_path / "live")
    models = Path(live.env["PROMPTLINK_MODELS_DIR"])
    models.mkdir(parents=True, exist_ok=True)
    (models / "promptlink-cafe.tar.gz").write_bytes(b"a model " * 500)
    (models / "active").write_text(f"{models / 'promptlink-cafe.tar.gz'}\n")
    backup = tmp_path / "backup"
    with stopping(live):
        headers = agent_headers(live.base_url, "supervisor@promptlink.example")
        created: list[str] = []
        stop = threading.Event()

        def write_tickets() -> None:
            with httpx.Client(base_url=f"{live.base_url}/api/v1", headers=headers, timeout=30) as client:
                while not stop.is_set():
                    body = {
                        "customer": "CABLEANDINA",
                        "contact": "luis.perez@cableandina.example",
                        "type": "configuration",
                        "title": f"Consulta {uuid.uuid4().hex[:6]}",
                        "facts": {"information_request": True},
                    }
                    response = client.post("/tickets", json=body)
                    assert response.status_code == 201, response.text
                    created.append(response.json()["number"])

        writers = [threading.Thread(target=write_tickets) for _ in range(2)]
        for writer in writers:
            writer.start()
        try:
            while len(created) < 5 and all(w.is_alive() for w in writers):
                stop.wait(0.05)
            before = len(created)
            result = promptlink(live.env, "backup", "--to", str(backup))
            during = len(created) - before
        finally:
            stop.set()
            for writer in writers:
                writer.join()
    assert result.returncode == 0, result.stderr
    assert f"Backup written to {backup}: sqlite database at revision" in result.stdout
    assert during > 0  # the backend kept creating tickets while the backup ran

    # The copy is consistent: a whole database, and every ticket with the history and acknowledgement
    # its creating transaction wrote (a copy cut between two writes would have a ticket without them).
    copy = backup / "database" / "promptlink.sqlite3"
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        tickets = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
        complete = db.execute(
            "SELECT count(*) FROM tickets t WHERE "
            "(SELECT count(*) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'created') = 1 "
            "AND (SELECT count(*) FROM outbox o WHERE o.ticket_id = t.id) >= 1"
        ).fetchone()[0]
    db.close()
    assert before <= tickets <= len(created)
    assert complete == tickets
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["active_model"] == {"relative": "promptlink-cafe.tar.gz"}

    # Restore into an empty deployment: its own var folder, models folder and reviewed NLU file.
    fresh = tmp_path / "fresh"
    env = base_env(fresh)
    restored = promptlink(env, "restore", "--from", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert f"Restored from {backup}:" in restored.stdout
    assert "rules: canned_responses, priority, routing, snmp" in restored.stdout
    assert contents(fresh / "promptlink.db") == contents(copy)
    assert (fresh / "models" / "promptlink-cafe.tar.gz").read_bytes() == b"a model " * 500
    assert (fresh / "models" / "active").read_text().strip() == str(fresh / "models" / "promptlink-cafe.tar.gz")

    # Again into the same deployment: it holds data now.
    again = promptlink(env, "restore", "--from", str(backup))
    assert again.returncode == 1
    assert "promptlink restore: the target database is not empty" in again.stderr
    assert "--force" in again.stderr

    # A corrupt backup is refused even with --force, and the deployment keeps its data.
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0x01
    copy.write_bytes(bytes(data))
    corrupt = promptlink(env, "restore", "--from", str(backup), "--force")
    assert corrupt.returncode == 1
    assert "the backup is corrupt, nothing was restored: database/promptlink.sqlite3: SHA-256" in corrupt.stderr
    with sqlite3.connect(fresh / "promptlink.db") as db:
        assert db.execute("SELECT count(*) FROM tickets").fetchone()[0] == tickets
    db.close()
