"""`python -m bot.rasa_server`: the modules a Rasa server never uses are not loaded (less memory), and
TensorFlow still imports without them."""

from __future__ import annotations

import json
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


# Session 13: a model loaded for serving drops the training step Rasa's loading traced, and every model
# load ends with gc + malloc_trim (docs/performance.md, «Session 13»). One bot-environment process
# checks the lot (TensorFlow takes seconds to import): the real Keras tracking, the wrappers on Rasa's
# own classes, and that each can be switched off.
LOADS_PROBE = """
import gc, json, os, sys, weakref
import numpy as np
import tensorflow as tf
import bot.rasa_server as rs

out = {}
# 1. drop_train_step on a Keras model trained on one example, as RasaModel.load does.
model = tf.keras.Sequential([tf.keras.layers.Dense(4, input_shape=(3,)), tf.keras.layers.Dense(2)])
model.compile(optimizer="adam", loss="mse")
x, y = np.ones((1, 3), "float32"), np.zeros((1, 2), "float32")
model.fit(x, y, verbose=0)
before = model.predict(x, verbose=0)
step = weakref.ref(model.train_function)
out["dropped"] = rs.drop_train_step(model)
gc.collect()
out["step_freed"] = step() is None
out["same_prediction"] = bool((model.predict(x, verbose=0) == before).all())
out["attribute"] = model.train_function
model.fit(x, y, verbose=0)  # still trainable: Keras traces the step again
out["trains_again"] = model.train_function is not None

# 2. The wrappers on Rasa's classes (the real loads replaced by recorders first).
from rasa.core.agent import Agent
from rasa.utils.tensorflow.models import RasaModel

class Loaded:
    def __init__(self):
        self.train_function = self.train_tf_function = "traced"

loads = []

def load(cls, model_file_name, model_data_example, predict_data_example=None, finetune_mode=False, *args, **kwargs):
    loads.append(finetune_mode)
    return Loaded()

RasaModel.load = classmethod(load)
Agent.load_model = lambda self, *a, **k: loads.append("agent")
released = []
rs.release_memory = lambda: released.append(True) or True
rs.lighter_model_loads()
rs.lighter_model_loads()  # installing twice wraps once
served = RasaModel.load("weights", "example", None, False)
tuned = RasaModel.load("weights", "example", finetune_mode=True)
Agent.load_model(object(), "model.tar.gz")
out["served"] = [served.train_function, served.train_tf_function]
out["finetuned"] = [tuned.train_function, tuned.train_tf_function]
out["released"] = len(released)
out["loads"] = len(loads)
print(json.dumps(out))
"""

SWITCHED_OFF_PROBE = """
import json
from rasa.core.agent import Agent
from rasa.utils.tensorflow.models import RasaModel
before = (RasaModel.load.__func__, Agent.load_model)
import bot.rasa_server as rs
rs.lighter_model_loads()
print(json.dumps([RasaModel.load.__func__ is before[0], Agent.load_model is before[1]]))
"""


def _bot_python(code: str, **env: str) -> str:
    done = subprocess.run(
        [str(BOT_PY), "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_a_model_loaded_for_serving_drops_its_training_step_and_each_load_releases_memory() -> None:
    out = json.loads(_bot_python(LOADS_PROBE, TF_CPP_MIN_LOG_LEVEL="3"))
    # The real Keras tracking lets go of the traced step; the weights answer the same.
    assert out["dropped"] == 2 and out["step_freed"] and out["same_prediction"]
    assert out["attribute"] is None and out["trains_again"]
    # RasaModel.load for serving drops it; for fine-tuning keeps it; every Agent model load releases once.
    assert out["served"] == [None, None]
    assert out["finetuned"] == ["traced", "traced"]
    assert out["loads"] == 3 and out["released"] == 1


def test_each_memory_measure_can_be_switched_off() -> None:
    assert json.loads(_bot_python(SWITCHED_OFF_PROBE)) == [False, False]
    both_off = {"PROMPTLINK_RASA_DROP_TRAIN_STEP": "0", "PROMPTLINK_RASA_MALLOC_TRIM": "0"}
    assert json.loads(_bot_python(SWITCHED_OFF_PROBE, **both_off)) == [True, True]
    assert json.loads(_bot_python(SWITCHED_OFF_PROBE, PROMPTLINK_RASA_MALLOC_TRIM="0")) == [False, True]


RELEASE_PROBE = """
import gc, json, weakref
import bot.rasa_server as rs

class Node:
    pass

model = Node()
model.itself = model  # a cycle, as a loaded model's objects are
ref = weakref.ref(model)
trimmed = rs.release_memory()  # after a load: the model is alive
frozen = gc.get_freeze_count()
del model  # replaced by the next model
gc.collect()
kept_by_freeze = ref() is not None
rs.release_memory()  # the next load: what the first froze is collected now
print(json.dumps([trimmed, frozen > 0, kept_by_freeze, ref() is None, gc.get_freeze_count() > 0]))
"""


def test_release_memory_freezes_what_a_load_left_and_trims_the_c_heap() -> None:
    # malloc_trim ran (glibc); the model's objects left the collector's reach until the next load, which
    # collects what the previous model left behind, and freezes again.
    assert json.loads(_bot_python(RELEASE_PROBE)) == [True, True, True, True, True]
    assert json.loads(_bot_python(RELEASE_PROBE, PROMPTLINK_RASA_GC_FREEZE="0")) == [True, False, False, True, False]
