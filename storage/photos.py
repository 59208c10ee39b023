"""Rider photos on disk: processed once, stored by the hash of their bytes.

PhotoStore is what handlers use: it keeps the limits, runs the CPU-bound processing
(storage/photo_process.py) in worker threads, a few at a time, and writes each result
atomically under its content hash, so the same photo sent twice is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import re
import tempfile
from dataclasses import dataclass

from storage.photo_checks import MAX_DECODED_BYTES
from storage.photo_process import ProcessedPhoto, process_image

__all__ = ["PhotoStore", "StoredPhoto", "default_workers"]

_SHA256_RE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredPhoto:
    """Where a processed photo lives on disk, keyed by the hash of its bytes."""

    sha256: str
    path: pathlib.Path
    width: int
    height: int
    size: int
    gps: tuple[float, float] | None


def _fsync_dir(path: pathlib.Path) -> None:
    """Make a rename durable; best effort where directories cannot be opened."""
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:
        return
    fd = os.open(path, os.O_RDONLY | flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def default_workers() -> int:
    """Photos decoded at once: leave a core to the event loop (1 on a 2-core machine)."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


class PhotoStore:
    """Content-addressed photo files under ``<root>/<sha[:2]>/<sha>.jpg``."""

    def __init__(
        self,
        root: pathlib.Path,
        *,
        max_side: int = 2048,
        max_pixels: int = 50_000_000,
        max_bytes: int = 20 * 1024 * 1024,
        max_decoded_bytes: int = MAX_DECODED_BYTES,
        workers: int | None = None,
    ) -> None:
        """Keep limits here so handlers cannot forget them."""
        self.root = pathlib.Path(root)
        self.max_side = max_side
        self.max_pixels = max_pixels
        self.max_bytes = max_bytes
        self.max_decoded_bytes = max_decoded_bytes
        self.workers = workers or default_workers()
        # Memory and CPU are bounded by how many photos decode at once, not by who sends them.
        self._slots = asyncio.Semaphore(self.workers)

    def path_for(self, sha256: str) -> pathlib.Path:
        """File path for a hash; refuses anything but a hex digest (no path tricks)."""
        if not _SHA256_RE.fullmatch(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}.jpg"

    def read(self, sha256: str) -> bytes:
        """Stored JPEG bytes; FileNotFoundError if absent."""
        return self.path_for(sha256).read_bytes()

    async def save(self, data: bytes) -> StoredPhoto:
        """Process and store in a worker thread so the event loop never decodes or blocks;
        at most ``workers`` at a time, the others wait their turn."""
        async with self._slots:
            return await asyncio.to_thread(self._save_sync, bytes(data))

    async def process(self, data: bytes) -> ProcessedPhoto:
        """Check and normalise without storing: a caller that may still refuse the whole
        (the web form) keeps nothing on disk until it files (then `keep`)."""
        async with self._slots:
            return await asyncio.to_thread(self._process_sync, bytes(data))

    async def keep(self, processed: ProcessedPhoto) -> StoredPhoto:
        return await asyncio.to_thread(self._keep_sync, processed)

    def _process_sync(self, data: bytes) -> ProcessedPhoto:
        return process_image(
            data,
            max_side=self.max_side,
            max_pixels=self.max_pixels,
            max_bytes=self.max_bytes,
            max_decoded_bytes=self.max_decoded_bytes,
        )

    def _save_sync(self, data: bytes) -> StoredPhoto:
        return self._keep_sync(self._process_sync(data))

    def _keep_sync(self, processed: ProcessedPhoto) -> StoredPhoto:
        path = self.path_for(processed.sha256)
        if not path.exists():
            self._write_atomic(path, processed.data)
        return StoredPhoto(
            sha256=processed.sha256,
            path=path,
            width=processed.width,
            height=processed.height,
            size=len(processed.data),
            gps=processed.gps,
        )

    @staticmethod
    def _write_atomic(path: pathlib.Path, payload: bytes) -> None:
        """Temp file + fsync + rename: readers never see a partial photo; racing writers of the
        same hash write identical bytes, so the last rename wins harmlessly."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jpg")
        tmp = pathlib.Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        _fsync_dir(path.parent)
