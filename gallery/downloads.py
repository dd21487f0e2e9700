"""Many pictures as one zip, streamed while it is written: each PNG is read from storage a piece at a time
when the zip reaches it, so a zip of thousands holds one piece in memory, never the archive.

Each picture goes in under its title with its parameters and model versions (in the PNG's text chunks, and
beside it as JSON, `generator.provenance`). The zip's length is known before the first byte (zipstream-ng's
sized mode), so the browser shows real progress.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from zipfile import ZIP_STORED

from zipstream import ZipStream

from generator.models import Artwork
from generator.provenance import download_name, file_chunks, png_with_text, provenance, text_chunks


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or "name (2)" and so on when an earlier picture of the same title took it."""
    stem, dot, suffix = name.rpartition(".")
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem} ({n}){dot}{suffix}"
    taken.add(candidate.casefold())
    return candidate


def artworks_zip(artworks: Iterable[Artwork]) -> ZipStream:
    """A zip of `artworks` (PNG with provenance, and its JSON), nothing read until it is iterated.

    A picture whose file is gone from storage (a crash, a disk restored from an older backup) is listed in
    "missing.txt" instead of breaking the download halfway."""
    archive = ZipStream(compress_type=ZIP_STORED, sized=True)  # PNGs are compressed already
    taken: set[str] = set()
    missing = []
    for artwork in artworks:
        try:
            size = artwork.image.size
        except (FileNotFoundError, ValueError):
            missing.append(f"{artwork.pk} {artwork.title}".strip())
            continue
        info = provenance(artwork)
        name = _unique(download_name(artwork), taken)
        archive.add(png_with_text(file_chunks(artwork.image), info), name, size=size + len(text_chunks(info)))
        archive.add(json.dumps(info, ensure_ascii=False, indent=2).encode(), name.removesuffix(".png") + ".json")
    if missing:
        note = "These pictures' files were missing from storage:\n" + "\n".join(missing) + "\n"
        archive.add(note.encode(), _unique("missing.txt", taken))
    return archive
