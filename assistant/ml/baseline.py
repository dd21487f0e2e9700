"""The project seed's baseline: an Embedding + LSTM text classifier learnt from scratch, softmax cross-entropy.

Kept to measure the heads against: it reads words it saw in the training split only (its own
lower-cased word tokenizer, anything else is <unk>), where the heads read a pretrained encoder's
embeddings. A multi-label task (subjects) is trained as the seed did, with softmax cross-entropy
against a target spread evenly over the true labels; its set is every label whose softmax probability
reaches a threshold chosen on the validation split, just as the heads' is.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence

from .fit import Optimiser, fit
from .heads import best_threshold, chosen, ranked

PAD, UNK = "<pad>", "<unk>"
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Lower-cased words without accents: "Château d’Eau, 1902" -> ["chateau", "d'eau", "1902"]."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'")).encode("ascii", "ignore").decode().lower()
    return _WORD.findall(text)


def build_vocabulary(texts: Sequence[str], *, min_count: int = 2, max_size: int = 10_000) -> tuple[str, ...]:
    """<pad>, <unk>, then the training texts' words seen at least `min_count` times, most frequent first.

    A word seen once is mostly a place or a name; as <unk> it still tells the network "a rare word here".
    """
    counts = Counter(w for t in texts for w in tokenize(t))
    words = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
    return (PAD, UNK, *words[: max_size - 2])


@dataclass(frozen=True)
class LSTMConfig:
    vocab_size: int
    n_labels: int
    embed_dim: int = 64  # the embedding table is most of the weights, and AdamW updates all of it every step
    hidden: int = 128
    dropout: float = 0.2
    max_tokens: int = 48  # titles and ideas are short; a longer text is cut


class LSTMClassifier(nn.Module):
    """(N, T) word ids and (N,) lengths -> (N, n_labels) logits, from the LSTM's last hidden state."""

    def __init__(
        self,
        config: LSTMConfig,
        vocabulary: Sequence[str],
        labels: Sequence[str],
        *,
        multi_label: bool,
        threshold: float = 0.5,
    ):
        super().__init__()
        self.config = config
        self.vocabulary = tuple(vocabulary)
        self.word_id = {w: i for i, w in enumerate(self.vocabulary)}
        self.labels: tuple[str, ...] = tuple(labels)
        self.multi_label = multi_label
        self.threshold = float(threshold)  # on softmax probabilities (see the module's docstring)
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(config.embed_dim, config.hidden, batch_first=True)
        self.drop = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.hidden, config.n_labels)

    def encode_texts(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Texts -> (N, T) padded word ids and (N,) lengths; an empty text is one <unk>, as packing needs a word."""
        rows = [[self.word_id.get(w, 1) for w in tokenize(t)][: self.config.max_tokens] or [1] for t in texts]
        ids = torch.zeros(len(rows), max((len(r) for r in rows), default=1), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
        return ids, torch.tensor([len(r) for r in rows])

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.embed(ids))  # (N, T, E)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)  # h: (1, N, H), each row's state after its last real word
        return self.out(self.drop(h[-1]))  # (N, L)

    @torch.no_grad()
    def probabilities(self, texts: Sequence[str], batch_size: int = 512) -> torch.Tensor:
        """(N, L) softmax probabilities: the seed's classifier is softmax for every task."""
        self.eval()
        out = []
        for start in range(0, len(texts), batch_size):
            out.append(torch.softmax(self(*self.encode_texts(texts[start : start + batch_size])), dim=-1))
        return torch.cat(out) if out else torch.empty(0, len(self.labels))

    def to_state(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        metadata = {
            "labels": json.dumps(list(self.labels), ensure_ascii=False),
            "vocabulary": json.dumps(list(self.vocabulary), ensure_ascii=False),
            "multi_label": json.dumps(self.multi_label),
            "threshold": json.dumps(self.threshold),
            "config": json.dumps(asdict(self.config), sort_keys=True),
        }
        return {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}, metadata

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], metadata: dict[str, str]) -> LSTMClassifier:
        model = cls(
            LSTMConfig(**json.loads(metadata["config"])),
            json.loads(metadata["vocabulary"]),
            json.loads(metadata["labels"]),
            multi_label=json.loads(metadata["multi_label"]),
            threshold=json.loads(metadata["threshold"]),
        )
        model.load_state_dict(state)
        return model.eval()


def _targets(Y: torch.Tensor, multi_label: bool) -> torch.Tensor:
    """(N, L) target distributions: one-hot for a label index, spread evenly over a multi-hot row's labels."""
    if multi_label:
        return Y.float() / Y.float().sum(1, keepdim=True).clamp(min=1.0)
    return F.one_hot(Y.long(), -1).float() if Y.dim() == 1 else Y.float()


def _soft_ce(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    per = -(target * F.log_softmax(logits, dim=-1)).sum(1)
    return (per * weight).sum() / weight.sum().clamp(min=1e-12)


def train_lstm(
    texts: Sequence[str],
    Y: torch.Tensor,
    *,
    labels: Sequence[str],
    multi_label: bool,
    texts_val: Sequence[str] | None,
    Y_val: torch.Tensor | None,
    sample_weight: torch.Tensor | None = None,
    vocabulary: Sequence[str] | None = None,
    epochs: int = 6,
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    batch_size: int = 256,
    config: dict | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[LSTMClassifier, dict]:
    """Train the baseline; the same seed and data give the same network.

    Y as for train_head: (N,) label indices, or (N, L) 0/1 for multi-label (rows without a label carry no
    target and are skipped). The epoch with the lowest validation loss is kept.
    """
    torch.manual_seed(seed)  # the initial weights and dropout
    labels = tuple(labels)
    vocabulary = tuple(vocabulary) if vocabulary else build_vocabulary(texts)
    model = LSTMClassifier(
        LSTMConfig(len(vocabulary), len(labels), **(config or {})), vocabulary, labels, multi_label=multi_label
    )
    target = _targets(Y, multi_label)
    weight = torch.ones(len(texts)) if sample_weight is None else sample_weight.float()
    weight = weight * (target.sum(1) > 0)  # nothing to learn from a row without labels
    ids, lengths = model.encode_texts(texts)
    val = None
    if texts_val is not None and Y_val is not None and len(texts_val):
        val = (*model.encode_texts(texts_val), _targets(Y_val, multi_label))

    def batch_loss(idx: torch.Tensor) -> torch.Tensor:
        t = int(lengths[idx].max())  # the batch's longest text: no step over columns of padding only
        return _soft_ce(model(ids[idx, :t], lengths[idx]), target[idx], weight[idx])

    def val_loss() -> torch.Tensor:
        assert val is not None  # passed to fit only when there is validation data
        return _soft_ce(model(val[0], val[1]), val[2], (val[2].sum(1) > 0).float())

    history = fit(
        model,
        weight,
        batch_loss,
        optimiser=Optimiser(lr, weight_decay, clip_norm=1.0),  # an LSTM's gradients can spike early on
        epochs=epochs,
        seed=seed,
        batch_size=batch_size,
        val_loss=val_loss if val is not None else None,
        progress=progress,
    )
    history["vocabulary"] = len(vocabulary)
    if multi_label and val is not None:
        assert texts_val is not None and Y_val is not None  # val is made of them
        probs = model.probabilities(list(texts_val))
        model.threshold, history["val_micro_f1"] = best_threshold(probs, Y_val.float(), low=0.01)
    history["threshold"] = model.threshold
    return model, history


def predict(model: LSTMClassifier, texts: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
    """For each text, the k most likely labels with their softmax probabilities, best first."""
    return ranked(model.labels, model.probabilities(list(texts)), k)


def predict_set(model: LSTMClassifier, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
    """Every label whose probability reaches the threshold chosen on validation, best first."""
    if not model.multi_label:
        raise ValueError("predict_set is for multi-label models; use predict for a single-label one")
    return chosen(model.labels, model.probabilities(list(texts)), model.threshold)
