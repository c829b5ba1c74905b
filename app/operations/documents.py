"""Documents and photos: uploaded files attached to one order, quote, visit, work order or
contact. The bytes live outside the database in a `DocumentStore` (a directory now; an object
store can come later behind the same three methods); the row keeps name, type, size, SHA-256,
category and tags. The type is judged from the content, never the name; size is capped. A
refused upload writes nothing, and a file written for a transaction that rolls back is removed
(docs/operations.md, "Documents").
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import filetype
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import text
from app.access import policy
from app.access.policy import Viewer
from app.audit.service import Actor, record
from app.contacts.models import Contact
from app.db import columns, read
from app.errors import NotFound, ValidationFailed
from app.operations.errors import UploadRejected
from app.operations.models import Document, DocumentCategory, Quote, Visit, WorkOrder
from app.orders.models import Order

ACCEPTED_TYPES: Final = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "application/pdf": "PDF",
}
MAX_TAGS: Final = 10
DOCUMENT_ROUTE: Final = "/documents/{document_id}"
"""Where a document's bytes are downloaded (app/asgi.py), with the same token."""
PARENTS: Final[dict[str, Any]] = {
    "order_id": Order,
    "quote_id": Quote,
    "visit_id": Visit,
    "work_order_id": WorkOrder,
    "contact_id": Contact,
}
"""The column of `document` naming each kind of parent, and the parent's model."""


class DocumentStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    def path(self, key: str) -> Path: ...

    async def remove(self, key: str) -> None: ...


class DirectoryStore:
    """One file per document under `root`, in a subdirectory per first two characters of the
    key; written to a temporary name first and renamed, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    async def put(self, key: str, data: bytes) -> None:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(f".{key}.part")
        partial.write_bytes(data)
        os.replace(partial, final)

    async def remove(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadIn:
    parent_column: str
    parent_id: uuid.UUID
    file_name: str
    data: bytes
    category: DocumentCategory
    tags: Sequence[str] = ()


def _tags(tags: Sequence[str]) -> list[str]:
    cleaned = []
    for raw in tags:
        tag = text.line(raw, field="tags", max_length=40)
        if tag is None:
            raise ValidationFailed("A tag is 1 to 40 characters.", field="tags")
        if tag.lower() not in cleaned:
            cleaned.append(tag.lower())
    if len(cleaned) > MAX_TAGS:
        raise ValidationFailed(f"A document has at most {MAX_TAGS} tags.", field="tags")
    return cleaned


def content_type_of(data: bytes, max_bytes: int) -> str:
    """The accepted type of `data`, judged from its content; UploadRejected otherwise."""
    if not data:
        raise UploadRejected("The file is empty.")
    if len(data) > max_bytes:
        raise UploadRejected(f"The file is larger than {max_bytes} bytes.")
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ACCEPTED_TYPES:
        accepted = ", ".join(ACCEPTED_TYPES.values())
        found = f" ({kind.mime})" if kind is not None else ""
        raise UploadRejected(f"The file's content is not an accepted type{found}: {accepted}.")
    return str(kind.mime)


async def _parent_visible(session: AsyncSession, column: str, parent_id: uuid.UUID, viewer: Viewer) -> bool:
    model = PARENTS[column]
    condition = (
        policy.in_scope(viewer, Contact.id) if model is Contact else policy.visible(viewer, model)
    )  # a contact's documents: for those who see all of the contact
    return await session.scalar(select(model.id).where(model.id == parent_id, condition)) is not None


def _remove_on_rollback(session: AsyncSession, store: DocumentStore, key: str) -> None:
    """The stored file goes again if the transaction that records it does not commit."""
    written: list[str] = session.info.setdefault("documents_written", [])
    if not written:

        def rolled_back(sync_session: Any, *_: Any) -> None:
            for path in (store.path(k) for k in sync_session.info.pop("documents_written", [])):
                path.unlink(missing_ok=True)

        def committed(sync_session: Any) -> None:
            sync_session.info.pop("documents_written", None)

        event.listen(session.sync_session, "after_rollback", rolled_back, once=True)
        event.listen(session.sync_session, "after_commit", committed, once=True)
    written.append(key)


async def upload(
    *, session: AsyncSession, store: DocumentStore, upload_in: UploadIn, max_bytes: int, actor: Actor, viewer: Viewer
) -> Document:
    """Check everything, then store the bytes and record the row (removed again on rollback)."""
    if upload_in.parent_column not in PARENTS:
        raise ValidationFailed("Attach a document to an order, quote, visit, work order or contact.", field="parent_id")
    if not await _parent_visible(session, upload_in.parent_column, upload_in.parent_id, viewer):
        raise NotFound(PARENTS[upload_in.parent_column].__name__, upload_in.parent_id, field="parent_id")
    file_name = text.line(Path(upload_in.file_name or "").name, field="file_name", max_length=200) or "upload"
    content_type = content_type_of(upload_in.data, max_bytes)
    tags = _tags(upload_in.tags)
    key = uuid.uuid4().hex
    document = Document(
        file_name=file_name,
        content_type=content_type,
        size_bytes=len(upload_in.data),
        sha256=hashlib.sha256(upload_in.data).hexdigest(),
        category=upload_in.category.value,
        tags=tags,
        storage_key=key,
        uploaded_by_account_id=actor.account_id,
        **{upload_in.parent_column: upload_in.parent_id},
    )
    session.add(document)
    await session.flush()
    _remove_on_rollback(session, store, key)
    await store.put(key, upload_in.data)
    await record(
        session=session,
        actor=actor,
        action="document.upload",
        entity_type="document",
        entity_id=document.id,
        before=None,
        after={"file_name": file_name, "content_type": content_type, "size": len(upload_in.data),
               "sha256": document.sha256, upload_in.parent_column: upload_in.parent_id},
    )  # fmt: skip
    return document


async def visible_document(*, session: AsyncSession, document_id: uuid.UUID, viewer: Viewer) -> Any | None:
    rows = await read(
        session, select(*columns(Document)).where(Document.id == document_id, policy.visible(viewer, Document))
    )
    return rows[0] if rows else None
