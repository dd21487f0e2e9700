"""What the assistant makes of an idea: movements, subjects and moods, the styles that suit it, and why.

Pure PyTorch: the caller hands in the networks (the registry's active versions) and the style
catalogue (the studio's presets, as data). The language model is not used here: labels come from
classifier heads on sentence embeddings, which are quick and can be measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from .encoder import SentenceEncoder
from .text import IdeaError, StyleCard, check, latin_share

STYLE_TEMPERATURE = 0.05  # cosine similarities differ by a few hundredths; this spreads them into confidences


@dataclass
class Analysis:
    movements: list[tuple[str, float]] = field(default_factory=list)
    subjects: list[tuple[str, float]] = field(default_factory=list)
    moods: list[tuple[str, float]] = field(default_factory=list)
    styles: list[dict] = field(default_factory=list)  # {"slug", "name", "confidence", "why"}
    similar: list[dict] = field(default_factory=list)  # {"title", "artist", "date", "url", "score"}
    notes: list[str] = field(default_factory=list)  # what the artist should know about this answer
    codes: list[str] = field(default_factory=list)  # the same, as codes the web pages translate
    english: bool = True

    def labels(self) -> dict[str, list[str]]:
        """The labels alone, best first, as the writer's instructions take them."""
        return {
            "movements": [m for m, _ in self.movements],
            "subjects": [s for s, _ in self.subjects],
            "moods": [m for m, _ in self.moods],
        }

    def as_json(self) -> dict:
        def labelled(items):
            return [{"label": label, "confidence": round(float(conf), 3)} for label, conf in items]

        return {
            "movements": labelled(self.movements),
            "subjects": labelled(self.subjects),
            "moods": labelled(self.moods),
            "styles": self.styles,
            "similar": self.similar,
            "notes": self.notes,
            "codes": self.codes,
        }


class Assistant:
    """The encoder, the heads by slot and the style catalogue, ready to classify ideas."""

    def __init__(self, encoder: SentenceEncoder, heads: dict, cards: Sequence[StyleCard], index=None):
        self.encoder = encoder
        self.index = index  # assistant.ml.similar.Index, or None until `manage.py assistant index` has run
        self.heads = heads  # slot ("subject", "movement", "mood") -> assistant.ml.heads.Head
        self.cards = list(cards)
        texts, owner = [], []
        for i, card in enumerate(self.cards):
            for t in card.texts():
                texts.append(t)
                owner.append(i)
        self.card_texts = texts
        self.card_owner = torch.tensor(owner, dtype=torch.long)
        self.card_vectors = encoder.encode(texts) if texts else torch.empty(0, encoder.bert.config.hidden_size)

    def classify(self, text: str, *, k: int = 3) -> Analysis:
        return self.classify_many([text], k=k)[0]

    def classify_many(self, texts: Sequence[str], *, k: int = 3) -> list[Analysis]:
        """One Analysis per text, in order. Raises nothing for odd text: an unreadable one gets notes, not labels."""
        out: list[Analysis | None] = [None] * len(texts)
        readable: list[int] = []
        cleaned: list[str] = []
        for i, raw in enumerate(texts):
            try:
                t = check(raw)
            except IdeaError as exc:
                out[i] = Analysis(notes=[str(exc)], codes=[exc.code], english=False)
                continue
            if latin_share(t) < 0.5:
                out[i] = Analysis(
                    english=False,
                    codes=["not_english"],
                    notes=[
                        "The assistant's models read English only, so they cannot tell movements, subjects or moods "
                        "from this idea. Write it in English, or drop a picture: the assistant reads pictures in any "
                        "language."
                    ],
                )
                continue
            readable.append(i)
            cleaned.append(t)
        if cleaned:
            vectors = self.encoder.encode(cleaned)
            for j, i in enumerate(readable):
                out[i] = self._analyse(vectors[j : j + 1], k)
        return out  # type: ignore[return-value]

    def _analyse(self, vector: torch.Tensor, k: int) -> Analysis:
        from .heads import predict, predict_set

        result = Analysis()
        if "movement" in self.heads:
            result.movements = predict(self.heads["movement"], vector, k=k)[0]
        if "mood" in self.heads:
            result.moods = predict(self.heads["mood"], vector, k=k)[0]
        if "subject" in self.heads:
            chosen = predict_set(self.heads["subject"], vector)[0]
            result.subjects = chosen[:5]
        result.styles = self.suggest(vector, result, k=k)
        if self.index is not None:
            result.similar = [
                {"title": w.title, "artist": w.artist, "date": w.date, "url": w.url, "score": round(score, 3)}
                for w, score in self.index.nearest(vector[0], k=5)
            ]
        else:
            result.codes.append("no_index")
            result.notes.append(
                "Similar artworks are being prepared: the studio is indexing the Tate collection in the background, "
                "which takes a few minutes after its first start. Ask again then to see them."
            )
        if not self.heads:
            result.codes.append("no_heads")
            result.notes.append("No classifier heads are active, so the assistant suggests styles only.")
        return result

    def suggest(self, vector: torch.Tensor, analysis: Analysis, *, k: int = 3) -> list[dict]:
        """The k styles whose description or example ideas are nearest the idea, with a reason each."""
        if not self.cards:
            return []
        sims = (self.card_vectors @ vector[0]).float()  # cosine: both sides are unit vectors
        best = torch.full((len(self.cards),), -1.0).scatter_reduce(0, self.card_owner, sims, reduce="amax")
        confidence = torch.softmax(best / STYLE_TEMPERATURE, 0)
        top = torch.argsort(best, descending=True)[:k].tolist()
        out = []
        for i in top:
            card = self.cards[i]
            mine = (self.card_owner == i).nonzero().flatten()
            nearest = int(mine[int(torch.argmax(sims[mine]))])
            out.append(
                {
                    "slug": card.slug,
                    "name": card.name,
                    "confidence": round(float(confidence[i]), 3),
                    "why": self._why(card, nearest, analysis),
                }
            )
        return out

    def _why(self, card: StyleCard, nearest: int, analysis: Analysis) -> str:
        text = self.card_texts[nearest]
        shared = [
            m
            for m, _ in analysis.movements[:2]
            if m.lower() in " ".join(card.tags).lower() or m.lower() in card.description.lower()
        ]
        if text.startswith(f"{card.name}: "):  # the description matched best
            reason = f"{card.description.rstrip('.')}."
        else:
            reason = f"It paints ideas like “{text}” well."
        if shared:
            reason += f" It shares your idea's {shared[0]} character."
        return reason
