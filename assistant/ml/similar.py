"""Similar real artworks: the Tate works whose title and subjects lie nearest an idea, by embedding.

The index is built once (``manage.py assistant index``, a few minutes on a CPU) from the Tate
metadata with the active sentence encoder, and is only valid for that encoder: its file is named
by the encoder's sha256, and the metadata inside repeats it.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from generator.ml.files import file_sha256, load_state_with_metadata, save_state

from .encoder import SentenceEncoder

SUBJECT_TERMS = 6  # the narrowest subject terms added to a title: "The Shipwreck — storm, ship, sea"


@dataclass(frozen=True)
class Work:
    acno: str
    title: str
    artist: str
    date: str

    @property
    def url(self) -> str:
        """The work's page on the Tate's site: /art/artworks/<artist surname>-<title>-<acno>."""
        surname = self.artist.split()[-1] if self.artist else ""
        slug = _slug(f"{surname} {self.title}")[:80].strip("-")
        return f"https://www.tate.org.uk/art/artworks/{slug}-{self.acno.lower()}"


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def read_works(path: Path, limit: int | None = None) -> Iterator[tuple[Work, str]]:
    """Each Tate work with a real title, and the text the index embeds for it."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        count = 0
        for line in lines:
            record = json.loads(line)
            title = (record.get("title") or "").strip()
            if not title or title.lower() in ("untitled", "[title not known]", "[no title]"):
                continue
            subjects = record.get("subjects2") or []
            text = title + (f" — {', '.join(subjects[:SUBJECT_TERMS])}" if subjects else "")
            yield Work(record.get("acno", ""), title, record.get("artist", ""), record.get("date", "")), text
            count += 1
            if limit is not None and count >= limit:
                return


class Index:
    def __init__(self, vectors: torch.Tensor, works: list[Work], encoder_sha256: str):
        self.vectors = vectors  # (N, 384) float16 unit vectors
        self.works = works
        self.encoder_sha256 = encoder_sha256

    def __len__(self) -> int:
        return len(self.works)

    def nearest(self, vector: torch.Tensor, k: int = 5) -> list[tuple[Work, float]]:
        """The k works nearest one (384,) unit vector, best first, each once (prints repeat titles)."""
        scores = self.vectors.float() @ vector.float().flatten()
        out, seen = [], set()
        for i in torch.argsort(scores, descending=True)[: k * 4].tolist():
            work = self.works[i]
            key = (work.title.lower(), work.artist)
            if key in seen:
                continue
            seen.add(key)
            out.append((work, float(scores[i])))
            if len(out) == k:
                break
        return out

    def save(self, target: Path) -> str:
        rows = [[w.acno, w.title, w.artist, w.date] for w in self.works]
        return save_state(
            {"vectors": self.vectors},
            target,
            {"works": json.dumps(rows, ensure_ascii=False), "encoder_sha256": self.encoder_sha256},
        )

    @classmethod
    def load(cls, path: Path) -> Index:
        state, metadata = load_state_with_metadata(path, file_sha256(path))
        works = [Work(*row) for row in json.loads(metadata["works"])]
        return cls(state["vectors"], works, metadata["encoder_sha256"])


def build(
    tate: Path,
    encoder: SentenceEncoder,
    encoder_sha256: str,
    *,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Index:
    works, texts = [], []
    for work, text in read_works(tate, limit):
        works.append(work)
        texts.append(text)
    vectors = encoder.encode(texts, batch_size=128, progress=progress)
    return Index(vectors.half(), works, encoder_sha256)


def index_path(folder: Path, encoder_sha256: str) -> Path:
    return Path(folder) / f"tate-{encoder_sha256[:16]}.safetensors"
