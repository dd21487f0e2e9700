"""Files and rows written or rolled back together, and the pictures the studio derives (WebP thumbnails)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from PIL import Image

logger = logging.getLogger(__name__)


THUMBNAIL_SIDE = 400


@contextmanager
def atomic_with_files() -> Iterator[list[FieldFile]]:
    """A transaction that yields a list: files appended to it are deleted if the transaction does not
    commit (the row never existed).

    Once it has committed the files stay, even if what runs on commit raises afterwards (a broker that
    stalls until the web server's timeout kills the request): the row exists and needs them. The first
    on-commit callback marks the commit, before the ones the block registers run.
    """
    written: list[FieldFile] = []
    committed: list[bool] = []
    try:
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(True))
            yield written
    except BaseException:
        if not committed:
            delete_files([(f.storage, f.name) for f in written])
        raise


def save_file(field: FieldFile, filename: str, data: bytes | io.BufferedReader, written: list[FieldFile]) -> None:
    """Save bytes, or an open file (streamed: a language model's weights are hundreds of MB)."""
    field.save(filename, ContentFile(data) if isinstance(data, bytes) else File(data), save=False)
    written.append(field)


def delete_files(files) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:
            logger.warning("Could not remove %s", name, exc_info=True)


def webp(image: Image.Image, *, side: int = THUMBNAIL_SIDE, quality: int = 82, method: int = 4) -> bytes:
    """A WebP of `image` fitted within side x side: thumbnails, previews, samples."""
    small = image.copy()
    small.thumbnail((side, side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, format="WEBP", quality=quality, method=method)
    return buf.getvalue()
