"""The evaluation summary of `rasa test nlu`'s reports, and the verdict comparing two models."""

from __future__ import annotations

from promptlink.assistant import evaluation
from promptlink.services.model_versions import compare


def test_evaluation_summary_and_verdict() -> None:
    report = {
        "accuracy": 0.9,
        "greet": {"precision": 1.0, "recall": 0.8, "f1-score": 0.8889, "support": 10},
        "goodbye": {"precision": 0.8, "recall": 1.0, "f1-score": 0.8889, "support": 8},
        "macro avg": {"f1-score": 0.8889, "support": 18},
        "weighted avg": {"f1-score": 0.8889, "support": 18},
    }
    errors = [
        {"text": "a", "intent": "greet", "intent_prediction": {"name": "goodbye", "confidence": 0.6}},
        {"text": "b", "intent": "greet", "intent_prediction": {"name": "goodbye", "confidence": 0.5}},
    ]
    metrics = evaluation.summarise_evaluation(report, errors)
    assert metrics == {
        "accuracy": 0.9,
        "macro_f1": 0.8889,
        "per_intent": {"greet": {"f1": 0.8889, "support": 10}, "goodbye": {"f1": 0.8889, "support": 8}},
        "confusion": [["greet", "goodbye", 2]],
    }
    assert compare(metrics, {**metrics, "macro_f1": 0.895})["verdict"] == "not_worse"
    assert compare(metrics, {**metrics, "macro_f1": 0.9})["verdict"] == "worse"
    assert compare(metrics, None)["verdict"] == "unknown"
