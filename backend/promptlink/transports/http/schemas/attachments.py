"""Request and response models of the attachments API: a file sent in a chat, its download, a
ticket's list of files (issue 15)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, RootModel, WithJsonSchema

from promptlink.transports.http.api import QueryModel, RequestModel, ResponseModel

# The multipart form is read by the handler (services/attachments.py checks the file); the model
# documents its parts.
FilePart = Annotated[Any, WithJsonSchema({"type": "string", "format": "binary"})]
ClientMsgId = Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 64})]
Caption = Annotated[Any, WithJsonSchema({"type": "string", "maxLength": 500})]


class AttachmentUpload(RequestModel):
    """`multipart/form-data`: the file and, optionally, the client's message id and a caption."""

    file: FilePart = Field(
        None,
        description="The file (one part, with its file name). Accepted by content: PNG, JPEG, GIF or WebP "
        "images, PDF, text/log files (UTF-8 or Latin-1, no NUL bytes); at most `PROMPTLINK_ATTACHMENT_MAX_BYTES` "
        "(10 MB by default)",
    )
    client_msg_id: ClientMsgId = Field(
        None, description="The message's id on the client (1–64 characters): a resend is stored once"
    )
    text: Caption = Field(
        None, description="A caption (≤ 500 characters); the message's text is the file name otherwise"
    )


class DownloadQuery(QueryModel):
    t: str | None = Field(None, description="The signed download token of the chat event's `url` (expires in 24 h)")
    inline: str | None = Field(None, description="`1`: shown in the page (images only), for previews")


class AttachmentOut(ResponseModel):
    """An attachment as chat events and lists show it."""

    id: int
    name: str = Field(description="The file name, sanitised (its extension matches the content)")
    media_type: str = Field(description="Found from the content, e.g. image/png, application/pdf, text/plain")
    size: int = Field(description="Bytes")
    sha256: str = Field(description="Checksum of the stored bytes (hex)")
    url: str = Field(description="Download link (same origin), with a signed token valid 24 h")
    preview_url: str | None = Field(None, description="Images only: the same link shown inline, for thumbnails")
    uploader_kind: str = Field(description="customer, agent or email")
    created_at: str


class AttachmentMessage(ResponseModel):
    """The chat `message` the file became (also emitted over socket.io to both sides)."""

    conversation_id: str
    seq: int
    role: str = Field(description="customer or agent")
    text: str
    created_at: str
    author_name: str | None = None
    attachment: AttachmentOut


class AttachmentList(ResponseModel):
    attachments: list[AttachmentOut]


class FileBytes(RootModel[str]):
    """The file's bytes, with its stored media type, `Content-Disposition: attachment` (inline for an image
    preview) and `X-Content-Type-Options: nosniff`."""
