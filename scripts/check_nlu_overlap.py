"""Fail when a held-out NLU example also appears in the training data.

Examples are compared after removing entity annotations, accents, case,
punctuation and repeated spaces, so "¿Cómo va mi ticket?" and
"como va mi ticket" count as the same sentence. Also reports duplicates inside
the training data and examples labelled with two different intents.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

# The backend reads the same files the same way (the admin's review inbox and retraining):
# one normalisation for both, from its package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from promptlink.services.nlu_files import examples, normalise  # noqa: E402

__all__ = ["examples", "main", "normalise"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/nlu", help="training NLU folder")
    parser.add_argument("--heldout", default="tests/nlu_heldout.yml")
    args = parser.parse_args()
    if not Path(args.heldout).is_file():
        parser.error(f"no held-out file {args.heldout}")

    seen: dict[str, set[str]] = defaultdict(set)
    duplicates = 0
    for path in sorted(Path(args.data).rglob("*.yml")):
        for intent, text in examples(path):
            key = normalise(text)
            if intent in seen[key]:
                duplicates += 1
                print(f"duplicate in training data: {intent}: {text}")
            seen[key].add(intent)
    conflicts = {k: v for k, v in seen.items() if len(v) > 1}
    for key, intents in conflicts.items():
        print(f"same example under several intents {sorted(intents)}: {key}")

    overlap = 0
    heldout_seen: set[str] = set()
    for intent, text in examples(Path(args.heldout)):
        key = normalise(text)
        if key in seen:
            overlap += 1
            print(f"held-out example is in the training data: {intent}: {text}")
        if key in heldout_seen:
            print(f"duplicate in held-out set: {intent}: {text}")
        heldout_seen.add(key)

    print(
        f"{sum(len(v) for v in seen.values())} training examples, {len(heldout_seen)} held-out; "
        f"overlap {overlap}, training duplicates {duplicates}, conflicts {len(conflicts)}"
    )
    return 1 if overlap or conflicts else 0


if __name__ == "__main__":
    sys.exit(main())
