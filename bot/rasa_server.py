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
    if len(sys.argv) > 1 and sys.argv[1] == "run":
        from bot import metrics

        host, port = metrics.rasa_address(sys.argv)
        metrics.install_rasa(metrics.process_name("rasa", host, port))  # GET /metrics (docs/operations.md)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
