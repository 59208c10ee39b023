"""Stored files: ids, paths and Telegram's photo re-encoding.

Telegram recompresses every photo into a few JPEG sizes and strips EXIF (GPS included) on the way,
while documents are kept byte-for-byte. Tests about location privacy depend on that difference,
so photos really go through Pillow here.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses larger files on the cloud Bot API
PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024
PHOTO_SIDES = (90, 320, 800, 1280)

_FILE_ID_PREFIX = {"photos": "AgACAgUAAxkBAAI", "documents": "BQACAgUAAxkBAAI"}
_UNIQUE_PREFIX = {"photos": "AQAD", "documents": "AgAD"}


class MediaError(ValueError):
    """A file Telegram would refuse; the message is the Bot API description."""


@dataclass
class StoredFile:
    """One file as Telegram's storage knows it."""

    file_id: str
    file_unique_id: str
    kind: str
    file_path: str
    data: bytes | None
    size: int
    photo_group: list[dict[str, Any]] = field(default_factory=list)
    document: dict[str, Any] | None = None

    def file_json(self) -> dict[str, Any]:
        """File object as getFile returns it."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


class FileStore:
    """All files, by id and by download path. Not locked: FakeTelegram's lock covers it."""

    def __init__(self) -> None:
        self._counter = 0
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}

    def add(
        self, data: bytes | None, *, kind: str, ext: str, size: int | None = None
    ) -> StoredFile:
        """Store bytes (or only a claimed size) and give them Telegram-looking ids."""
        self._counter += 1
        n = self._counter
        digest = hashlib.sha256(f"{kind}:{n}".encode()).digest()
        file_id = _FILE_ID_PREFIX.get(kind, "CAACAgUAAxkBAAI") + _b64(digest[:36]) + f"{n:04d}"
        unique = _UNIQUE_PREFIX.get(kind, "AQAD") + _b64(digest[-9:]) + f"{n:02d}"
        path = f"{kind}/file_{n}.{ext.lstrip('.') or 'bin'}"
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique,
            kind=kind,
            file_path=path,
            data=data,
            size=len(data) if size is None and data is not None else int(size or 0),
        )
        self.by_id[file_id] = stored
        self.by_path[path] = stored
        return stored

    def photo_size(self, stored: StoredFile) -> dict[str, Any]:
        """A PhotoSize for stored bytes, with real dimensions when Pillow can read them."""
        width = height = 0
        try:
            with Image.open(io.BytesIO(stored.data or b"")) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError, ValueError):
            pass
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "width": width,
            "height": height,
        }

    def add_photo(self, data: bytes) -> list[dict[str, Any]]:
        """Re-encode an image like Telegram: several JPEG PhotoSizes, no EXIF."""
        if not data:
            raise MediaError("Bad Request: file must be non-empty")
        if len(data) > PHOTO_UPLOAD_LIMIT:
            raise MediaError(
                f"Bad Request: file of size {len(data)} bytes is too big for a photo; "
                f"the maximum size is {PHOTO_UPLOAD_LIMIT} bytes"
            )
        try:
            with Image.open(io.BytesIO(data)) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened).convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            raise MediaError("Bad Request: IMAGE_PROCESS_FAILED") from None
        width, height = image.size
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise MediaError("Bad Request: PHOTO_INVALID_DIMENSIONS")
        longest = max(width, height)
        top = min(longest, PHOTO_SIDES[-1])
        sides = [s for s in PHOTO_SIDES if s < top] + [top]
        group: list[dict[str, Any]] = []
        for side in sides:
            scale = side / longest
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            resized = image if size == image.size else image.resize(size, Image.LANCZOS)
            buf = io.BytesIO()
            resized.save(buf, "JPEG", quality=87)  # no exif= argument: metadata is dropped
            group.append(self.photo_size(self.add(buf.getvalue(), kind="photos", ext="jpg")))
        for photo in group:
            self.by_id[photo["file_id"]].photo_group = group
        return group

    def add_document(
        self,
        data: bytes | None,
        *,
        file_name: str | None,
        mime_type: str | None,
        file_size: int | None = None,
    ) -> dict[str, Any]:
        """Keep a document byte-for-byte and build its Document JSON."""
        if data is not None and not data and file_size is None:
            raise MediaError("Bad Request: file must be non-empty")
        ext = file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else "bin"
        stored = self.add(data, kind="documents", ext=ext, size=file_size)
        document: dict[str, Any] = {}
        if file_name:
            document["file_name"] = file_name
        if mime_type:
            document["mime_type"] = mime_type
        document.update(
            file_id=stored.file_id, file_unique_id=stored.file_unique_id, file_size=stored.size
        )
        stored.document = document
        return document


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
