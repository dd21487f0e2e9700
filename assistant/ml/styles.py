"""How the assistant ranks the studio's styles for an idea, and how sure it says it is.

A style is scored on several things at once, not on its one nearest example sentence (which put Stained Glass
first for any lighthouse, its examples having one): how near the idea its nearest text is, how near all its
texts are on average, how near its description is, and how well the idea's movement, mood and subjects (the
heads' probabilities) match the style's own (the heads run on its texts). The weights of these are fitted on
the validation split of a person's choices (assistant/data/style_choices.jsonl), never on its test split, and
so is the confidence shown: the chance, as measured there, that a style in the top three is one the person
would have chosen for the idea (Platt scaling). A studio without choices for its styles ranks by the nearest
text alone, as before.

Pure PyTorch and plain files: the caller hands in the features (assistant.ml.assist builds them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

FEATURES = ("nearest text", "mean of its texts", "its description", "movement", "mood", "subject")
NEAREST_TEMPERATURE = 0.05  # the nearest text alone: cosines differ by hundredths; this spreads them


@dataclass(frozen=True)
class StyleRanker:
    weights: tuple[float, ...]  # one per feature
    slope: float = 1.0  # the confidence: sigmoid(slope * logit(p) + offset), p the style's softmax share
    offset: float = 0.0
    fitted_on: int = 0  # ideas of the validation split it was fitted on (0: not fitted)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """(cards, features) -> (cards,) scores; softmax gives each style's share."""
        return features @ torch.tensor(self.weights, dtype=features.dtype)

    def confidence(self, share: torch.Tensor) -> torch.Tensor:
        """A style's share of the softmax -> the calibrated chance that it suits the idea."""
        if not self.fitted_on:
            return share
        return torch.sigmoid(self.slope * torch.logit(share.clamp(1e-4, 1 - 1e-4)) + self.offset)


NEAREST_ONLY = StyleRanker((1 / NEAREST_TEMPERATURE,) + (0.0,) * (len(FEATURES) - 1))

MIN_IDEAS = 10  # fewer usable choices than this: the nearest text alone (a fit on so few would be noise)


def fit(examples: Sequence[tuple[torch.Tensor, Sequence[int]]], *, l2: float = 0.1) -> StyleRanker:
    """Fit on (features of every card for an idea, the cards the person chose for it): the weights maximise
    the softmax share of the chosen styles, then the confidence is fitted to how often a top-three style was
    chosen. `l2` keeps the weights other than the nearest text's small: the split is a few dozen ideas."""
    if len(examples) < MIN_IDEAS:
        return NEAREST_ONLY
    features = [x.float() for x, _ in examples]
    chosen = [torch.tensor(list(c), dtype=torch.long) for _, c in examples]
    start = torch.tensor(NEAREST_ONLY.weights)
    weights = start.clone().requires_grad_(True)
    optimiser = torch.optim.LBFGS([weights], max_iter=200, line_search_fn="strong_wolfe")

    def loss_of_weights():
        optimiser.zero_grad()
        loss = (
            -sum(
                torch.logsumexp(torch.log_softmax(x @ weights, 0)[c], 0) for x, c in zip(features, chosen, strict=True)
            )
            / len(features)
            + l2 * (weights[1:] ** 2).sum() / 100
        )
        loss.backward()
        return loss

    optimiser.step(loss_of_weights)
    w = weights.detach()
    shares, suits = [], []
    for x, c in zip(features, chosen, strict=True):
        share = torch.softmax(x @ w, 0)
        for i in torch.argsort(share, descending=True)[:3].tolist():
            shares.append(float(share[i]))
            suits.append(float(i in set(c.tolist())))
    ab = torch.tensor([1.0, 0.0], requires_grad=True)
    logit = torch.logit(torch.tensor(shares).clamp(1e-4, 1 - 1e-4))
    target = torch.tensor(suits)
    calibrator = torch.optim.LBFGS([ab], max_iter=100, line_search_fn="strong_wolfe")

    def loss_of_calibration():
        calibrator.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(ab[0] * logit + ab[1], target)
        loss.backward()
        return loss

    calibrator.step(loss_of_calibration)
    slope, offset = (float(v) for v in ab.detach())
    return StyleRanker(tuple(float(v) for v in w), slope, offset, fitted_on=len(examples))


def read_choices(path: Path, split: str = "validation") -> list[tuple[str, list[str]]]:
    """(idea, the slugs of the styles the person chose for it) of one split of a choices file (JSON lines)."""
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["idea"], list(row["styles"])) for row in rows if row.get("split") == split]
