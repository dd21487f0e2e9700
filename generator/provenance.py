"""What a downloaded picture says about itself: its parameters and model versions, and a readable file name.

The PNG the worker saved is sent as it is, with one iTXt chunk ("artstudio", JSON) and a "Software" tEXt chunk
put in right after the header: no picture is decoded or encoded again, so a download streams from the file
and a zip of thousands costs no more memory than one. Image viewers show the chunks (exiftool, GIMP, Krita);
`provenance` is also the JSON the gallery's zip carries for every picture.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from generator.models import Artwork

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEADER_END = len(PNG_SIGNATURE) + 25  # the signature, then IHDR: length 4, type 4, data 13, CRC 4
CHUNK = 256 * 1024
# Characters no file system takes in a name (Windows' list, the strictest), and control characters.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def provenance(artwork: Artwork) -> dict[str, Any]:
    """Everything needed to paint it again: the options, the model versions (sha256), when and on what."""
    return {
        "id": str(artwork.pk),
        "title": artwork.title,
        "created": artwork.created.isoformat(),
        "width": artwork.width,
        "height": artwork.height,
        "device": artwork.device,
        "seconds": artwork.seconds,
        "parameters": artwork.params,
        "model_versions": [
            {"kind": v.kind, "slot": v.slot, "label": v.label, "sha256": v.sha256}
            for v in sorted(artwork.model_versions.all(), key=lambda v: (v.kind, v.slot))
        ],
        "software": "Artstudio",
    }


def download_name(artwork: Artwork, suffix: str = ".png") -> str:
    """The title as a file name ("Harbour at dusk.png"); a picture without a title gets its id's start."""
    name = _UNSAFE.sub(" ", artwork.title)
    name = " ".join(name.split()).strip(". ")[:100]
    return f"{name or 'artstudio-' + str(artwork.pk)[:8]}{suffix}"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def text_chunks(info: dict[str, Any]) -> bytes:
    """An iTXt chunk "artstudio" (UTF-8 JSON: titles may be in any language) and a tEXt "Software"."""
    payload = json.dumps(info, ensure_ascii=False, separators=(",", ":")).encode()
    itxt = b"artstudio\x00" + b"\x00\x00" + b"\x00" + b"\x00" + payload  # no compression, no language
    return _chunk(b"iTXt", itxt) + _chunk(b"tEXt", b"Software\x00Artstudio")


def png_with_text(chunks: Iterable[bytes], info: dict[str, Any]) -> Iterator[bytes]:
    """The PNG in `chunks` (any sizes) with `text_chunks(info)` after its header; ValueError if not a PNG."""
    head = b""
    stream = iter(chunks)
    for piece in stream:
        head += piece
        if len(head) >= HEADER_END:
            break
    if not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    yield head[:HEADER_END] + text_chunks(info)
    yield head[HEADER_END:]
    yield from stream


def file_chunks(field) -> Iterator[bytes]:
    """A stored file's bytes, read a piece at a time; the file opens when the first piece is asked for."""
    with field.open("rb") as handle:
        while piece := handle.read(CHUNK):
            yield piece


def artwork_png(artwork: Artwork) -> tuple[Iterator[bytes], int]:
    """The artwork's PNG with its provenance, as pieces, and its length in bytes."""
    info = provenance(artwork)
    return png_with_text(file_chunks(artwork.image), info), artwork.image.size + len(text_chunks(info))
