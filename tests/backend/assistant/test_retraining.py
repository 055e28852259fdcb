"""Retraining pieces that need no Rasa: the workspace, the evaluation summary, the active pointer."""

from __future__ import annotations

from pathlib import Path

import yaml
from promptlink.assistant import retraining
from promptlink.services.nlu_files import examples

ROOT = Path(__file__).resolve().parents[3]


def test_workspace_has_every_example_new_intents_in_a_domain_directory_and_the_quick_config(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    pairs = [("ask_training", "ustedes dictan talleres"), ("export_tickets", "quiero mis tiquetes en excel")]
    retraining.build_workspace(
        project=ROOT, workspace=workspace, pairs=pairs, new_intents=["export_tickets"], recipe="quick"
    )
    assert sorted(examples(workspace / "data" / "nlu" / "reviewed.yml")) == sorted(pairs)
    assert (workspace / "data" / "nlu" / "greetings.yml").read_bytes() == (ROOT / "data/nlu/greetings.yml").read_bytes()
    assert (workspace / "domain" / "domain.yml").read_bytes() == (ROOT / "domain.yml").read_bytes()
    extra = yaml.safe_load((workspace / "domain" / "reviewed_intents.yml").read_text(encoding="utf-8"))
    assert extra == {"version": "3.1", "intents": ["export_tickets"]}
    config = yaml.safe_load((workspace / "config.yml").read_text(encoding="utf-8"))
    original = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    diet = [c for c in config["pipeline"] if c["name"] == "DIETClassifier"][0]
    assert diet["epochs"] == retraining.RECIPES["quick"]
    assert config["policies"] == original["policies"]  # unchanged: restored from Rasa's cache
    first = retraining.fingerprint(workspace)
    retraining.build_workspace(project=ROOT, workspace=workspace, pairs=pairs[:1], new_intents=[], recipe="full")
    assert retraining.fingerprint(workspace) != first
    assert not (workspace / "domain" / "reviewed_intents.yml").exists()
    assert (workspace / "config.yml").read_bytes() == (ROOT / "config.yml").read_bytes()


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
    metrics = retraining.summarise_evaluation(report, errors)
    assert metrics == {
        "accuracy": 0.9,
        "macro_f1": 0.8889,
        "per_intent": {"greet": {"f1": 0.8889, "support": 10}, "goodbye": {"f1": 0.8889, "support": 8}},
        "confusion": [["greet", "goodbye", 2]],
    }
    assert retraining.compare(metrics, {**metrics, "macro_f1": 0.895})["verdict"] == "not_worse"
    assert retraining.compare(metrics, {**metrics, "macro_f1": 0.9})["verdict"] == "worse"
    assert retraining.compare(metrics, None)["verdict"] == "unknown"


def test_active_pointer(tmp_path: Path) -> None:
    assert retraining.read_active_pointer(tmp_path) is None
    model = tmp_path / "candidates" / "promptlink-x-v2.tar.gz"
    model.parent.mkdir()
    model.write_bytes(b"model")
    retraining.write_active_pointer(tmp_path, model)
    assert retraining.read_active_pointer(tmp_path) == model.resolve()
    model.unlink()  # a pointer to a deleted file is ignored: the supervisor falls back to the data's model
    assert retraining.read_active_pointer(tmp_path) is None


def test_progress_from_rasa_train_output_including_the_unfinished_tqdm_line() -> None:
    output = retraining.TrainingOutput()
    output.feed(
        b"2026-11-25 23:30:07 INFO rasa.engine.training.hooks  - Starting to train component 'RegexFeaturizer'.\n"
    )
    assert (output.progress, output.stage) == (10, "Entrenando RegexFeaturizer")
    output.feed(b"2026-11-25 23:30:14 INFO rasa.engine.training.hooks  - Starting to train component 'DIETClassif")
    output.feed(b"ier'.\n\rEpochs:   0%|          | 0/20 [00:00<?, ?it/s]")
    assert output.stage == "Entrenando DIETClassifier: 0 % de las épocas"
    output.feed(b"\rEpochs:  50%|#####     | 10/20 [01:44<07:35, 26.79s/it, t_loss=4.59, i_acc=0.807]")
    assert (output.progress, output.stage) == (39, "Entrenando DIETClassifier: 50 % de las épocas")
    output.feed(b"\rEpochs: 100%|##########| 20/20 [03:00<00:00]\n")
    output.feed(b"INFO - Restored component 'TEDPolicy' from cache.\n")
    assert output.progress == 68
    output.feed(b"INFO - Starting to train component 'TEDPolicy'.\n\rEpochs: 100%|##########| 40/40\n")
    assert output.progress == 84  # the rest is the evaluation's
    assert "Restored component 'TEDPolicy'" in output.tail and "Epochs: 100%" in output.tail
