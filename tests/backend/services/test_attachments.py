"""Attachment rules (services/attachments.py): the type by content, names, size, checksums, and no
half-stored upload (the file goes when its row cannot be committed)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Attachment
from promptlink.services import attachments as files
from sqlalchemy import func, select

from testkit.files import log_text, pdf, png, windows_exe


def test_a_png_renamed_txt_is_accepted_as_png() -> None:
    checked = files.check(png(), "captura.txt", max_bytes=files.DEFAULT_MAX_BYTES)
    assert checked.media_type == "image/png"
    assert checked.file_name == "captura.txt.png"  # the extension follows the content
    assert checked.sha256 == hashlib.sha256(png()).hexdigest() and checked.size == len(png())


def test_an_exe_renamed_png_is_refused_in_spanish() -> None:
    with pytest.raises(files.AttachmentRefused) as refused:
        files.check(windows_exe(), "foto.png", max_bytes=files.DEFAULT_MAX_BYTES)
    assert "x-msdownload" in refused.value.detail
    assert refused.value.public.startswith("Ese tipo de archivo no está permitido.")
    assert refused.value.status == 422


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (pdf(), "application/pdf"),
        (log_text(), files.TEXT_UTF8),
        ("registro de año 2026\r\n".encode("latin-1"), files.TEXT_LATIN1),
        (b"\x1b[31mERROR\x1b[0m\tcolor\n", files.TEXT_UTF8),
    ],
)
def test_pdf_and_text_are_accepted_by_content(data: bytes, media_type: str) -> None:
    assert files.check(data, "x", max_bytes=files.DEFAULT_MAX_BYTES).media_type == media_type


@pytest.mark.parametrize("data", [b"texto\x00con NUL", b"\x01\x02\x03binario", b"PK\x03\x04" + bytes(40), b""])
def test_binary_archives_and_empty_files_are_refused(data: bytes) -> None:
    with pytest.raises(files.AttachmentRefused):
        files.check(data, "registro.log", max_bytes=files.DEFAULT_MAX_BYTES)


def test_the_size_limit_is_a_413_naming_the_limit() -> None:
    with pytest.raises(files.AttachmentTooLarge) as refused:
        files.check(b"a" * 2049, "a.txt", max_bytes=2048)
    assert refused.value.status == 413
    assert refused.value.public == "El archivo es demasiado grande (máximo 2 KB)."
    assert files.check(b"a" * 2048, "a.txt", max_bytes=2048).size == 2048


@pytest.mark.parametrize(
    ("name", "media_type", "expected"),
    [
        ("../../etc/passwd", files.TEXT_UTF8, "passwd.txt"),
        ("C:\\Users\\ana\\router.log", files.TEXT_UTF8, "router.log"),
        ("foto\u202egnp.exe", "image/jpeg", "foto_gnp.exe.jpg"),
        ("foto.JPEG", "image/jpeg", "foto.JPEG"),
        ("", "application/pdf", "archivo.pdf"),
        (".htaccess", files.TEXT_UTF8, "htaccess.txt"),
        ("a" * 300 + ".png", "image/png", "a" * 116 + ".png"),
    ],
)
def test_names_are_sanitised(name: str, media_type: str, expected: str) -> None:
    assert files.clean_name(name, media_type) == expected


def test_download_tokens_name_one_attachment_and_expire() -> None:
    files.configure("a-session-secret")
    token = files.download_token(7, now=1000.0, lifetime=60)
    assert files.token_grants(token, 7, now=1059.0)
    assert not files.token_grants(token, 8, now=1059.0)  # another attachment
    assert not files.token_grants(token, 7, now=1061.0)  # expired
    assert not files.token_grants(token.replace(".", ".0", 1), 7, now=1000.0)
    assert not files.token_grants(None, 7)


async def test_the_file_is_written_whole_and_removed_when_its_row_fails(seeded, tmp_path: Path) -> None:
    store = files.AttachmentStore(tmp_path / "attachments")
    checked = files.check(png(), "pantalla.png", max_bytes=files.DEFAULT_MAX_BYTES)
    with pytest.raises(RuntimeError):
        async with files.stored_file(seeded, store, png(), checked.sha256):
            assert store.read(checked.sha256) == png()  # in place before the row is committed
            async with transaction(seeded) as session:
                session.add(files.new_row(checked, uploader_kind="customer", uploader_id="x"))
                await session.flush()
                raise RuntimeError("the transaction fails after the row was written")
    assert not store.path(checked.sha256).exists()
    assert [p.name for p in store.root.rglob("*") if p.is_file()] == []  # no temporary file left either
    async with seeded() as session:
        assert await session.scalar(select(func.count()).select_from(Attachment)) == 0
    # Stored: the file under <sha[:2]>/<sha>, the row with its checksum.
    async with files.stored_file(seeded, store, png(), checked.sha256):
        async with transaction(seeded) as session:
            session.add(files.new_row(checked, uploader_kind="customer", uploader_id="x"))
    assert store.path(checked.sha256) == tmp_path / "attachments" / checked.sha256[:2] / checked.sha256
    assert hashlib.sha256(store.read(checked.sha256)).hexdigest() == checked.sha256
    # A second upload of the same bytes that fails keeps the file the first one's row names.
    with pytest.raises(RuntimeError):
        async with files.stored_file(seeded, store, png(), checked.sha256):
            raise RuntimeError("fails")
    assert store.read(checked.sha256) == png()
