"""`rasa <command> ...` with the HTTP API token read from the environment, not the command line.

`rasa run --auth-token T` shows T to anyone who can list processes (`ps`, /proc/<pid>/cmdline;
issue #13 F15). The supervisor runs `python -m bot.rasa_server run --enable-api ...` with the
token in `PROMPTLINK_RASA_TOKEN`; this puts it into Rasa's own argument list, inside the
process, where `ps` does not see it (/proc shows the arguments the process was started with).
`rasa run` also serves this process's Prometheus metrics on `/metrics` (bot/metrics.py).
"""

from __future__ import annotations

import os
import sys

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
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
