"""Rules kept as YAML files that are re-read when they change (SNMP rules, canned responses)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: Path, error: type[Exception]) -> tuple[Any, int]:
    """The YAML document of `path` and its modification time (ns); a syntax error raises `error`."""
    mtime = os.stat(path).st_mtime_ns
    with path.open(encoding="utf-8") as handle:
        try:
            return yaml.safe_load(handle), mtime
        except yaml.YAMLError as exc:
            raise error(f"{path}: {exc}") from exc
