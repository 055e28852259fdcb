"""Conversation tokens: one is reused for a conversation's turns within a minute, and always verifies."""

from __future__ import annotations

import jwt
import pytest
from promptlink.services import conversation_token as ct

SECRET = "a-session-secret-for-these-tests-0123456789"


@pytest.fixture(autouse=True)
def configured():
    ct.configure(SECRET)
    yield
    ct._recent.clear()


def test_a_conversations_turns_within_the_reuse_window_share_one_valid_token(monkeypatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(ct.time, "time", lambda: now[0])
    first = ct.issue("c1", "ana@example.com")
    now[0] += ct.REUSE_SECONDS - 1
    assert ct.issue("c1", "ana@example.com") == first
    claims = jwt.decode(
        first, ct.key_from(SECRET), algorithms=["HS256"], audience=ct.AUDIENCE, options={"verify_exp": False}
    )
    # Reused, it still has most of its life left.
    assert claims["exp"] - now[0] >= ct.LIFETIME_SECONDS - ct.REUSE_SECONDS


def test_a_new_token_after_the_window_and_for_another_conversation_or_contact(monkeypatch) -> None:
    now = [2_000_000.0]
    monkeypatch.setattr(ct.time, "time", lambda: now[0])
    first = ct.issue("c1", "ana@example.com")
    assert ct.issue("c2", "ana@example.com") != first
    assert ct.issue("c1", None) != first
    assert ct.issue("c1", "luis@example.com") != first
    now[0] += ct.REUSE_SECONDS
    renewed = ct.issue("c1", "ana@example.com")
    assert renewed != first
    claims = jwt.decode(
        renewed, ct.key_from(SECRET), algorithms=["HS256"], audience=ct.AUDIENCE, options={"verify_exp": False}
    )
    assert claims["iat"] == int(now[0])


def test_a_new_key_drops_the_reused_tokens() -> None:
    first = ct.issue("c1", "ana@example.com")
    ct.configure("another-session-secret-0123456789abcdef")
    second = ct.issue("c1", "ana@example.com")
    assert second != first
    assert ct.verify(second, session_secret="another-session-secret-0123456789abcdef").conversation_id == "c1"


def test_the_reuse_table_stays_bounded(monkeypatch) -> None:
    monkeypatch.setattr(ct, "MAX_REUSED", 3)
    for k in range(10):
        ct.issue(f"c{k}", None)
    assert len(ct._recent) <= 3
