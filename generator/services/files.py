"""Files and rows written or rolled back together, the pictures the studio derives (WebP thumbnails), and the
files no row points to any more."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

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


@dataclass(frozen=True)
class Orphan:
    name: str  # the storage's name for it, e.g. "users/3/photos/ab12….jpg"
    size: int


def orphan_files(*, min_age: timedelta = timedelta(hours=1)) -> list[Orphan]:
    """Files in the media folder that no row points to: left by a crash between a file's write and its row's
    commit, or by a delete whose process died before the files went.

    Every FileField of every installed model counts (the studio's, the assistant's, any app's), so no app has
    to be named here. Files younger than `min_age` are left out: their row may be committing right now.
    """
    from django.apps import apps
    from django.conf import settings
    from django.db import models

    known: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                names = model._default_manager.exclude(**{field.name: ""}).values_list(field.name, flat=True)
                known.update(names.iterator())
    root = Path(settings.MEDIA_ROOT)  # the default storage's folder (STORAGES: the file system)
    newest = time.time() - min_age.total_seconds()
    found = []
    for path in sorted(root.rglob("*")) if root.exists() else []:
        if not path.is_file():
            continue
        name = path.relative_to(root).as_posix()
        stat = path.stat()
        if name not in known and stat.st_mtime < newest:
            found.append(Orphan(name, stat.st_size))
    return found


def orphan_files_delete(orphans: list[Orphan]) -> int:
    """Remove the given orphans (each checked again: a row may point to it since it was listed)."""
    from django.core.files.storage import default_storage

    still = {o.name for o in orphan_files(min_age=timedelta(0))}
    gone = [o.name for o in orphans if o.name in still]
    delete_files([(default_storage, name) for name in gone])
    return len(gone)
