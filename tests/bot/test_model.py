"""The model fingerprint changes exactly when the training inputs change."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.model import ROOT, fingerprint, model_path


def _copy_inputs(dest: Path) -> None:
    shutil.copytree(ROOT / "data", dest / "data")
    shutil.copy(ROOT / "domain.yml", dest / "domain.yml")
    shutil.copy(ROOT / "config.yml", dest / "config.yml")


def test_fingerprint_is_stable_and_tracks_every_input(tmp_path: Path) -> None:
    _copy_inputs(tmp_path)
    before = fingerprint(tmp_path)
    assert fingerprint(tmp_path) == before == fingerprint(ROOT)
    (tmp_path / "unrelated.txt").write_text("not a training input")
    assert fingerprint(tmp_path) == before
    nlu = next((tmp_path / "data").rglob("*.yml"))
    nlu.write_text(nlu.read_text() + "\n")
    assert fingerprint(tmp_path) != before
    assert model_path(tmp_path).name == f"promptlink-{fingerprint(tmp_path)}.tar.gz"


def test_renaming_a_data_file_changes_the_fingerprint(tmp_path: Path) -> None:
    _copy_inputs(tmp_path)
    before = fingerprint(tmp_path)
    nlu = next((tmp_path / "data").rglob("*.yml"))
    nlu.rename(nlu.with_name("renamed.yml"))
    assert fingerprint(tmp_path) != before
