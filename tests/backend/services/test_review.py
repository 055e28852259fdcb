"""The review inbox: which messages land in it, grouping, labels, the reviewed NLU file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from promptlink.infra.db import transaction
from promptlink.models import AuditLog
from promptlink.services import conversations as conv_svc
from promptlink.services import review
from promptlink.services.errors import InvalidInput
from promptlink.services.nlu_files import examples, normalise, read_vocabulary
from promptlink.vocabulary import INTENT_NAMES
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
THRESHOLD = 0.55


async def _chat(sessions, *turns: tuple[str, str | None, float | None] | str) -> list[int]:
    """A conversation of customer messages (text, intent, confidence); '/request_human' as a button."""
    async with transaction(sessions) as session:
        conversation = await conv_svc.open_conversation(
            session=session, identity=None, conversation_id=None, resume_grant=None
        )
        ids = []
        for turn in turns:
            if isinstance(turn, str):
                appended = await conv_svc.append_message(
                    session=session, conversation_id=conversation.id, role="customer", text="", payload=turn
                )
            else:
                text, intent, confidence = turn
                appended = await conv_svc.append_message(
                    session=session,
                    conversation_id=conversation.id,
                    role="customer",
                    text=text,
                    intent=intent,
                    confidence=confidence,
                )
                await conv_svc.append_message(
                    session=session, conversation_id=conversation.id, role="bot", text="respuesta"
                )
            ids.append(appended.message.id)
        return ids


async def test_inbox_has_weak_fallback_and_before_a_person_and_groups_similar(sessions) -> None:
    [weak] = await _chat(sessions, ("necesito que me manden el instalador de la version nueva", "ask_training", 0.31))
    [similar] = await _chat(sessions, ("necesito que me manden el instalador de la versión nueva!", "greet", 0.4))
    [fallback] = await _chat(sessions, ("xq el coso no anda", "nlu_fallback", 0.2))
    before, _ask = await _chat(
        sessions,
        ("el portal me bota a cada rato", "ask_ticket_status", 0.92),
        ("quiero una persona", "request_human", 0.97),
    )
    before_button, _button = await _chat(sessions, ("la vaina sigue igual", "affirm", 0.81), "/request_human")
    [fine] = await _chat(sessions, ("hola", "greet", 0.99))

    async with sessions() as session:
        items = await review.inbox(session=session, threshold=THRESHOLD)
    reasons = {i.message.id: i.reason for i in items}
    assert reasons == {
        weak: "low_confidence",
        similar: "low_confidence",
        fallback: "fallback",
        before: "human_after",
        before_button: "human_after",
    }
    assert fine not in reasons
    groups = review.group_similar(items)
    assert sorted(i.message.id for i in groups[0].items) == sorted([weak, similar])
    assert len(groups) == 4
    assert groups[0].to_json()["count"] == 2


async def test_label_writes_the_reviewed_file_and_leaves_the_inbox(sessions, tmp_path: Path) -> None:
    vocabulary = read_vocabulary(ROOT)
    a, b = await _chat(
        sessions,
        ("necesito que me manden el instalador de la version nueva", "ask_training", 0.31),
        ("el cmts-bog-01 se reinicia solo", "greet", 0.2),
    )
    [c] = await _chat(sessions, ("quiero exportar mis tiquetes a excel", None, None))
    async with transaction(sessions) as session:
        await review.label(
            session=session,
            message_id=a,
            intent="ask_contact_channels",
            entities=[],
            vocabulary=vocabulary,
            actor="admin@promptlink.example",
            now=NOW,
        )
        await review.label(
            session=session,
            message_id=b,
            intent="report_hardware_failure",
            entities=[{"start": 3, "end": 14, "entity": "device"}],
            vocabulary=vocabulary,
            actor="admin@promptlink.example",
            now=NOW,
        )
        await review.label(
            session=session,
            message_id=c,
            intent="export_tickets",
            entities=None,
            vocabulary=vocabulary,
            actor="admin@promptlink.example",
            now=NOW,
        )
        path = tmp_path / "data" / "nlu" / "reviewed.yml"
        written = await review.export_reviewed(session=session, vocabulary=vocabulary, path=path)
    assert written == 2  # the new intent stays out of the project's file (docs/admin.md)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["version"] == "3.1"
    assert examples(path) == [
        ("ask_contact_channels", "necesito que me manden el instalador de la version nueva"),
        ("report_hardware_failure", "el [cmts-bog-01](device) se reinicia solo"),
    ]
    async with sessions() as session:
        assert [i.message.id for i in await review.inbox(session=session, threshold=THRESHOLD)] == []
        audit = list(await session.scalars(select(AuditLog).order_by(AuditLog.id)))
        pairs = await review.labelled_examples(session=session)
    assert [e.action for e in audit] == ["review.label"] * 3
    assert audit[2].detail["new_intent"] is True
    assert review.new_intents(pairs, vocabulary) == ["export_tickets"]
    # Labelling twice is refused.
    async with transaction(sessions) as session:
        with pytest.raises(InvalidInput, match="already reviewed"):
            await review.label(
                session=session, message_id=a, intent="greet", entities=[], vocabulary=vocabulary, actor="x", now=NOW
            )


async def test_heldout_and_conflicting_examples_are_refused(sessions) -> None:
    vocabulary = read_vocabulary(ROOT)
    heldout_intent, heldout_text = examples(ROOT / "tests" / "nlu_heldout.yml")[0]
    trained_intent, trained_text = examples(ROOT / "data" / "nlu" / "greetings.yml")[0]
    held, trained, odd = await _chat(
        sessions,
        (heldout_text.upper() + "!!", "goodbye", 0.3),
        (trained_text, "goodbye", 0.3),
        ("algo raro", "goodbye", 0.3),
    )
    cases = [
        (held, heldout_intent, None, "held-out"),
        (trained, "goodbye" if trained_intent != "goodbye" else "greet", None, "already trained"),
        (odd, "Mal Nombre", None, "intent must match"),
        (odd, "nlu_fallback", None, "not a label"),
        (odd, "greet", [{"start": 0, "end": 4, "entity": "no_such_entity"}], "unknown entity"),
        (odd, "greet", [{"start": 0, "end": 40, "entity": "device"}], "out of the text"),
        (
            odd,
            "greet",
            [{"start": 0, "end": 4, "entity": "device"}, {"start": 2, "end": 8, "entity": "version"}],
            "overlap",
        ),
    ]
    for message_id, intent, entities, error in cases:
        async with transaction(sessions) as session:
            with pytest.raises(InvalidInput, match=error):
                await review.label(
                    session=session,
                    message_id=message_id,
                    intent=intent,
                    entities=entities,
                    vocabulary=vocabulary,
                    actor="admin@promptlink.example",
                    now=NOW,
                )


def test_normalise_matches_the_overlap_checker() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_nlu_overlap", ROOT / "scripts" / "check_nlu_overlap.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for text in ["¿Cómo va mi [PL-2026-000001](ticket_number)?", "  Holaaa,   QUÉ tal!! ", "el-equipo: caído"]:
        assert normalise(text) == module.normalise(text)


def test_every_intent_of_the_domain_has_a_spanish_name() -> None:
    """The review inbox shows intents by these names: a new intent in domain.yml needs one."""
    intents = set(read_vocabulary(ROOT).intents)
    assert intents - set(INTENT_NAMES) == set()
    assert set(INTENT_NAMES) - intents == set()
