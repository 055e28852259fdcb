"""`rasa train` in a workspace, with its progress read from the output as it runs."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

LOG_TAIL_CHARS = 4000
EPOCHS = re.compile(r"Epochs:\s+(\d+)%")
COMPONENT = re.compile(r"Starting to train component '([A-Za-z]+)'")
PUSH_SECONDS = 1.0  # how often the progress is reported while the output flows

# Called with the fields of the run's version to update (progress, stage, log_tail).
Report = Callable[..., Awaitable[None]]


class TrainingOutput:
    """Progress of `rasa train` from its output: component starts and the DIET/TED epoch bars.

    tqdm redraws its bar with a carriage return and no newline, so the unfinished last
    line is parsed too (for progress, not for the log tail).
    """

    def __init__(self) -> None:
        self.tail = ""
        self.progress = 2
        self.stage = "Entrenando"
        self.component = ""
        self._buffer = b""

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        parts = re.split(rb"[\r\n]", self._buffer)
        self._buffer = parts.pop()
        for raw in parts:
            line = raw.decode(errors="replace").strip()
            if line:
                self.tail = (self.tail + line + "\n")[-LOG_TAIL_CHARS:]
                self._line(line)
        self._line(self._buffer.decode(errors="replace"))

    def _line(self, line: str) -> None:
        if found := COMPONENT.search(line):
            self.component = found.group(1)
            self.stage = f"Entrenando {self.component}"
            self.progress = max(self.progress, 70 if "TED" in self.component else 10)
        elif (epochs := EPOCHS.search(line)) and self.component:
            share = int(epochs.group(1))
            base, span = (70, 14) if "TED" in self.component else (10, 58)
            self.progress = min(84, max(self.progress, base + span * share // 100))
            self.stage = f"Entrenando {self.component}: {share} % de las épocas"


def rasa_env(cache_dir: Path) -> dict[str, str]:
    """The environment of a `rasa` subprocess: quiet, no telemetry, the shared training cache."""
    return dict(
        os.environ,
        RASA_TELEMETRY_ENABLED="false",
        RASA_CACHE_DIRECTORY=str(cache_dir),
        PYTHONWARNINGS="ignore",
        TF_CPP_MIN_LOG_LEVEL="2",
    )


async def train(
    *, rasa_bin: Path, workspace: Path, out: Path, model: Path, env: dict[str, Any], report: Report
) -> None:
    """`rasa train` of `workspace` into `model` (in `out`), reporting its progress as it goes."""
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    argv = [
        str(rasa_bin),
        "train",
        "--data",
        "data",
        "--domain",
        "domain",
        "--config",
        "config.yml",
        "--out",
        str(out),
        "--fixed-model-name",
        model.name.removesuffix(".tar.gz"),
    ]
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=workspace, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        await _follow(process, model, report)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _follow(process: asyncio.subprocess.Process, model: Path, report: Report) -> None:
    assert process.stdout is not None
    parser = TrainingOutput()
    last_push, pending = 0.0, False
    while True:
        try:
            chunk: bytes | None = await asyncio.wait_for(process.stdout.read(4096), timeout=1.0)
        except TimeoutError:
            chunk = None
        if chunk == b"":
            break
        if chunk:
            parser.feed(chunk)
            pending = True
        if pending and time.monotonic() - last_push >= PUSH_SECONDS:
            last_push, pending = time.monotonic(), False
            await report(progress=parser.progress, stage=parser.stage, log_tail=parser.tail)
    tail = parser.tail
    code = await process.wait()
    await report(log_tail=tail)
    if code != 0 or not await asyncio.to_thread(model.is_file):
        raise RuntimeError(f"rasa train exited with {code}")
