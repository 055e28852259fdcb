"""JSON and file responses of the attachments API."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sanic.response import HTTPResponse, raw

from promptlink.models import Attachment
from promptlink.services import attachments as files

# A downloaded file is never run as a page of this site, whatever it holds.
DOWNLOAD_CSP = "default-src 'none'; sandbox"


def attachment_list(rows: list[Attachment]) -> dict[str, Any]:
    return {"attachments": [files.to_json(row) for row in rows]}


def content_disposition(kind: str, name: str) -> str:
    """`attachment; filename="…"; filename*=UTF-8''…`: an ASCII fallback and the exact name (RFC 6266)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in name) or "archivo"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_response(row: Attachment, data: bytes, *, inline: bool) -> HTTPResponse:
    """The stored bytes as a download (inline only for an image preview), never sniffed."""
    shown_inline = inline and files.is_image(row.media_type)
    return raw(
        data,
        content_type=row.media_type,
        headers={
            "Content-Disposition": content_disposition("inline" if shown_inline else "attachment", row.file_name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": DOWNLOAD_CSP,
            "Cache-Control": "private, max-age=300",
        },
    )
