"""Training the assistant's three classifier heads (subject, movement, mood) on sentence embeddings.

placeholder: the orchestration follows; the embedding cache comes first because everything needs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .tate import Catalogue, Record

Encode = Callable[[list[str]], torch.Tensor]
PROBE = "A lighthouse in a storm at dusk, painted in thick strokes."


def as_encode(encoder) -> Encode:
    """A plain function of texts, from either such a function or an object with ``.encode`` (SentenceEncoder)."""
    if hasattr(encoder, "encode"):
        return lambda texts: encoder.encode(list(texts), batch_size=64)
    return encoder


def encoder_fingerprint(encode: Encode) -> str:
    """Names the encoder by what it does: the sha256 of one probe text's embedding, to 4 decimals.

    The caller may hold only a function, not the weights' sha256; two encoders that embed the probe the
    same are, for a cache, the same encoder.
    """
    vector = encode([PROBE])[0].float().numpy()
    return hashlib.sha256(np.round(vector, 4).astype(np.float32).tobytes()).hexdigest()


class EmbeddingCache:
    """Embeddings of texts, kept on disk per encoder; only texts not seen before are embedded.

    Two files a encoder: ``<key>.npy`` (N, 384) float32 and ``<key>.texts.json`` (the N texts in order).
    Appending keeps earlier rows, so changing which titles are read costs only the new ones.
    """

    def __init__(self, folder: Path | None, key: str):
        self.folder = Path(folder) if folder else None
        self.key = key[:16]
        self.texts: list[str] = []
        self.vectors = np.zeros((0, 384), dtype=np.float32)
        if self.folder and self._paths()[0].exists() and self._paths()[1].exists():
            vectors = np.load(self._paths()[0])
            texts = json.loads(self._paths()[1].read_text(encoding="utf-8"))
            if len(texts) == len(vectors):  # a half-written pair (a crash between the two writes) is ignored
                self.texts, self.vectors = texts, vectors
        self.row = {t: i for i, t in enumerate(self.texts)}

    def _paths(self) -> tuple[Path, Path]:
        assert self.folder is not None
        return self.folder / f"embeddings-{self.key}.npy", self.folder / f"embeddings-{self.key}.texts.json"

    def embed(self, texts: Sequence[str], encode: Encode, *, progress: Callable[[str], None] | None = None,
              chunk: int = 4096) -> torch.Tensor:
        """(len(texts), 384) float32, in the order given; repeated texts are embedded once."""
        missing = sorted({t for t in texts if t not in self.row})
        for start in range(0, len(missing), chunk):
            part = missing[start:start + chunk]
            vectors = encode(part).float().numpy()
            self.row.update({t: len(self.texts) + i for i, t in enumerate(part)})
            self.texts.extend(part)
            self.vectors = np.concatenate([self.vectors, vectors.astype(np.float32)])
            self._save()  # after each chunk, so an interrupted run keeps what it paid for
            if progress:
                progress(f"embedded {min(start + chunk, len(missing))}/{len(missing)} new texts")
        index = np.fromiter((self.row[t] for t in texts), dtype=np.int64, count=len(texts))
        return torch.from_numpy(self.vectors[index].copy())

    def _save(self) -> None:
        if not self.folder:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        vectors_path, texts_path = self._paths()
        for target, write in ((vectors_path, lambda f: np.save(f, self.vectors)),
                              (texts_path, lambda f: f.write(json.dumps(self.texts, ensure_ascii=False).encode()))):
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, target)


# -- movement and mood examples -------------------------------------------------------------------


@dataclass
class Examples:
    """Texts with one label index each and a weight each; `source` says where each came from."""

    texts: list[str] = field(default_factory=list)
    y: list[int] = field(default_factory=list)
    weight: list[float] = field(default_factory=list)
    source: list[str] = field(default_factory=list)  # "prompt", "description", "tate"

    def add(self, text: str, y: int, weight: float, source: str) -> None:
        self.texts.append(text)
        self.y.append(y)
        self.weight.append(weight)
        self.source.append(source)

    def __len__(self) -> int:
        return len(self.texts)


def catalogue_examples(catalogue: Catalogue, tate_rows: Sequence[tuple[str, set[str]]], *, tate_share: float,
                       description_weight: float, prompts: dict[str, Sequence[str]] | None = None) -> Examples:
    """The written prompts (weight 1), the descriptions (up-weighted) and Tate titles (down-weighted).

    Class-balanced: the Tate titles of a label together weigh `tate_share` times its prompts, however many
    there are (British Pop has hundreds, Ukiyo-e none), and no title weighs more than a prompt. A title
    with two labels counts half for each. `prompts` replaces the catalogue's (a cross-validation fold).
    """
    prompts = catalogue.prompts if prompts is None else prompts
    index = {label: i for i, label in enumerate(catalogue.labels)}
    out = Examples()
    for label in catalogue.labels:
        for text in prompts.get(label, ()):
            out.add(text, index[label], 1.0, "prompt")
        if catalogue.descriptions.get(label):
            out.add(catalogue.descriptions[label], index[label], description_weight, "description")
    per_label: dict[str, float] = {}
    for _, labels in tate_rows:
        for label in labels:
            per_label[label] = per_label.get(label, 0.0) + 1.0 / len(labels)
    for text, labels in tate_rows:
        for label in sorted(labels):
            budget = tate_share * max(len(prompts.get(label, ())), 1)
            out.add(text, index[label], min(1.0, budget / per_label[label]) / len(labels), "tate")
    return out


def tate_movement_rows(records: Iterable[Record], catalogue: Catalogue) -> list[tuple[str, set[str]]]:
    """(title, movement labels) for the records with a title and a movement the catalogue maps."""
    rows = [(r.text, catalogue.labels_for(r.movements)) for r in records if r.text]
    return [(text, labels) for text, labels in rows if labels]


def tate_mood_rows(records: Iterable[Record], catalogue: Catalogue) -> list[tuple[str, set[str]]]:
    """(title, mood labels) for the records with a title and a narrowest subject term the catalogue maps."""
    rows = [(r.text, catalogue.labels_for(r.subjects[2])) for r in records if r.text]
    return [(text, labels) for text, labels in rows if labels]


def prompt_folds(catalogue: Catalogue, folds: int, seed: int) -> list[dict[str, list[str]]]:
    """The prompts dealt into `folds` parts, each label spread evenly over them (a seeded shuffle a label)."""
    parts: list[dict[str, list[str]]] = [{label: [] for label in catalogue.labels} for _ in range(folds)]
    for n, label in enumerate(catalogue.labels):
        order = torch.randperm(len(catalogue.prompts[label]), generator=torch.Generator().manual_seed(seed * 1000 + n))
        for j, i in enumerate(order.tolist()):
            parts[j % folds][label].append(catalogue.prompts[label][i])
    return parts


# -- the three heads, as `manage.py assistant train` makes them ------------------------------------


@dataclass
class TrainedHead:
    head: object  # assistant.ml.heads.Head
    metrics: dict


SUBJECT_LEVEL = 0  # Tate's broadest level (15 terms with support): held-out micro-F1 ~0.68 from titles
SUBJECT_MIN_SUPPORT = 50


def train_all(tate_path: Path, data_dir: Path, encoder, *, cache_dir: Path | None = None, seed: int = 0,
              baseline: bool = True, progress: Callable[[str], None] | None = None) -> dict[str, TrainedHead]:
    """The subject, movement and mood heads on the fixed split, each with its held-out figures."""
    from . import heads as ml_heads
    from . import tate

    say = progress or (lambda message: None)
    encode = as_encode(encoder)
    cache = EmbeddingCache(cache_dir, encoder_fingerprint(encode))
    parts = tate.by_part(tate.read_records(Path(tate_path)))
    out: dict[str, TrainedHead] = {}

    say("subjects: embedding the Tate titles (once per encoder, then cached)")
    labels = tate.subject_vocabulary([r for r in parts["train"] if r.text], SUBJECT_LEVEL,
                                     min_support=SUBJECT_MIN_SUPPORT)

    def subject_part(name: str):
        rows = [r for r in parts[name] if r.text and tate.subject_targets(r, SUBJECT_LEVEL, labels)]
        Y = torch.zeros(len(rows), len(labels))
        for i, r in enumerate(rows):
            for s in tate.subject_targets(r, SUBJECT_LEVEL, labels):
                Y[i, labels.index(s)] = 1
        return rows, cache.embed([r.text for r in rows], encode, progress=say), Y

    train, X, Y = subject_part("train")
    _, Xv, Yv = subject_part("validation")
    test, Xt, Yt = subject_part("test")
    head, history = ml_heads.train_head(X, Y, labels=labels, multi_label=True, X_val=Xv, Y_val=Yv, epochs=15,
                                        lr=3e-3, weight_decay=1e-4, seed=seed)
    truth = [{labels[j] for j in row.nonzero().flatten().tolist()} for row in Yt]
    chosen = [[label for label, _ in row] for row in ml_heads.predict_set(head, Xt)]
    ranked = [[label for label, _ in row] for row in ml_heads.predict(head, Xt, k=3)]
    out["subject"] = TrainedHead(head, {
        "subject_micro_f1": round(ml_heads.micro_f1(chosen, truth), 4),
        "subject_precision_at_3": round(ml_heads.precision_at_k(ranked, truth, 3), 4),
        "test_size": len(test), "train_size": len(train), "level": SUBJECT_LEVEL, "threshold": head.threshold,
        "split": tate.SPLIT_RULE})
    say(f"subjects: micro-F1 {out['subject'].metrics['subject_micro_f1']:.3f} on {len(test)} held-out titles")

    eval_path = Path(data_dir) / "eval_prompts.jsonl"
    held_out = tate.read_eval_prompts(eval_path) if eval_path.exists() else []
    for name, rows_of, key in (("movement", tate_movement_rows, "movements"), ("mood", tate_mood_rows, "moods")):
        catalogue = tate.read_catalogue(Path(data_dir) / f"{name}s.jsonl")
        examples = catalogue_examples(catalogue, rows_of(parts["train"], catalogue), tate_share=0.5,
                                      description_weight=3.0)
        X = cache.embed(examples.texts, encode, progress=say)
        head, history = ml_heads.train_head(X, torch.tensor(examples.y), labels=catalogue.labels, multi_label=False,
                                            X_val=None, Y_val=None, sample_weight=torch.tensor(examples.weight),
                                            epochs=40, lr=3e-3, weight_decay=1e-4, seed=seed, label_smoothing=0.05)
        metrics = {"train_size": len(examples), "prompts": sum(1 for s in examples.source if s == "prompt")}
        if held_out:
            ranked = [[label for label, _ in row]
                      for row in ml_heads.predict(head, encode([p.text for p in held_out]), k=3)]
            accept = [getattr(p, key) for p in held_out]
            metrics |= {f"{name}_top1_prompts": round(ml_heads.top_k_accuracy(ranked, accept, 1), 4),
                        f"{name}_top3_prompts": round(ml_heads.top_k_accuracy(ranked, accept, 3), 4),
                        "eval_prompts": len(held_out)}
        out[name] = TrainedHead(head, metrics)
        say(f"{name}: {metrics}")
    return out
