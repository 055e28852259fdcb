"""`rasa <command> ...` with the HTTP API token read from the environment, not the command line.

`rasa run --auth-token T` shows T to anyone who can list processes (`ps`, /proc/<pid>/cmdline;
issue #13 F15). The supervisor runs `python -m bot.rasa_server run --enable-api ...` with the
token in `PROMPTLINK_RASA_TOKEN`; this puts it into Rasa's own argument list, inside the
process, where `ps` does not see it (/proc shows the arguments the process was started with).
`rasa run` also serves this process's Prometheus metrics on `/metrics` (bot/metrics.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import inspect
import os
import sys
from typing import Any, Callable

TOKEN_ENV = "PROMPTLINK_RASA_TOKEN"
# Packages a Rasa server imports only because they are installed, and never uses: TensorFlow's
# `tensorflow.lite.python.util` tries `from jax import xla_computation` (and carries on without it),
# which loads jax, jaxlib and XLA into every Rasa server. `python -m bot.rasa_server` makes those
# imports fail instead (docs/performance.md, «Rasa server memory»). Training and `rasa test` are
# not started through here and keep them.
UNUSED_MODULES = ("jax",)
IMPORT_ALL_ENV = "PROMPTLINK_RASA_IMPORT_ALL"  # "1": no block (bench/rasa_memory.py's `none` variant compares)


def block_unused_modules() -> None:
    """Make `import jax` (and the other UNUSED_MODULES) raise ImportError in this process."""
    if os.environ.get(IMPORT_ALL_ENV) == "1":
        return
    for name in UNUSED_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: «import halted», an ImportError


# What a loaded model holds only because of how Rasa loads it (docs/performance.md, «Session 13»):
# - `RasaModel.load` builds the weights by fitting the model on one example, which traces Keras's whole
#   training step (forward pass, gradients, optimizer, the dataset pipeline: ~90 TensorFlow function
#   graphs) and keeps it as the model's `train_function`; the server never trains, so it is dropped
#   once the model is loaded (~260 MB). The weights, and the prediction function the server uses, are
#   untouched: the model answers exactly as before.
# - After each model load (start-up, `PUT /model`, a model server's new model) the server collects
#   garbage and hands the heap's free pages back to the system with glibc's `malloc_trim(0)`: loading
#   frees far more than it keeps, and glibc keeps those free pages mapped in the middle of its heap.
DROP_TRAIN_STEP_ENV = "PROMPTLINK_RASA_DROP_TRAIN_STEP"  # "0": keep it (bench/rasa_memory.py compares)
MALLOC_TRIM_ENV = "PROMPTLINK_RASA_MALLOC_TRIM"  # "0": no trim
GC_FREEZE_ENV = "PROMPTLINK_RASA_GC_FREEZE"  # "0": the loaded model stays in the collector's reach
TRAIN_STEP_ATTRIBUTES = ("train_function", "train_tf_function")  # Keras 2.12's names for the traced step


def drop_train_step(model: Any) -> int:
    """Forget the training step a Keras model traced (`fit`); the number of attributes cleared.

    Keras tracks every attribute it is given (for checkpoints) in two more places than the attribute
    itself; `del` removes one of them, the other two still hold the function and its graphs."""
    dropped = 0
    for name in TRAIN_STEP_ATTRIBUTES:
        if getattr(model, name, None) is None:
            continue
        delattr(model, name)
        setattr(model, name, None)  # Keras reads it (`make_train_function`): None means «not traced»
        dropped += 1
    dependencies = getattr(model, "_self_unconditional_checkpoint_dependencies", None)
    if isinstance(dependencies, list):
        dependencies[:] = [d for d in dependencies if getattr(d, "name", None) not in TRAIN_STEP_ATTRIBUTES]
    names = getattr(model, "_self_unconditional_dependency_names", None)
    if isinstance(names, dict):
        for name in TRAIN_STEP_ATTRIBUTES:
            names.pop(name, None)
    return dropped


def drop_train_step_after_loads() -> None:
    """Wrap Rasa's `RasaModel.load` (DIET, TED, ...) so a model loaded for inference drops its training step."""
    if os.environ.get(DROP_TRAIN_STEP_ENV) == "0":
        return
    from rasa.utils.tensorflow.models import RasaModel

    load = RasaModel.load.__func__  # type: ignore[attr-defined]
    if getattr(load, "_promptlink_wrapped", False):
        return
    signature = inspect.signature(load)

    @functools.wraps(load)
    def load_for_inference(cls: Any, *args: Any, **kwargs: Any) -> Any:
        model = load(cls, *args, **kwargs)
        if not signature.bind(cls, *args, **kwargs).arguments.get("finetune_mode", False):
            drop_train_step(model)
        return model

    load_for_inference._promptlink_wrapped = True  # type: ignore[attr-defined]
    RasaModel.load = classmethod(load_for_inference)  # type: ignore[assignment]


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None (another C library, or not found)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def release_memory() -> bool:
    """Collect garbage, freeze what is left and return the C heap's free pages to the system; True if
    malloc_trim ran.

    Frozen (`gc.freeze`, unless PROMPTLINK_RASA_GC_FREEZE=0): the loaded model, TensorFlow's graphs and
    Rasa itself — about a million objects that live as long as the model. Python's full collections
    scanned them all with the server's event loop stopped: 221 ms once per server in a 300-chat run,
    476–563 ms at start-up; with the freeze none took over 4.4 ms (docs/performance.md, session 13).
    What an earlier load froze is unfrozen first, so a replaced model's garbage is collected here, at
    the next load."""
    freeze = os.environ.get(GC_FREEZE_ENV) != "0"
    if freeze:
        gc.unfreeze()
    gc.collect()
    if freeze:
        gc.freeze()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def release_memory_after_model_loads() -> None:
    """Wrap Rasa's `Agent.load_model` so every model load ends with `release_memory()`."""
    if os.environ.get(MALLOC_TRIM_ENV) == "0":
        return
    from rasa.core.agent import Agent

    load_model = Agent.load_model
    if getattr(load_model, "_promptlink_wrapped", False):
        return

    @functools.wraps(load_model)
    def load_and_release(self: Any, *args: Any, **kwargs: Any) -> None:
        load_model(self, *args, **kwargs)
        release_memory()

    load_and_release._promptlink_wrapped = True  # type: ignore[attr-defined]
    Agent.load_model = load_and_release  # type: ignore[method-assign]


def lighter_model_loads() -> None:
    """Both of the above; `python -m bot.rasa_server run` installs them before Rasa starts."""
    drop_train_step_after_loads()
    release_memory_after_model_loads()


def argv_with_token(argv: list[str], token: str) -> list[str]:
    """Rasa's arguments with `--auth-token` after the sub-command (the last one may be the model path)."""
    if len(argv) < 2:
        return list(argv)
    return [argv[0], argv[1], "--auth-token", token, *argv[2:]]


def main() -> None:
    token = os.environ.pop(TOKEN_ENV, "")
    if "--auth-token" in sys.argv:
        sys.exit("bot.rasa_server: pass the Rasa token in PROMPTLINK_RASA_TOKEN, never on the command line")
    if not token:
        sys.exit("bot.rasa_server: PROMPTLINK_RASA_TOKEN is not set (the Rasa HTTP API needs a token)")
    sys.argv = argv_with_token(["rasa", *sys.argv[1:]], token)
    block_unused_modules()
    if len(sys.argv) > 1 and sys.argv[1] == "run":
        from bot import metrics

        host, port = metrics.rasa_address(sys.argv)
        metrics.install_rasa(metrics.process_name("rasa", host, port))  # GET /metrics (docs/operations.md)
        lighter_model_loads()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
