"""An idea's text as the assistant's models read it, and the style catalogue's cards. No torch here:
the web process checks ideas with it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 2000  # an idea is a sentence or a paragraph; the encoder reads ~256 word pieces at most


class IdeaError(ValueError):
    """The idea cannot be read at all; the message is for the artist, the code for a translation of it."""

    def __init__(self, message: str, code: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


def clean(text: str) -> str:
    """The idea as the models read it: control characters out, whitespace runs to one space."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def check(text: str, *, max_chars: int = MAX_CHARS) -> str:
    """The cleaned idea, or IdeaError with a sentence the artist can act on."""
    cleaned = clean(text)
    if not cleaned:
        raise IdeaError("Type an idea (a few words are enough), or drop a picture.", "empty")
    if len(cleaned) > max_chars:
        raise IdeaError(
            f"Keep the idea under {max_chars:,} characters; this one has {len(cleaned):,}. "
            "A sentence or two works best.",
            "too_long",
            max=max_chars,
            length=len(cleaned),
        )
    if not any(c.isalpha() for c in cleaned):
        raise IdeaError(
            "The assistant reads words, and this idea has none (only symbols, digits or emoji). "
            "Describe it in a few words.",
            "no_words",
        )
    return cleaned


def latin_share(text: str) -> float:
    """The share of the letters that are Latin script: the models were trained on English only."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "LATIN" in unicodedata.name(c, "")) / len(letters)


@dataclass(frozen=True)
class StyleCard:
    """One preset as the assistant sees it: words that describe it and ideas it paints well."""

    slug: str
    name: str
    description: str
    prompts: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    keeps_photo: float | None = None  # how much of a photo it keeps, 0..1 (generator.ml.compare.keeps_photo)

    def texts(self) -> list[str]:
        lead = f"{self.name}: {self.description}" if self.description else f"{self.name}: {', '.join(self.tags)}"
        return [lead, *self.prompts]
