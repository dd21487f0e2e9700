"""What the assistant makes of an idea: movements, subjects and moods, the styles that suit it, and why.

Pure PyTorch: the caller hands in the networks (the registry's active versions) and the style
catalogue (the studio's presets, as data). The language model is not used here: labels come from
classifier heads on sentence embeddings, which are quick and can be measured.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import torch

from . import styles as style_ranking
from .encoder import SentenceEncoder
from .text import IdeaError, StyleCard, check, latin_share


@dataclass
class Analysis:
    movements: list[tuple[str, float]] = field(default_factory=list)
    subjects: list[tuple[str, float]] = field(default_factory=list)
    moods: list[tuple[str, float]] = field(default_factory=list)
    styles: list[dict] = field(default_factory=list)  # {"slug", "name", "confidence", "why"}
    left_out: list[dict] = field(default_factory=list)  # {"slug", "name"}: styles that would erase the photo
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
            "left_out": self.left_out,
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
        # What each style is about in the heads' terms: their probabilities averaged over its description and
        # example ideas (slot -> (cards, labels)). A reason names what the idea and the style share.
        self.card_profiles: dict[str, torch.Tensor] = {}
        if texts:
            counts = torch.bincount(self.card_owner, minlength=len(self.cards)).clamp(min=1).unsqueeze(1).float()
            for slot, head in self.heads.items():
                probabilities = head.probabilities(self.card_vectors)
                summed = torch.zeros(len(self.cards), probabilities.shape[1]).index_add_(
                    0, self.card_owner, probabilities
                )
                self.card_profiles[slot] = summed / counts
        # Each card's first text is its description (StyleCard.texts)
        self.card_first = torch.tensor([owner.index(i) for i in range(len(self.cards))], dtype=torch.long)
        self.card_counts = torch.bincount(self.card_owner, minlength=len(self.cards)).clamp(min=1).float()
        self.ranker = style_ranking.NEAREST_ONLY  # until fit_styles has a person's choices to fit on

    def fit_styles(self, choices) -> style_ranking.StyleRanker:
        """Fit how styles are ranked and how sure the answer says it is on (idea, chosen slugs) pairs: the
        validation split of a person's choices (assistant.ml.styles). Choices of styles this studio does not
        have are left out; too few left, and the nearest text alone ranks."""
        slugs = [card.slug for card in self.cards]
        usable = [(idea, [slugs.index(s) for s in chosen if s in slugs]) for idea, chosen in choices]
        usable = [(idea, chosen) for idea, chosen in usable if chosen]
        if len(usable) >= style_ranking.MIN_IDEAS:
            vectors = self.encoder.encode([idea for idea, _ in usable])
            examples = [(self.style_features(vectors[i : i + 1]), chosen) for i, (_, chosen) in enumerate(usable)]
            self.ranker = style_ranking.fit(examples)
        return self.ranker

    def style_features(self, vector: torch.Tensor) -> torch.Tensor:
        """(1, dim) idea embedding -> (cards, features): assistant.ml.styles.FEATURES, in order."""
        sims = (self.card_vectors @ vector[0]).float()  # cosine: both sides are unit vectors
        nearest = torch.full((len(self.cards),), -1.0).scatter_reduce(0, self.card_owner, sims, reduce="amax")
        mean = torch.zeros(len(self.cards)).index_add_(0, self.card_owner, sims) / self.card_counts
        columns = [nearest, mean, sims[self.card_first]]
        for slot in ("movement", "mood", "subject"):
            profile = self.card_profiles.get(slot)
            if profile is None:
                columns.append(torch.zeros(len(self.cards)))
            else:
                columns.append(profile @ self.heads[slot].probabilities(vector)[0])
        return torch.stack(columns, 1)

    def closeness_to(self, text: str):
        """Candidates -> their similarity to `text` in the encoder's reading: how the writer's candidates are
        ranked (prompting.best)."""

        def rank(candidates: list[str]) -> list[float]:
            vectors = self.encoder.encode([text, *candidates])
            return (vectors[1:] @ vectors[0]).tolist()

        return rank

    def nearer(self, candidates: list[str], references: list[str]) -> list[bool]:
        """Whether each candidate reads nearer a later reference than the first, in the encoder's reading: how a
        line the writer copied from a worked example is told from one about the idea (prompting.about_the_idea)."""
        if len(references) < 2 or not candidates:
            return [False] * len(candidates)
        vectors = self.encoder.encode([*references, *candidates])
        sims = vectors[len(references) :] @ vectors[: len(references)].T  # (candidates, references)
        return [bool(row[1:].max() > row[0]) for row in sims]

    def classify(self, text: str, *, k: int = 3, spare_photo: float | None = None) -> Analysis:
        return self.classify_many([text], k=k, spare_photo=spare_photo)[0]

    def classify_many(self, texts: Sequence[str], *, k: int = 3, spare_photo: float | None = None) -> list[Analysis]:
        """One Analysis per text, in order. Raises nothing for odd text: an unreadable one gets notes, not labels.

        spare_photo: the ideas are pictures to be painted, so styles that keep less than this share of a photo
        (StyleCard.keeps_photo) are not suggested; they are listed in `left_out`.
        """
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
                out[i] = self._analyse(vectors[j : j + 1], k, spare_photo)
        return out  # type: ignore[return-value]

    def _analyse(self, vector: torch.Tensor, k: int, spare_photo: float | None = None) -> Analysis:
        from .heads import predict, predict_set

        result = Analysis()
        if "movement" in self.heads:
            result.movements = predict(self.heads["movement"], vector, k=k)[0]
        if "mood" in self.heads:
            result.moods = predict(self.heads["mood"], vector, k=k)[0]
        if "subject" in self.heads:
            chosen = predict_set(self.heads["subject"], vector)[0]
            result.subjects = chosen[:5]
        erasing = self.erasing(spare_photo)
        result.styles = self.suggest(vector, result, k=k, leave_out=erasing)
        result.left_out = [{"slug": self.cards[i].slug, "name": self.cards[i].name} for i in sorted(erasing)]
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

    def erasing(self, spare_photo: float | None) -> set[int]:
        """The cards whose style keeps less than `spare_photo` of a photo (none when it is None or unmeasured)."""
        if spare_photo is None:
            return set()
        return {i for i, c in enumerate(self.cards) if c.keeps_photo is not None and c.keeps_photo < spare_photo}

    def suggest(
        self, vector: torch.Tensor, analysis: Analysis, *, k: int = 3, leave_out: Collection[int] = ()
    ) -> list[dict]:
        """The k styles that suit the idea best (assistant.ml.styles), each with how sure and a reason; the
        cards in `leave_out` are never among them (the confidence stays the ranker's own, over every style)."""
        if not self.cards:
            return []
        share = torch.softmax(self.ranker.logits(self.style_features(vector)), 0)
        confidence = self.ranker.confidence(share)
        ranked = torch.argsort(share, descending=True).tolist()
        top = [i for i in ranked if i not in leave_out][:k]
        out = []
        for i in top:
            card = self.cards[i]
            shared = self._shared(i, analysis)
            out.append(
                {
                    "slug": card.slug,
                    "name": card.name,
                    "confidence": round(float(confidence[i]), 3),
                    "why": self._why(card, shared),
                    "why_labels": [list(pair) for pair in shared],  # [kind, label]: the page translates them
                }
            )
        return out

    def _shared(self, i: int, analysis: Analysis) -> list[tuple[str, str]]:
        """(kind, label) the idea and style `i` share: a subject of the idea's among the style's five likeliest,
        the idea's mood or movement among the style's three likeliest. At most two, subjects first."""
        shared = []
        for slot, items, top in (
            ("subject", analysis.subjects, 5),
            ("mood", analysis.moods[:1], 3),
            ("movement", analysis.movements[:1], 3),
        ):
            profile = self.card_profiles.get(slot)
            if profile is None:
                continue
            labels = self.heads[slot].labels
            likeliest = {labels[j] for j in torch.topk(profile[i], min(top, len(labels))).indices.tolist()}
            shared += [(slot, label) for label, _ in items if label in likeliest]
        return shared[:2]

    def _why(self, card: StyleCard, shared: list[tuple[str, str]]) -> str:
        """Why a style suits the idea, in the idea's terms (the page says it in the artist's language from
        `why_labels`); never a quote of the style's example ideas."""
        if shared:
            return f"In tune with your idea: {', '.join(label for _kind, label in shared)}."
        return "Of the studio's styles, the nearest to your idea's subject and colour."
