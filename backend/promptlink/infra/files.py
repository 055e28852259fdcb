"""Files written whole or not at all: a restored backup, an attachment, the reviewed NLU file, the
active model's pointer.

A temporary file in the target's folder is written, flushed and fsynced, renamed over the target
(atomic on POSIX), and the folder is fsynced so the rename itself survives a power cut. A failure
removes the temporary file and leaves the target as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def replace_atomically(target: Path, write: Callable[[BinaryIO], object], *, prefix: str = ".tmp-") -> None:
    """Put what `write(out)` writes at `target`, whole or not at all (see the module's docstring)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_text_atomically(target: Path, content: str, *, prefix: str = ".tmp-") -> None:
    """`content` (UTF-8) at `target`, whole or not at all."""
    replace_atomically(target, lambda out: out.write(content.encode("utf-8")), prefix=prefix)
