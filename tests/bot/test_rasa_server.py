"""`python -m bot.rasa_server`: the modules a Rasa server never uses are not loaded (less memory), and
TensorFlow still imports without them."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOT_PY = ROOT / ".venv-bot" / "bin" / "python"

PROBE = """
import importlib, sys
from bot.rasa_server import block_unused_modules
block_unused_modules()
tflite_util = importlib.import_module("tensorflow.lite.python.util")
from rasa.core.agent import Agent
# The blocked name stays in sys.modules as None; nothing of jax or jaxlib is loaded.
loaded = sorted(m for m, mod in sys.modules.items() if mod is not None and m.split('.')[0] in ('jax', 'jaxlib'))
print(tflite_util._xla_computation is None, loaded)
"""


def test_tensorflow_and_rasa_import_without_jax() -> None:
    done = subprocess.run(
        [str(BOT_PY), "-c", PROBE],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True []"


def test_without_the_block_tensorflow_would_load_jax() -> None:
    """The block matters: in this environment TensorFlow imports jax when it can."""
    done = subprocess.run(
        [str(BOT_PY), "-c", "import sys, tensorflow.lite.python.util; print('jaxlib' in sys.modules)"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
