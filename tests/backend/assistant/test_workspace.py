"""A training run's workspace and the active pointer (no Rasa needed)."""

from __future__ import annotations

from pathlib import Path

import yaml
from promptlink.assistant.workspace import (
    RECIPES,
    build_workspace,
    fingerprint,
    read_active_pointer,
    write_active_pointer,
)
from promptlink.services.nlu_files import examples

ROOT = Path(__file__).resolve().parents[3]


def test_workspace_has_every_example_new_intents_in_a_domain_directory_and_the_quick_config(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    pairs = [("ask_training", "ustedes dictan talleres"), ("export_tickets", "quiero mis tiquetes en excel")]
    build_workspace(project=ROOT, workspace=workspace, pairs=pairs, new_intents=["export_tickets"], recipe="quick")
    assert sorted(examples(workspace / "data" / "nlu" / "reviewed.yml")) == sorted(pairs)
    assert (workspace / "data" / "nlu" / "greetings.yml").read_bytes() == (ROOT / "data/nlu/greetings.yml").read_bytes()
    assert (workspace / "domain" / "domain.yml").read_bytes() == (ROOT / "domain.yml").read_bytes()
    extra = yaml.safe_load((workspace / "domain" / "reviewed_intents.yml").read_text(encoding="utf-8"))
    assert extra == {"version": "3.1", "intents": ["export_tickets"]}
    config = yaml.safe_load((workspace / "config.yml").read_text(encoding="utf-8"))
    original = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    diet = [c for c in config["pipeline"] if c["name"] == "DIETClassifier"][0]
    assert diet["epochs"] == RECIPES["quick"]
    assert config["policies"] == original["policies"]  # unchanged: restored from Rasa's cache
    first = fingerprint(workspace)
    build_workspace(project=ROOT, workspace=workspace, pairs=pairs[:1], new_intents=[], recipe="full")
    assert fingerprint(workspace) != first
    assert not (workspace / "domain" / "reviewed_intents.yml").exists()
    assert (workspace / "config.yml").read_bytes() == (ROOT / "config.yml").read_bytes()


def test_active_pointer(tmp_path: Path) -> None:
    assert read_active_pointer(tmp_path) is None
    model = tmp_path / "candidates" / "promptlink-x-v2.tar.gz"
    model.parent.mkdir()
    model.write_bytes(b"model")
    write_active_pointer(tmp_path, model)
    assert read_active_pointer(tmp_path) == model.resolve()
    model.unlink()  # a pointer to a deleted file is ignored: the supervisor falls back to the data's model
    assert read_active_pointer(tmp_path) is None


def test_the_projects_fingerprint_names_its_model_as_bot_model_does() -> None:
    """The models page names the model Rasa starts with (when Rasa is down) as bot/model.py does."""
    from promptlink.assistant.runner import PROJECT_INPUTS

    from bot.model import fingerprint as bot_fingerprint

    assert fingerprint(ROOT, PROJECT_INPUTS) == bot_fingerprint(ROOT)
