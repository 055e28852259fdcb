"""Files written whole or not at all (restores, attachments, the reviewed NLU file, the model pointer)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pytest
from promptlink.infra.files import replace_atomically, write_text_atomically


def test_the_target_is_replaced_whole_and_no_temporary_file_stays(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "folder" / "reviewed.yml"  # folders are made
    write_text_atomically(target, "versión 1\n", prefix=".reviewed-")
    write_text_atomically(target, "versión 2: ñandú\n", prefix=".reviewed-")
    assert target.read_text(encoding="utf-8") == "versión 2: ñandú\n"
    assert [p.name for p in target.parent.iterdir()] == ["reviewed.yml"]


def test_a_write_that_fails_leaves_the_old_content_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "attachment.bin"
    target.write_bytes(b"old")

    def half_then_fail(out: BinaryIO) -> None:
        out.write(b"new but half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_atomically(target, half_then_fail, prefix=".upload-")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["attachment.bin"]
