"""The bot's training inputs as the backend sees them: intents, entities, examples.

Read-only access to `domain.yml`, `data/nlu/*.yml` and the held-out set, plus the writer of
the reviewed-examples file. Standard Rasa 3 YAML (`version: "3.1"`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from promptlink.infra.files import write_text_atomically

ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
REVIEWED_NAME = "reviewed.yml"
HELDOUT = Path("tests") / "nlu_heldout.yml"


def normalise(text: str) -> str:
    """An example's comparison key (also scripts/check_nlu_overlap.py's): no annotations, accents, case, punctuation."""
    text = ANNOTATION.sub(r"\1", text)
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s-]", " ", text)
    return " ".join(text.split())


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return data if isinstance(data, dict) else {}


def examples(path: Path) -> list[tuple[str, str]]:
    """(intent, raw example) pairs of one Rasa NLU YAML file."""
    pairs: list[tuple[str, str]] = []
    for block in _load(path).get("nlu", []) or []:
        if not isinstance(block, dict) or "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((str(block["intent"]), line[2:].strip()))
    return pairs


@dataclass(frozen=True)
class BotVocabulary:
    """What the current training inputs know: intents and entities of the domain, examples by key."""

    intents: tuple[str, ...]
    entities: tuple[str, ...]
    training: dict[str, set[str]]  # normalised example -> intents (reviewed file excluded)
    heldout: frozenset[str]


def read_vocabulary(project_dir: Path) -> BotVocabulary:
    domain = _load(project_dir / "domain.yml")
    intents = tuple(str(i if isinstance(i, str) else next(iter(i))) for i in domain.get("intents", []) or [] if i)
    entities = tuple(str(e if isinstance(e, str) else next(iter(e))) for e in domain.get("entities", []) or [] if e)
    training: dict[str, set[str]] = {}
    for path in sorted((project_dir / "data" / "nlu").rglob("*.yml")):
        if path.name == REVIEWED_NAME:
            continue
        for intent, text in examples(path):
            training.setdefault(normalise(text), set()).add(intent)
    heldout = frozenset(normalise(text) for _intent, text in examples(project_dir / HELDOUT))
    return BotVocabulary(intents, entities, training, heldout)


def _block_scalar(lines: Iterable[str]) -> str:
    return "".join(f"      - {line}\n" for line in lines)


def render_reviewed(pairs: Iterable[tuple[str, str]]) -> str:
    """Rasa 3 NLU YAML of (intent, example) pairs, grouped by intent, sorted, without duplicates."""
    by_intent: dict[str, dict[str, str]] = {}
    for intent, text in pairs:
        one_line = " ".join(text.split())
        by_intent.setdefault(intent, {}).setdefault(normalise(one_line), one_line)
    out = [
        'version: "3.1"\n',
        "\n",
        "# Examples labelled by administrators in /admin (docs/admin.md). Written by the backend:\n",
        "# edits here are overwritten on the next label.\n",
        "\n",
        "nlu:\n" if by_intent else "nlu: []\n",
    ]
    for intent in sorted(by_intent):
        out.append(f"  - intent: {intent}\n    examples: |\n")
        out.append(_block_scalar(sorted(by_intent[intent].values())))
    return "".join(out)


def write_atomically(path: Path, content: str) -> None:
    """`content` at `path` whole or not at all, fsynced (an administrator's labels survive a power cut)."""
    write_text_atomically(path, content, prefix=f".{path.name}.")
