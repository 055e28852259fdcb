"""`bot.tracker_store.PromptlinkSQLTrackerStore` against Rasa's own `SQLTrackerStore` (bot environment).

Run by `scripts/test.sh` with the bot's Python (Rasa is not installed in the backend's).
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path
from typing import Any, List

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import PromptlinkSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def session(t0: float, text: str) -> List[Any]:
    """One conversation session as Rasa logs it: start, a user turn with its parse, a reply, a slot.

    `action_session_start` is logged first but stamped after the `session_started` its run made.
    """
    return [
        ActionExecuted("action_session_start", timestamp=t0 + 0.1),
        SessionStarted(timestamp=t0),
        ActionExecuted("action_listen", timestamp=t0 + 0.2),
        UserUttered(
            text,
            {"name": "greet", "confidence": 0.97},
            [],
            {"intent": {"name": "greet", "confidence": 0.97}, "entities": [], "text": text},
            timestamp=t0 + 0.3,
            metadata={"conversation_id": "c-1"},
        ),
        SlotSet("customer_code", "CABLEANDINA", timestamp=t0 + 0.4),
        ActionExecuted("utter_greet", timestamp=t0 + 0.5),
        BotUttered("¡Hola!", {"elements": None}, {"utter_action": "utter_greet"}, timestamp=t0 + 0.6),
        ActionExecuted("action_listen", timestamp=t0 + 0.7),
    ]


def as_dicts(tracker: DialogueStateTracker | None) -> list[dict[str, Any]]:
    assert tracker is not None
    return [event.as_dict() for event in tracker.events]


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    return str(tmp_path / "tracker.db")


def stores(**kwargs: Any) -> tuple[PromptlinkSQLTrackerStore, SQLTrackerStore]:
    return PromptlinkSQLTrackerStore(domain=DOMAIN, **kwargs), SQLTrackerStore(domain=DOMAIN, **kwargs)


def check_same_answers_as_rasa(ours: PromptlinkSQLTrackerStore, rasas: SQLTrackerStore) -> None:
    sender = f"s-{uuid.uuid4()}"
    first, second = session(1_000.0, "hola"), session(2_000.0, "buenas tardes")
    tracker = DialogueStateTracker.from_events(sender, first, DOMAIN.slots)
    run(ours.save(tracker))
    run(ours.save(tracker))  # saving again stores nothing twice
    for event in second:
        tracker.update(event)
    run(ours.save(tracker))

    latest = run(ours.retrieve(sender))
    assert as_dicts(latest) == as_dicts(run(rasas.retrieve(sender)))
    assert [e["event"] for e in as_dicts(latest)][:2] == ["action", "session_started"]
    assert as_dicts(latest)[3]["text"] == "buenas tardes"  # only the latest session
    assert len(latest.events) == len(second)
    assert latest.get_slot("customer_code") == "CABLEANDINA"
    assert latest.latest_message.parse_data["intent"]["name"] == "greet"

    full = run(ours.retrieve_full_tracker(sender))
    assert as_dicts(full) == as_dicts(run(rasas.retrieve_full_tracker(sender)))
    assert len(full.events) == len(first) + len(second)

    # What Rasa's store writes, ours reads, and the other way round; the stored rows are alike.
    other = f"s-{uuid.uuid4()}"
    run(rasas.save(DialogueStateTracker.from_events(other, first, DOMAIN.slots)))
    assert as_dicts(run(ours.retrieve(other))) == as_dicts(run(rasas.retrieve(other)))
    with ours.session_scope() as s:
        rows = (
            s.query(ours.SQLEvent.type_name, ours.SQLEvent.intent_name, ours.SQLEvent.action_name)
            .filter(ours.SQLEvent.sender_id.in_([sender, other]))
            .order_by(ours.SQLEvent.id)
            .all()
        )
    assert rows[: len(first)] == rows[-len(first) :]
    assert ("user", "greet", None) in rows and ("action", None, "utter_greet") in rows

    assert run(ours.retrieve(f"s-{uuid.uuid4()}")) is None


def test_sqlite_answers_like_rasas_store(sqlite_db: str) -> None:
    check_same_answers_as_rasa(*stores(dialect="sqlite", db=sqlite_db))


def test_sqlite_file_is_in_wal_mode_with_a_busy_timeout(sqlite_db: str) -> None:
    ours = PromptlinkSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=sqlite_db)
    run(ours.save(DialogueStateTracker.from_events("wal", session(1.0, "hola"), DOMAIN.slots)))
    assert sqlite3.connect(sqlite_db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with ours.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_two_stores_on_one_file_see_each_others_writes(sqlite_db: str) -> None:
    """Two Rasa processes share the file: what one saves, the other reads at once."""
    a = PromptlinkSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=sqlite_db)
    b = PromptlinkSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=sqlite_db)
    tracker = DialogueStateTracker.from_events("shared", session(1.0, "hola"), DOMAIN.slots)
    run(a.save(tracker))
    seen = run(b.retrieve("shared"))
    seen.update(UserUttered("gracias", {"name": "thank", "confidence": 0.9}, timestamp=5.0))
    run(b.save(seen))
    assert [e["event"] for e in as_dicts(run(a.retrieve("shared")))][-1] == "user"
    assert len(run(a.retrieve("shared")).events) == len(tracker.events) + 1


def _postgres_available() -> str | None:
    try:
        import psycopg2

        psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test", connect_timeout=2).close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"PostgreSQL on 127.0.0.1:5432 (database test) is not reachable: {exc}"
    return None


@pytest.mark.postgres
def test_postgresql_answers_like_rasas_store(monkeypatch: pytest.MonkeyPatch) -> None:
    reason = _postgres_available()
    if reason:
        pytest.skip(reason)
    import psycopg2

    schema = f"rasa_tracker_{uuid.uuid4().hex[:8]}"  # Rasa's POSTGRESQL_SCHEMA: a schema of its own
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE SCHEMA {schema}")
    monkeypatch.setenv("POSTGRESQL_SCHEMA", schema)
    try:
        ours, rasas = stores(dialect="postgresql", host="127.0.0.1", port=5432, db="test", username="postgres")
        check_same_answers_as_rasa(ours, rasas)
        ours.engine.dispose()
        rasas.engine.dispose()
    finally:
        admin.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def test_the_form_open_after_a_saved_turn_is_remembered(sqlite_db: str) -> None:
    """What the `promptlink` channel answers as `active_loop`: the form whose question the bot waits on."""
    from rasa.shared.core.events import ActiveLoop

    ours, _ = stores(db=sqlite_db)
    sender = f"form-{uuid.uuid4()}"
    assert ours.active_loop_of(sender) == (False, None)  # not saved by this process: the channel reads it
    tracker = DialogueStateTracker.from_events(sender, session(1000.0, "quiero reportar una falla"), DOMAIN.slots)
    run(ours.save(tracker))
    assert ours.active_loop_of(sender) == (True, None)
    tracker.update(ActiveLoop("incident_form", timestamp=1001.0))
    run(ours.save(tracker))
    assert ours.active_loop_of(sender) == (True, "incident_form")
    tracker.update(ActiveLoop(None, timestamp=1002.0))  # the form was completed (its question answered)
    run(ours.save(tracker))
    assert ours.active_loop_of(sender) == (True, None)
