"""Fail when the held-out intent accuracy of a `rasa test nlu` report is below a floor."""

from __future__ import annotations

import argparse
import json
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("report", help="intent_report.json written by `rasa test nlu`")
    parser.add_argument("--min-accuracy", type=float, required=True)
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as handle:
        report = json.load(handle)
    accuracy = float(report["accuracy"])
    weak = {
        name: round(v["f1-score"], 2)
        for name, v in report.items()
        if isinstance(v, dict)
        and "f1-score" in v
        and name not in ("macro avg", "weighted avg", "micro avg")
        and v["f1-score"] < 0.8
    }
    macro_f1 = float(report["macro avg"]["f1-score"])
    print(
        f"held-out intent accuracy {accuracy:.3f} (floor {args.min_accuracy}), macro-F1 {macro_f1:.3f}; "
        f"intents under F1 0.8: {weak or 'none'}"
    )
    return 0 if accuracy >= args.min_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())
