"""The Tate collection metadata (CC0) as the classifier heads learn from it: records, a fixed split,
the text a record is read as, and the label vocabularies.

The split never changes between runs or machines: a record's part is ``int(sha1(str(id)), 16) % 10``,
0 -> "test", 1 -> "validation", 2..9 -> "train" (about 10/10/80 %). It depends on nothing but the id,
so adding records to the file later leaves every existing record where it was.

No torch here: these are lists and strings, so the reader can be tested in milliseconds.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SPLIT_RULE = "sha1(str(id)) mod 10: 0 test, 1 validation, 2-9 train"
SUBJECT_LEVELS = ("subjects0", "subjects1", "subjects2")

# Cataloguers' placeholders, not titles: "[title not known]", "[blank]", "[inscriptions by Turner]" ...
_BRACKETED = re.compile(r"\[[^\]]*\]")
# The back of a sheet is another picture; the idea an artist types is one scene, so the verso goes.
_VERSO = re.compile(r"\s*\.?\s*\bverso\s*:.*$", re.IGNORECASE | re.DOTALL)
# "Untitled", "Untitled II", "Untitled #5", "Untitled (Street)" -> the words in brackets, if any
_UNTITLED = re.compile(r"^\s*(?i:untitled|no title|blank)\b(?:[\s#]*(?:\d+|[IVXLC]+|[A-D])\b)*[\s.,:;-]*")
_ROMAN = re.compile(r"[IVXLC]+")  # "III": a number in a series
# Titles that name the kind of sheet, not what is on it: nothing a subject can be learnt from
_EMPTY_TITLES = frozenset(
    {
        "blank",
        "untitled",
        "no title",
        "sketch",
        "sketches",
        "study",
        "studies",
        "drawing",
        "drawings",
        "composition",
        "sketchbook",
        "page",
        "inscription",
        "inscriptions",
        "cover",
        "title page",
        "colour trials",
        "head",
        "figure",
    }
)


@dataclass(frozen=True)
class Record:
    id: int
    title: str
    artist: str = ""
    date: str = ""
    subjects: tuple[tuple[str, ...], ...] = ((), (), ())  # subjects0, subjects1, subjects2: broad to narrow
    movements: tuple[str, ...] = ()
    text: str = ""  # the title as the heads read it; "" where it says nothing about the picture

    @property
    def part(self) -> str:
        return split_of(self.id)


def split_of(record_id: int | str) -> str:
    """The record's fixed part: "train", "validation" or "test" (see SPLIT_RULE)."""
    bucket = int(hashlib.sha1(str(record_id).encode()).hexdigest(), 16) % 10
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


def title_text(title: str) -> str:
    """The words of a title that describe the picture; "" for a placeholder ("[title not known]", "Untitled")."""
    text = _VERSO.sub("", title or "")
    text = _BRACKETED.sub(" ", text)
    text = _UNTITLED.sub("", text)
    text = re.sub(r"\s+", " ", text).strip(" .,;:-–—")
    if text.startswith("(") and text.endswith(")"):  # what was left of "Untitled (Street)"
        text = text[1:-1].strip()
    if not any(c.isalpha() for c in text) or _ROMAN.fullmatch(text) or text.lower() in _EMPTY_TITLES:
        return ""
    return text


def read_records(path: Path) -> list[Record]:
    """Every record of an artworks.jsonl.gz, in file order."""
    return list(_iter_records(Path(path)))


def _iter_records(path: Path) -> Iterator[Record]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            raw = json.loads(line)
            title = raw.get("title") or ""
            yield Record(
                id=int(raw["id"]),
                title=title,
                artist=raw.get("artist") or "",
                date=raw.get("date") or "",
                subjects=tuple(tuple(raw.get(level) or ()) for level in SUBJECT_LEVELS),
                movements=tuple(raw.get("movements") or ()),
                text=title_text(title),
            )


def by_part(records: Iterable[Record]) -> dict[str, list[Record]]:
    parts: dict[str, list[Record]] = {"train": [], "validation": [], "test": []}
    for record in records:
        parts[record.part].append(record)
    return parts


# -- label vocabularies ---------------------------------------------------------------------------


def subject_vocabulary(train: Sequence[Record], level: int, *, min_support: int) -> tuple[str, ...]:
    """The level's subject terms with at least `min_support` training records, most frequent first.

    Counted on the training part only, so the held-out parts cannot choose the labels.
    """
    counts = Counter(s for r in train if r.text for s in set(r.subjects[level]))
    return tuple(label for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_support)


def subject_targets(record: Record, level: int, labels: Sequence[str]) -> set[str]:
    wanted = set(labels)
    return {s for s in record.subjects[level] if s in wanted}


@dataclass(frozen=True)
class Catalogue:
    """One labels file (movements.jsonl, moods.jsonl): labels, their Tate terms, descriptions and prompts."""

    labels: tuple[str, ...]
    tate: dict[str, tuple[str, ...]] = field(default_factory=dict)  # label -> the Tate terms mapped to it
    descriptions: dict[str, str] = field(default_factory=dict)
    prompts: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def label_of_term(self) -> dict[str, str]:
        """Tate term (lower-cased) -> label; a term claimed by two labels goes to the first."""
        out: dict[str, str] = {}
        for label in self.labels:
            for term in self.tate.get(label, ()):
                out.setdefault(term.strip().lower(), label)
        return out

    def labels_for(self, terms: Iterable[str]) -> set[str]:
        mapping = self.label_of_term()
        return {mapping[t.strip().lower()] for t in terms if t.strip().lower() in mapping}


def read_catalogue(path: Path) -> Catalogue:
    labels, tate, descriptions, prompts = [], {}, {}, {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        label = row["label"]
        labels.append(label)
        tate[label] = tuple(row.get("tate") or ())
        descriptions[label] = row.get("description") or ""
        prompts[label] = tuple(row.get("prompts") or ())
    return Catalogue(tuple(labels), tate, descriptions, prompts)


@dataclass(frozen=True)
class EvalPrompt:
    text: str
    movements: tuple[str, ...]  # the best first, then any other acceptable one
    moods: tuple[str, ...]


def read_eval_prompts(path: Path) -> list[EvalPrompt]:
    """Held-out prompts for measuring only: nothing in this module or in training reads them to learn."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(EvalPrompt(row["text"], tuple(row.get("movements") or ()), tuple(row.get("moods") or ())))
    return out


# -- titles for the writer's fine-tuning ------------------------------------------------------------------

TITLE_MAX_WORDS = 8


def title_pairs(records: Iterable[Record], *, max_subjects: int = 4) -> list[tuple[str, str]]:
    """(subject words, title) for the works whose title describes the picture, in the records' order.

    The narrowest subject terms first ("lighthouse, storm, sea, coast"), as an idea names what it
    shows; titles that are placeholders, catalogue numbers or longer than TITLE_MAX_WORDS are left
    out, and so are works with no subjects.
    """
    pairs = []
    for record in records:
        title = record.text
        if not title or len(title.split()) > TITLE_MAX_WORDS:
            continue
        terms = list(dict.fromkeys(t for level in reversed(record.subjects) for t in level))[:max_subjects]
        if terms:
            pairs.append((", ".join(terms), title))
    return pairs
