"""Model management: a fingerprint of the training inputs decides when to retrain.

Standard library only, so either environment can run it:
    python bot/model.py path          # print the model path for the current data
    python bot/model.py ensure        # train with the bot environment unless cached
    python bot/model.py active        # the model Rasa starts with: models/active (set by /admin), else `path`
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ("data", "domain.yml", "config.yml")
MODELS_DIR = ROOT / "models"
RASA = ROOT / ".venv-bot" / "bin" / "rasa"


def fingerprint(root: Path = ROOT) -> str:
    """SHA-256 over the relative paths and bytes of data/, domain.yml and config.yml."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for name in INPUTS:
        path = root / name
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_path(root: Path = ROOT) -> Path:
    return root / "models" / f"promptlink-{fingerprint(root)}.tar.gz"


def active_model(root: Path = ROOT) -> Path:
    """The model an administrator activated (pointer file `models/active`), else the current data's."""
    pointer = root / "models" / "active"
    if pointer.is_file():
        target = Path(pointer.read_text(encoding="utf-8").strip())
        if target.is_file():
            return target
    return model_path(root)


def ensure_trained(root: Path = ROOT) -> Path:
    """Train unless a model for the current fingerprint exists; return its path."""
    target = model_path(root)
    if target.exists():
        print(f"Rasa model up to date: {target.relative_to(root)}")
        return target
    print(f"Training the Rasa model (fingerprint {fingerprint(root)}); this takes a minute or two...", flush=True)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false")
    env.setdefault("RASA_CACHE_DIRECTORY", str(root / ".rasa" / "cache"))
    started = time.monotonic()
    subprocess.run(
        [
            str(RASA),
            "train",
            "--domain",
            "domain.yml",
            "--config",
            "config.yml",
            "--data",
            "data",
            "--out",
            str(target.parent),
            "--fixed-model-name",
            target.name.removesuffix(".tar.gz"),
        ],
        cwd=root,
        env=env,
        check=True,
    )
    print(f"Model trained in {time.monotonic() - started:.0f} s: {target.relative_to(root)}")
    return target


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "ensure"
    if command == "path":
        print(model_path())
    elif command == "active":
        print(active_model())
    elif command == "fingerprint":
        print(fingerprint())
    elif command == "ensure":
        ensure_trained()
    else:
        raise SystemExit(f"unknown command {command!r}; use path, active, fingerprint or ensure")
