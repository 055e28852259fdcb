"""Canned responses as data (rules/canned_responses.yml): checked, per tier, re-read on change."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from promptlink.services.auth import Principal
from promptlink.services.canned_responses import DEFAULT_FILE, CannedError, CannedFile, parse

L1 = Principal(role="agent", email="l1@x", name="L1", agent_id=1, tiers=("L1",))
L3 = Principal(role="agent", email="l3@x", name="L3", agent_id=3, tiers=("L3",))
SUPERVISOR = Principal(role="supervisor", email="s@x", name="S", agent_id=4, tiers=("L1", "L2", "L3"))


def test_the_shipped_file_has_common_and_per_tier_responses() -> None:
    responses = CannedFile(DEFAULT_FILE).current()
    tiers = {t for r in responses for t in r.tiers}
    assert tiers == {"common", "L1", "L2", "L3"}
    for r in responses:  # no invented phone numbers or hours (the cadence is the ticket notices')
        assert not re.search(r"\d[\d ().-]{5,}\d|\d+ ?(h|horas?)\b|\d{1,2}:\d\d", r.text), r.key


def test_agents_see_their_tiers_and_the_common_ones(tmp_path: Path) -> None:
    path = tmp_path / "canned.yml"
    path.write_text(
        "responses:\n"
        "  - {key: hola, title: Hola, tiers: [common], text: 'Hola, {nombre}.'}\n"
        "  - {key: uno, title: Uno, tiers: [L1], text: 'Uno {tiquete}'}\n"
        "  - {key: tres, title: Tres, tiers: [L3], text: 'Tres'}\n",
        encoding="utf-8",
    )
    canned = CannedFile(path)
    assert [r.key for r in canned.for_principal(L1)] == ["hola", "uno"]
    assert [r.key for r in canned.for_principal(L3)] == ["hola", "tres"]
    assert [r.key for r in canned.for_principal(SUPERVISOR)] == ["hola", "uno", "tres"]


def test_an_edit_is_picked_up_and_a_broken_one_keeps_the_previous(tmp_path: Path) -> None:
    path = tmp_path / "canned.yml"
    path.write_text("responses:\n  - {key: a, title: A, tiers: [common], text: 'Primera'}\n", encoding="utf-8")
    canned = CannedFile(path)
    path.write_text("responses:\n  - {key: a, title: A, tiers: [common], text: 'Segunda'}\n", encoding="utf-8")
    os.utime(path, ns=(1, 10**18))
    assert [r.text for r in canned.current()] == ["Segunda"]
    path.write_text("responses:\n  - {key: a, title: A, tiers: [L9], text: 'Rota'}\n", encoding="utf-8")
    os.utime(path, ns=(1, 2 * 10**18))
    assert [r.text for r in canned.current()] == ["Segunda"]


@pytest.mark.parametrize(
    "item",
    [
        {"key": "x", "title": "X", "tiers": ["common"], "text": "Hola {cliente}"},  # unknown placeholder
        {"key": "x", "title": "X", "tiers": ["L4"], "text": "Hola"},
        {"key": "X Y", "title": "X", "tiers": ["L1"], "text": "Hola"},
        {"key": "x", "title": "", "tiers": ["L1"], "text": "Hola"},
        {"key": "x", "title": "X", "tiers": ["L1"], "text": "a" * 2001},
        {"key": "x", "title": "X", "tiers": [], "text": "Hola"},
    ],
)
def test_bad_entries_are_refused(item: dict) -> None:
    with pytest.raises(CannedError):
        parse({"responses": [item]})
    with pytest.raises(CannedError):
        parse({"responses": [{"key": "x", "title": "X", "tiers": ["L1"], "text": "a"}] * 2})  # repeated key
