"""A training run's inputs on disk, and the `active` pointer to the model administrators chose.

A run trains in its own workspace under `var/training/<id>/`: a copy of the bot's `data/` with
every labelled example, the domain plus any new intents, the recipe's config. Its fingerprint
names the model. The `active` pointer file in the models folder is what the supervisor starts
Rasa with after a restart.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import yaml

from promptlink.services.nlu_files import REVIEWED_NAME, render_reviewed, write_atomically

ACTIVE_POINTER = "active"
# Recipes: `full` is config.yml as is; `quick` trains DIET for fewer epochs (everything else
# as config.yml, so Rasa's cache keeps the unchanged dialogue policies) — for tests and trials.
# Their names for people are `services.model_versions.RECIPE_NAMES`.
RECIPES = {"full": None, "quick": 20}


def read_active_pointer(models_dir: Path) -> Path | None:
    """The model the administrators activated last, when its file still exists."""
    pointer = models_dir / ACTIVE_POINTER
    if not pointer.is_file():
        return None
    target = Path(pointer.read_text(encoding="utf-8").strip())
    return target if target.is_file() else None


def write_active_pointer(models_dir: Path, model: Path) -> None:
    write_atomically(models_dir / ACTIVE_POINTER, f"{model.resolve()}\n")


def fingerprint(workspace: Path, inputs: tuple[str, ...] = ("data", "domain", "config.yml")) -> str:
    """SHA-256 (16 hex digits) over the relative paths and bytes of `inputs`; a project's inputs are
    data/, domain.yml and config.yml (the same digest as bot/model.py's, which names its model)."""
    digest = hashlib.sha256()
    for name in inputs:
        root = workspace / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            digest.update(str(path.relative_to(workspace)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def quick_config(config_text: str, epochs: int) -> str:
    config = yaml.safe_load(config_text)
    for component in config.get("pipeline", []):
        if component.get("name") == "DIETClassifier":
            component["epochs"] = epochs
    return str(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


def build_workspace(
    *, project: Path, workspace: Path, pairs: list[tuple[str, str]], new_intents: list[str], recipe: str
) -> None:
    """Training inputs of one run: the project's data, every labelled example, new intents, the recipe."""
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    shutil.copytree(project / "data", workspace / "data")
    write_atomically(workspace / "data" / "nlu" / REVIEWED_NAME, render_reviewed(pairs))
    (workspace / "domain").mkdir()
    shutil.copy(project / "domain.yml", workspace / "domain" / "domain.yml")
    if new_intents:
        # Rasa merges every file of a domain directory: the project's domain.yml stays untouched.
        write_atomically(
            workspace / "domain" / "reviewed_intents.yml",
            'version: "3.1"\nintents:\n' + "".join(f"  - {name}\n" for name in new_intents),
        )
    config = (project / "config.yml").read_text(encoding="utf-8")
    epochs = RECIPES[recipe]
    (workspace / "config.yml").write_text(config if epochs is None else quick_config(config, epochs), "utf-8")
