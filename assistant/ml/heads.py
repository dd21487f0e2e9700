"""Classifier heads: small networks from a sentence embedding (384 numbers) to labels.

One head a slot: movements (single-label: the best one, softmax), moods (single-label, top 3 shown)
and subjects (multi-label: sigmoid, with a decision threshold chosen on the validation split). A head's
file carries everything needed to rebuild it (labels, threshold, config) in its metadata.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TypedDict

import torch
from torch import nn
from torch.nn import functional as F

from .fit import Optimiser, fit


@dataclass(frozen=True)
class HeadConfig:
    n_labels: int
    dim: int = 384  # all-MiniLM-L6-v2's embedding size
    hidden: int = 0  # 0: one linear layer; otherwise a one-hidden-layer MLP of this width
    dropout: float = 0.0  # on the embedding (and the hidden layer): the training sets are small


class Head(nn.Module):
    """(N, dim) embeddings -> (N, n_labels) logits."""

    def __init__(self, config: HeadConfig, labels: Sequence[str], *, multi_label: bool, threshold: float = 0.5):
        super().__init__()
        if len(labels) != config.n_labels:
            raise ValueError(f"{len(labels)} labels for a head of {config.n_labels} outputs")
        self.config = config
        self.labels: tuple[str, ...] = tuple(labels)
        self.multi_label = multi_label
        self.threshold = float(threshold)  # used by predict_set (multi-label only)
        if config.hidden:
            self.net = nn.Sequential(
                nn.Dropout(config.dropout),
                nn.Linear(config.dim, config.hidden),
                nn.GELU(),
                nn.Dropout(config.dropout),
                nn.Linear(config.hidden, config.n_labels),
            )
        else:
            self.net = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(config.dim, config.n_labels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (N, dim) -> (N, L)

    @torch.no_grad()
    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L): softmax over the labels for a single-label head, each label's sigmoid for a multi-label one."""
        logits = self(x.to(next(self.parameters()).device, torch.float32)).float().cpu()
        return torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)

    def to_state(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        metadata = {
            "labels": json.dumps(list(self.labels), ensure_ascii=False),
            "multi_label": json.dumps(self.multi_label),
            "threshold": json.dumps(self.threshold),
            "config": json.dumps(asdict(self.config), sort_keys=True),
        }
        return {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}, metadata

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], metadata: dict[str, str]) -> Head:
        """The head a to_state wrote; other metadata keys (its metrics, say) are left alone."""
        head = cls(
            HeadConfig(**json.loads(metadata["config"])),
            json.loads(metadata["labels"]),
            multi_label=json.loads(metadata["multi_label"]),
            threshold=json.loads(metadata["threshold"]),
        )
        head.load_state_dict(state)
        return head.eval()


# -- training -------------------------------------------------------------------------------------


def _loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    weight: torch.Tensor,
    *,
    multi_label: bool,
    pos_weight: torch.Tensor | None,
    label_smoothing: float,
) -> torch.Tensor:
    """The weighted mean loss of a batch: each example counts by its weight."""
    if multi_label:
        per = F.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight, reduction="none").sum(1)
    else:
        per = F.cross_entropy(logits, y, reduction="none", label_smoothing=label_smoothing)
    return (per * weight).sum() / weight.sum().clamp(min=1e-12)


def balanced_pos_weight(Y: torch.Tensor, *, power: float = 0.5, cap: float = 30.0) -> torch.Tensor:
    """(L,) BCE pos_weight (negatives / positives) ** power: rare labels count more, but not by their full ratio,
    which would make the head say every rare label at the slightest hint."""
    pos = Y.sum(0).clamp(min=1.0)
    return ((len(Y) - pos) / pos).clamp(min=1.0).pow(power).clamp(max=cap)


class _LossArgs(TypedDict):
    multi_label: bool
    pos_weight: torch.Tensor | None
    label_smoothing: float


def train_head(
    X: torch.Tensor,
    Y: torch.Tensor,
    *,
    labels: Sequence[str],
    multi_label: bool,
    X_val: torch.Tensor | None,
    Y_val: torch.Tensor | None,
    sample_weight: torch.Tensor | None = None,
    epochs: int,
    lr: float,
    weight_decay: float,
    seed: int,
    hidden: int = 0,
    dropout: float = 0.0,
    pos_weight: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
    batch_size: int = 256,
    keep_best: bool = True,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[Head, dict]:
    """Train a head with AdamW; the same seed and data give the same head.

    X (N, dim) embeddings. Y: (N, L) 0/1 floats for a multi-label head, (N,) label indices for a
    single-label one. With `keep_best` (and validation data) the epoch with the lowest validation loss
    is kept, otherwise the last. A multi-label head's threshold is the one with the best micro-F1 on
    the validation data (0.5 without any). Returns the head (in eval mode) and its history.
    """
    torch.manual_seed(seed)  # the layers' initial weights and dropout
    head = Head(HeadConfig(len(labels), X.shape[1], hidden, dropout), labels, multi_label=multi_label)
    X = X.float()
    Y = Y.float() if multi_label else Y.long()
    weight = torch.ones(len(X)) if sample_weight is None else sample_weight.float()
    loss_args: _LossArgs = {"multi_label": multi_label, "pos_weight": pos_weight, "label_smoothing": label_smoothing}
    validated = X_val is not None and Y_val is not None and len(X_val) > 0

    def val_loss() -> torch.Tensor:
        assert X_val is not None and Y_val is not None  # passed to fit only when there are both
        y_val = Y_val.float() if multi_label else Y_val.long()
        return _loss(head(X_val.float()), y_val, torch.ones(len(X_val)), **loss_args)

    history = fit(
        head,
        weight,
        lambda idx: _loss(head(X[idx]), Y[idx], weight[idx], **loss_args),
        optimiser=Optimiser(lr, weight_decay, one_cycle=True),
        epochs=epochs,
        seed=seed,
        batch_size=batch_size,
        val_loss=val_loss if validated else None,
        keep_best=keep_best,
        progress=progress,
    )
    if multi_label and X_val is not None and Y_val is not None and len(X_val):
        head.threshold, history["val_micro_f1"] = best_threshold(head.probabilities(X_val), Y_val.float())
    history["threshold"] = head.threshold
    return head, history


def best_threshold(probs: torch.Tensor, Y: torch.Tensor, *, low: float = 0.05) -> tuple[float, float]:
    """The one threshold over all labels (`low`..0.95, by 0.01) with the best micro-F1, and that F1."""
    best = (0.5, -1.0)
    for t in torch.arange(low, 0.951, 0.01).tolist():
        chosen = probs >= t
        tp = float((chosen & (Y > 0)).sum())
        f1 = 2 * tp / max(float(chosen.sum()) + float((Y > 0).sum()), 1.0)
        if f1 > best[1]:
            best = (round(t, 2), f1)
    return best


# -- predicting -----------------------------------------------------------------------------------


def ranked(labels: Sequence[str], probs: torch.Tensor, k: int) -> list[list[tuple[str, float]]]:
    """(N, L) confidences -> for each row its k best (label, confidence), best first."""
    k = min(k, len(labels))
    values, indices = torch.topk(probs, k, dim=1)  # topk breaks ties by the lower index: stable across runs
    return [
        [(labels[i], float(v)) for v, i in zip(vs, ix, strict=True)]
        for vs, ix in zip(values.tolist(), indices.tolist(), strict=True)
    ]


def chosen(labels: Sequence[str], probs: torch.Tensor, threshold: float) -> list[list[tuple[str, float]]]:
    """(N, L) sigmoid confidences -> for each row every label at or over the threshold, best first."""
    out = []
    for row in probs.tolist():
        picked = [(labels[i], p) for i, p in enumerate(row) if p >= threshold]
        out.append(sorted(picked, key=lambda lp: -lp[1]))
    return out


def predict(head: Head, X: torch.Tensor, k: int = 3) -> list[list[tuple[str, float]]]:
    """For each embedding, the k most likely labels with their confidences, best first."""
    return ranked(head.labels, head.probabilities(X), k)


def predict_set(head: Head, X: torch.Tensor) -> list[list[tuple[str, float]]]:
    """A multi-label head's answer: every label whose confidence reaches the head's threshold, best first."""
    if not head.multi_label:
        raise ValueError("predict_set is for multi-label heads; use predict for a single-label one")
    return chosen(head.labels, head.probabilities(X), head.threshold)


# -- metrics --------------------------------------------------------------------------------------


def _label_set(items: Iterable) -> set[str]:
    """Labels, from labels or from (label, confidence) pairs (what predict and predict_set return)."""
    return {item[0] if isinstance(item, tuple) else item for item in items}


def _label_list(items: Iterable) -> list[str]:
    return [item[0] if isinstance(item, tuple) else item for item in items]


def micro_f1(pred_sets: Sequence[Iterable], true_sets: Sequence[Iterable]) -> float:
    """F1 over every (example, label) decision pooled: 2 TP / (predicted + true). 0 when both are empty."""
    tp = n_pred = n_true = 0
    for pred, true in zip(pred_sets, true_sets, strict=True):
        p, t = _label_set(pred), _label_set(true)
        tp += len(p & t)
        n_pred += len(p)
        n_true += len(t)
    return 2 * tp / (n_pred + n_true) if n_pred + n_true else 0.0


def precision_at_k(ranked_labels: Sequence[Sequence], true_sets: Sequence[Iterable], k: int) -> float:
    """The mean share of each example's k best labels that are true (always out of k)."""
    if not ranked_labels:
        return 0.0
    total = 0.0
    for row, true in zip(ranked_labels, true_sets, strict=True):
        total += len(set(_label_list(row)[:k]) & _label_set(true)) / k
    return total / len(ranked_labels)


def top_k_accuracy(ranked_labels: Sequence[Sequence], accept_sets: Sequence[Iterable], k: int) -> float:
    """The share of examples with any accepted label among their k best."""
    if not ranked_labels:
        return 0.0
    hits = sum(
        bool(set(_label_list(row)[:k]) & _label_set(accept))
        for row, accept in zip(ranked_labels, accept_sets, strict=True)
    )
    return hits / len(ranked_labels)
