"""Issue 12: the conversation test set, played end to end over `/chat` against the real processes.

One test per conversation of `sets/*.yml`; each asserts the stored ticket, RMA, bug, comment,
training requests or handoff field by field, the questions asked (none whose answer was given)
and the number of turns. The summary prints «conversations right N/M, redundant questions K».
"""

from __future__ import annotations

import pytest

from tests.conversations.simulator import Conversation, Result, Runner, load_sets, unanswered

pytestmark = pytest.mark.e2e

CONVERSATIONS = load_sets()


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c.name for c in CONVERSATIONS])
async def test_conversation(
    conversation: Conversation, conversation_runner: Runner, conversation_results: list[Result]
) -> None:
    result = await conversation_runner.play(conversation)
    conversation_results.append(result)
    if not result.ok and conversation.known_gap:
        pytest.xfail(f"known gap: {conversation.known_gap} — {result.explain()}")
    assert result.ok, result.explain()


def test_the_set_covers_every_theme_with_at_least_60_conversations() -> None:
    themes = {c.theme for c in CONVERSATIONS}
    wanted = {
        "outages",
        "software",
        "hardware",
        "enhancement_config",
        "corrections",
        "digressions",
        "colloquial_typos",
        "duplicates",
        "training",
        "fallback",
        "identity",
    }
    assert wanted <= themes, wanted - themes
    assert len(CONVERSATIONS) >= 60


def test_every_likely_question_has_an_answer_in_the_set() -> None:
    """A question the assistant may ask (or one the customer already answered) has a fact to answer with."""
    missing = {c.name: unanswered(c) for c in CONVERSATIONS if unanswered(c)}
    assert not missing, missing
