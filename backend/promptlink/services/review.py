"""The review inbox: customer messages the assistant handled badly, grouped by similarity.

A message is in the inbox when it was parsed by Rasa and either scored under the
fallback threshold, was classified `nlu_fallback`, or the customer asked for a person
right after it. An administrator labels it (intent, optional entity spans) or dismisses
it; labelled examples are exported to the reviewed NLU file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Message, ReviewDecision
from promptlink.services.audit import record
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.nlu_files import BotVocabulary, normalise, render_reviewed, write_atomically

FALLBACK_INTENT = "nlu_fallback"
HUMAN_INTENT = "request_human"
HUMAN_PAYLOAD = "/request_human"
INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MAX_ENTITIES = 5
MAX_EXAMPLE_CHARS = 500
SIMILARITY = 0.45  # char-trigram Jaccard at which two messages join one group
REASON_NAMES = {"low_confidence": "confianza baja", "fallback": "no entendido", "human_after": "pidió una persona"}


@dataclass
class InboxItem:
    message: Message
    reason: str

    def to_json(self) -> dict[str, Any]:
        m = self.message
        return {
            "message_id": m.id,
            "conversation_id": m.conversation_id,
            "text": m.text,
            "intent": m.intent,
            "confidence": round(m.confidence, 3) if m.confidence is not None else None,
            "reason": self.reason,
            "reason_name": REASON_NAMES[self.reason],
            "created_at": m.created_at.isoformat(),
        }


@dataclass
class InboxGroup:
    items: list[InboxItem] = field(default_factory=list)
    grams: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        intents: dict[str, int] = {}
        for item in self.items:
            if item.message.intent:
                intents[item.message.intent] = intents.get(item.message.intent, 0) + 1
        return {
            "representative": self.items[0].message.text,
            "count": len(self.items),
            "predicted": sorted(intents, key=lambda k: -intents[k]),
            "items": [i.to_json() for i in self.items],
        }


def trigrams(text: str) -> set[str]:
    """Character trigrams of the normalised text, padded so short words count too."""
    key = f" {normalise(text)} "
    return {key[i : i + 3] for i in range(len(key) - 2)} or {key}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def group_similar(items: list[InboxItem], threshold: float = SIMILARITY) -> list[InboxGroup]:
    """Greedy single-pass clustering: each message joins the most similar group above `threshold`."""
    groups: list[InboxGroup] = []
    for item in items:
        grams = trigrams(item.message.text)
        best, score = None, threshold
        for group in groups:
            s = jaccard(grams, group.grams)
            if s >= score:
                best, score = group, s
        if best is None:
            groups.append(InboxGroup([item], set(grams)))
        else:
            best.items.append(item)
            best.grams |= grams
    groups.sort(key=lambda g: (-len(g.items), -g.items[0].message.id))
    return groups


def _is_human_request(m: Message) -> bool:
    return m.intent == HUMAN_INTENT or m.payload == HUMAN_PAYLOAD


async def inbox(*, session: AsyncSession, threshold: float, limit: int = 500) -> list[InboxItem]:
    """Undecided misunderstood customer messages, newest first (at most `limit`)."""
    decided = select(ReviewDecision.message_id)
    base = select(Message).where(
        Message.role == "customer",
        Message.payload.is_(None),
        Message.intent.is_not(None),
        Message.id.not_in(decided),
    )
    weak = list(
        await session.scalars(
            base.where(or_(Message.confidence < threshold, Message.intent == FALLBACK_INTENT))
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )
    found: dict[int, InboxItem] = {
        m.id: InboxItem(m, "fallback" if m.intent == FALLBACK_INTENT else "low_confidence") for m in weak
    }
    # The message just before a request for a person, in the same conversation.
    asks = list(
        await session.scalars(
            select(Message)
            .where(
                Message.role == "customer",
                or_(Message.intent == HUMAN_INTENT, Message.payload == HUMAN_PAYLOAD),
            )
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )
    for ask in asks:
        before = await session.scalar(
            base.where(Message.conversation_id == ask.conversation_id, Message.seq < ask.seq)
            .order_by(Message.seq.desc())
            .limit(1)
        )
        if before is not None and before.id not in found and not _is_human_request(before):
            found[before.id] = InboxItem(before, "human_after")
    return sorted(found.values(), key=lambda i: -i.message.id)[:limit]


def annotate(text: str, entities: Any, known: tuple[str, ...]) -> str:
    """`text` with `[span](entity)` for each {start, end, entity}; spans must not overlap."""
    if entities in (None, []):
        return text
    if not isinstance(entities, list) or len(entities) > MAX_ENTITIES:
        raise InvalidInput("entities must be a list of at most 5", public="Marque como máximo 5 entidades.")
    spans: list[tuple[int, int, str]] = []
    for raw in entities:
        if not isinstance(raw, dict):
            raise InvalidInput("entity must be an object", public="La entidad no es válida.")
        start, end, name = raw.get("start"), raw.get("end"), raw.get("entity")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
            raise InvalidInput("entity span out of the text", public="El fragmento marcado no está en el mensaje.")
        if name not in known:
            raise InvalidInput(f"unknown entity {name!r}", public=f"La entidad «{name}» no existe en el dominio.")
        if not text[start:end].strip() or any(c in text[start:end] for c in "[]()"):
            raise InvalidInput("entity span is blank or has brackets", public="El fragmento marcado no es válido.")
        spans.append((start, end, str(name)))
    spans.sort()
    for (_s1, e1, _n1), (s2, _e2, _n2) in zip(spans, spans[1:], strict=False):
        if s2 < e1:
            raise InvalidInput("entity spans overlap", public="Los fragmentos marcados se superponen.")
    out, pos = [], 0
    for start, end, name in spans:
        out.append(text[pos:start] + f"[{text[start:end]}]({name})")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def check_intent(intent: Any, vocabulary: BotVocabulary) -> str:
    if not isinstance(intent, str) or not INTENT_NAME.match(intent):
        raise InvalidInput(
            "intent must match [a-z][a-z0-9_]{1,63}",
            public="La intención debe escribirse en minúsculas, con letras, números y guiones bajos (2 a 64).",
        )
    if intent == FALLBACK_INTENT:
        raise InvalidInput(
            "nlu_fallback is not a label", public="«nlu_fallback» no es una intención que se pueda asignar."
        )
    return intent


async def _message(session: AsyncSession, message_id: int) -> Message:
    message = await session.get(Message, message_id)
    if message is None or message.role != "customer":
        raise NotFound(f"message {message_id} not found", public="El mensaje no existe.")
    existing = await session.scalar(select(ReviewDecision).where(ReviewDecision.message_id == message_id))
    if existing is not None:
        raise InvalidInput(
            f"message {message_id} already reviewed", public="Este mensaje ya fue revisado por un administrador."
        )
    return message


async def label(
    *,
    session: AsyncSession,
    message_id: int,
    intent: Any,
    entities: Any,
    vocabulary: BotVocabulary,
    actor: str,
    now: datetime,
) -> ReviewDecision:
    """Store `message_id` as a training example of `intent` (new intents allowed)."""
    intent = check_intent(intent, vocabulary)
    message = await _message(session, message_id)
    text = " ".join(message.text.split())
    if not text or len(text) > MAX_EXAMPLE_CHARS:
        raise InvalidInput("example empty or too long", public="El mensaje está vacío o es demasiado largo (máx. 500).")
    example = annotate(text, entities, vocabulary.entities)
    key = normalise(example)
    if key in vocabulary.heldout:
        raise InvalidInput(
            "example is in the held-out evaluation set",
            public="Esta frase forma parte del conjunto de evaluación y no puede usarse para entrenar.",
        )
    other = sorted(vocabulary.training.get(key, set()) - {intent})
    if other:
        raise InvalidInput(
            f"example already trained as {other}",
            public=f"Esta frase ya está en los datos de entrenamiento con la intención «{other[0]}».",
        )
    clash = await session.scalar(
        select(ReviewDecision)
        .where(ReviewDecision.status == "labelled", ReviewDecision.intent != intent)
        .where(func.lower(ReviewDecision.text) == example.lower())
    )
    if clash is not None:
        raise InvalidInput(
            "same example labelled with another intent",
            public=f"La misma frase ya fue etiquetada con la intención «{clash.intent}».",
        )
    decision = ReviewDecision(
        message_id=message.id, status="labelled", intent=intent, text=example, decided_by=actor, decided_at=now
    )
    session.add(decision)
    record(
        session=session,
        actor=actor,
        action="review.label",
        target=f"message:{message.id}",
        detail={"intent": intent, "example": example, "new_intent": intent not in vocabulary.intents},
        now=now,
    )
    await session.flush()
    return decision


async def dismiss(*, session: AsyncSession, message_id: int, actor: str, now: datetime) -> ReviewDecision:
    message = await _message(session, message_id)
    decision = ReviewDecision(message_id=message.id, status="dismissed", decided_by=actor, decided_at=now)
    session.add(decision)
    record(session=session, actor=actor, action="review.dismiss", target=f"message:{message.id}", now=now)
    await session.flush()
    return decision


async def labelled_examples(*, session: AsyncSession) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(ReviewDecision.intent, ReviewDecision.text)
        .where(ReviewDecision.status == "labelled")
        .order_by(ReviewDecision.id)
    )
    return [(str(intent), str(text)) for intent, text in rows]


def training_pairs(
    pairs: list[tuple[str, str]], vocabulary: BotVocabulary, *, new_intents: bool
) -> list[tuple[str, str]]:
    """Labelled examples minus those already in the training data; new intents only when asked."""
    kept = []
    for intent, text in pairs:
        if intent in vocabulary.training.get(normalise(text), set()):
            continue
        if not new_intents and intent not in vocabulary.intents:
            continue
        kept.append((intent, text))
    return kept


async def export_reviewed(*, session: AsyncSession, vocabulary: BotVocabulary, path: Path) -> int:
    """Write the reviewed NLU file (intents of the domain only; docs/admin.md); returns the example count."""
    pairs = training_pairs(await labelled_examples(session=session), vocabulary, new_intents=False)
    write_atomically(path, render_reviewed(pairs))
    return len(pairs)


def new_intents(pairs: list[tuple[str, str]], vocabulary: BotVocabulary) -> list[str]:
    return sorted({intent for intent, _text in pairs if intent not in vocabulary.intents})
