"""A model's score on the held-out set: `rasa test nlu` and the summary of its reports.

Whether a candidate is «no peor» than the active model is `services.model_versions.compare`.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

from promptlink.services.nlu_files import HELDOUT

AVERAGES = ("macro avg", "weighted avg", "micro avg")


def summarise_evaluation(report: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-intent F1/support and the confusions (true, predicted, count)."""
    per_intent = {
        name: {"f1": round(float(v["f1-score"]), 4), "support": int(v["support"])}
        for name, v in report.items()
        if isinstance(v, dict) and "f1-score" in v and name not in AVERAGES
    }
    pairs = Counter(
        (str(e.get("intent")), str((e.get("intent_prediction") or {}).get("name")))
        for e in errors
        if isinstance(e, dict)
    )
    return {
        "accuracy": round(float(report.get("accuracy", report.get("micro avg", {}).get("f1-score", 0.0))), 4),
        "macro_f1": round(float(report["macro avg"]["f1-score"]), 4),
        "per_intent": per_intent,
        "confusion": [[t, p, n] for (t, p), n in pairs.most_common(40)],
    }


def read_evaluation(out: Path) -> dict[str, Any]:
    """The summary of the reports `rasa test nlu` wrote to `out`."""
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    errors_path = out / "intent_errors.json"
    errors = json.loads(errors_path.read_text(encoding="utf-8")) if errors_path.exists() else []
    return summarise_evaluation(report, errors)


async def evaluate(*, rasa_bin: Path, project: Path, model: Path, out: Path, env: dict[str, str]) -> dict[str, Any]:
    """`rasa test nlu` of `model` on the project's held-out set; the summary of its reports."""
    process = await asyncio.create_subprocess_exec(
        str(rasa_bin),
        "test",
        "nlu",
        "--nlu",
        str(project / HELDOUT),
        "--model",
        str(model),
        "--out",
        str(out),
        "--quiet",
        cwd=project,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"rasa test nlu exited with {process.returncode}: {output.decode(errors='replace')[-500:]}")
    return await asyncio.to_thread(read_evaluation, out)
