"""Training the assistant's three classifier heads (subject, movement, mood) on sentence embeddings.

What each head learns from, and how its choices are made (none of them on the evaluation prompts):
  subject   Tate titles -> Tate subject terms (multi-label), on the fixed split (tate.SPLIT_RULE). The finest
            vocabulary whose validation micro-F1 reaches the target ships (Tate's level 1 terms with enough
            support), else level 0. Threshold on the validation split; figures on the test split.
  movement  the written prompts and descriptions of movements.jsonl, with Tate titles of works in the mapped
            movements and "in the style of <artist>" for the artists Tate files under one movement. Tate is
            down-weighted and every class weighs the same. Linear or MLP, and how much Tate, are chosen by
            k-fold cross-validation on the written prompts.
  mood      likewise from moods.jsonl, with the Tate titles whose narrowest subjects name a mapped emotion.
eval_prompts.jsonl is read only by `evaluate`, to measure. The seed's LSTM baseline learns from the same
examples and is measured the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import baseline as lstm
from . import heads as ml_heads
from . import tate
from .heads import Head
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

    def embed(
        self, texts: Sequence[str], encode: Encode, *, progress: Callable[[str], None] | None = None, chunk: int = 4096
    ) -> torch.Tensor:
        """(len(texts), 384) float32, in the order given; repeated texts are embedded once."""
        missing = sorted({t for t in texts if t not in self.row})
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
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
        for target, write in (
            (vectors_path, lambda f: np.save(f, self.vectors)),
            (texts_path, lambda f: f.write(json.dumps(self.texts, ensure_ascii=False).encode())),
        ):
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


def catalogue_examples(
    catalogue: Catalogue,
    tate_rows: Sequence[tuple[str, set[str]]],
    *,
    tate_share: float,
    description_weight: float,
    templates: Sequence[str] = (),
    artists: Mapping[str, Sequence[str]] | None = None,
    artist_share: float = 0.25,
    prompts: Mapping[str, Sequence[str]] | None = None,
) -> Examples:
    """A label's written prompts (weight 1 each), its description (up-weighted) and the description's
    sentences, its name in `templates`, artists' names and Tate titles (down-weighted).

    Class-balanced: the Tate titles of a label together weigh `tate_share` times its prompts, however many
    there are (British Pop has hundreds, Ukiyo-e none), and no title weighs more than a prompt; a title with
    two labels counts half for each. Artists likewise, with `artist_share`. `prompts` replaces the
    catalogue's (a cross-validation fold's training part).
    """
    prompts = catalogue.prompts if prompts is None else prompts
    index = {label: i for i, label in enumerate(catalogue.labels)}
    out = Examples()
    for label in catalogue.labels:
        n_prompts = max(len(prompts.get(label, ())), 1)
        for text in prompts.get(label, ()):
            out.add(text, index[label], 1.0, "prompt")
        description = catalogue.descriptions.get(label, "")
        if description:
            out.add(description, index[label], description_weight, "description")
            # An idea is one sentence; each of the description's names one trait the whole text blurs
            for sentence in _sentences(description):
                out.add(sentence, index[label], 1.0, "description")
        for template in templates:
            out.add(template.format(label=label), index[label], 1.0, "name")
        names = (artists or {}).get(label, ())
        for name in names:
            out.add(f"in the style of {name}", index[label], min(1.0, artist_share * n_prompts / len(names)), "artist")
    per_label: dict[str, float] = defaultdict(float)
    for _, labels in tate_rows:
        for label in labels:
            per_label[label] += 1.0 / len(labels)
    if tate_share > 0:
        for text, labels in tate_rows:
            for label in sorted(labels):
                budget = tate_share * max(len(prompts.get(label, ())), 1)
                out.add(text, index[label], min(1.0, budget / per_label[label]) / len(labels), "tate")
    return out


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?;:])\s+", text)
    return [p for p in parts if len(p.split()) >= 3] if len(parts) > 1 else []


_HONORIFIC = re.compile(r"^(after|follower of|circle of|attributed to|manner of|sir|dame)\s+", re.IGNORECASE)


def artist_name(artist: str) -> str:
    """ "Sir Edward Coley Burne-Jones, Bt" -> "Edward Coley Burne-Jones": the name an artist would type."""
    name = artist
    while _HONORIFIC.match(name):
        name = _HONORIFIC.sub("", name)
    name = name.split(",")[0]
    return re.sub(r"\s+(OM|CH|RA|KBE|CBE)\b", "", name).strip()


def movement_artists(
    records: Iterable[Record], catalogue: Catalogue, *, min_works: int = 2, purity: float = 2 / 3
) -> dict[str, list[str]]:
    """label -> the artists with at least `min_works` works Tate files under it, and at least `purity` of
    their filed works under it alone (Man Ray is Dada and Surrealism: he names neither)."""
    per: dict[str, Counter] = defaultdict(Counter)
    total: Counter = Counter()
    for r in records:
        labels = catalogue.labels_for(r.movements)
        name = artist_name(r.artist)
        if not labels or not name or "school" in name.lower() or "unknown" in name.lower():
            continue
        total[name] += 1
        for label in labels:
            per[label][name] += 1
    return {
        label: sorted(a for a, n in per[label].items() if n >= min_works and n >= purity * total[a])
        for label in catalogue.labels
    }


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


# -- settings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectSettings:
    # (level, min_support), finest first: the first whose validation micro-F1 reaches the target ships.
    # Level 1 keeps terms with >= 1,000 training titles: below that, a term's validation F1 was mostly
    # under 0.3 (too rare to learn from titles, and noise in the answer); level 0 keeps all but "group/movement".
    levels: tuple[tuple[int, int], ...] = ((1, 1000), (0, 50))
    target_micro_f1: float = 0.6
    # An MLP: +0.02 micro-F1 over a linear layer at level 0, +0.05 at level 1 (validation). pos_weight cost
    # 0.01 at both (it buys recall the threshold can buy too), so there is none.
    hidden: int = 1024
    dropout: float = 0.2
    epochs: int = 40
    lr: float = 2e-3
    weight_decay: float = 1e-4
    batch_size: int = 512


@dataclass(frozen=True)
class Candidate:
    """One way of training a movement or mood head, compared with others by cross-validation."""

    hidden: int = 0
    tate_share: float = 0.1
    lr: float = 1e-2


@dataclass(frozen=True)
class CatalogueSettings:
    file: str  # in data_dir: movements.jsonl, moods.jsonl
    templates: tuple[str, ...]  # the label's own name as an idea might say it
    use_artists: bool
    # Compared by `folds`-fold cross-validation on the written prompts; the best top-1 (then top-3) wins.
    # (An MLP with Tate titles lost to both on movements and moods in development, and cost the most time.)
    candidates: tuple[Candidate, ...] = (Candidate(0, 0.0), Candidate(0, 0.1), Candidate(256, 0.0, 3e-3))
    folds: int = 5
    description_weight: float = 3.0
    label_smoothing: float = 0.1  # +1-2 points of cross-validated top-3 for movements: the labels overlap
    epochs: int = 60
    weight_decay: float = 1e-4
    dropout: float = 0.3  # for an MLP candidate
    batch_size: int = 128


@dataclass(frozen=True)
class BaselineSettings:
    subject_epochs: int = 5  # its validation loss moves by under 1 % an epoch after the fifth
    catalogue_epochs: int = 25  # a thousand examples: many passes, the last one kept
    lr: float = 3e-3


@dataclass(frozen=True)
class TrainingSettings:
    subject: SubjectSettings = field(default_factory=SubjectSettings)
    movement: CatalogueSettings = field(
        default_factory=lambda: CatalogueSettings(
            "movements.jsonl", ("{label}", "in the style of {label}"), use_artists=True
        )
    )
    mood: CatalogueSettings = field(
        default_factory=lambda: CatalogueSettings("moods.jsonl", ("{label}", "a feeling of {label}"), use_artists=False)
    )
    baseline: BaselineSettings = field(default_factory=BaselineSettings)
    train_threads: int = 1


@contextmanager
def threads(n: int) -> Iterator[None]:
    """Train with n threads. On this busy 2-core CPU two threads that wait on each other were far slower
    than one: the subject MLP took 424 s with two and 163 s with one, an LSTM step 950 ms and 140 ms."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# -- the data of each slot ------------------------------------------------------------------------


@dataclass
class SubjectData:
    level: int
    labels: tuple[str, ...]
    texts: dict[str, list[str]]  # part -> titles
    Y: dict[str, torch.Tensor]  # part -> (N, L) 0/1


def subject_data(parts: Mapping[str, Sequence[Record]], level: int, min_support: int) -> SubjectData:
    """Titles that say something, of records Tate gave subjects at this level (the others were never
    annotated, so they are not negatives)."""
    labels = tate.subject_vocabulary(parts["train"], level, min_support=min_support)
    index = {label: i for i, label in enumerate(labels)}
    texts, Ys = {}, {}
    for name, records in parts.items():
        rows = [r for r in records if r.text and r.subjects[level]]
        Y = torch.zeros(len(rows), len(labels))
        for i, r in enumerate(rows):
            for s in tate.subject_targets(r, level, labels):
                Y[i, index[s]] = 1
        texts[name], Ys[name] = [r.text for r in rows], Y
    return SubjectData(level, labels, texts, Ys)


def subject_level_of(labels: Sequence[str], records: Sequence[Record]) -> int:
    """Which of Tate's three subject levels a head's labels come from."""
    wanted = set(labels)
    hits = [sum(len(wanted & set(r.subjects[level])) for r in records[:5000]) for level in range(3)]
    return max(range(3), key=hits.__getitem__)


def _rows_of(slot: str) -> Callable[[Iterable[Record], Catalogue], list[tuple[str, set[str]]]]:
    return tate_movement_rows if slot == "movement" else tate_mood_rows


def slot_examples(
    slot: str,
    catalogue: Catalogue,
    train: Sequence[Record],
    settings: CatalogueSettings,
    *,
    tate_share: float,
    prompts: Mapping[str, Sequence[str]] | None = None,
) -> Examples:
    artists = movement_artists(train, catalogue) if settings.use_artists else None
    return catalogue_examples(
        catalogue,
        _rows_of(slot)(train, catalogue),
        tate_share=tate_share,
        description_weight=settings.description_weight,
        templates=settings.templates,
        artists=artists,
        prompts=prompts,
    )


def _train_catalogue_head(
    examples: Examples,
    embed: Callable[[Sequence[str]], torch.Tensor],
    labels: Sequence[str],
    settings: CatalogueSettings,
    candidate: Candidate,
    seed: int,
) -> tuple[Head, dict]:
    return ml_heads.train_head(
        embed(examples.texts),
        torch.tensor(examples.y),
        labels=labels,
        multi_label=False,
        X_val=None,
        Y_val=None,
        sample_weight=torch.tensor(examples.weight),
        epochs=settings.epochs,
        lr=candidate.lr,
        weight_decay=settings.weight_decay,
        seed=seed,
        hidden=candidate.hidden,
        dropout=settings.dropout if candidate.hidden else 0.0,
        label_smoothing=settings.label_smoothing,
        batch_size=settings.batch_size,
        keep_best=False,
    )


def cross_validate(
    slot: str,
    catalogue: Catalogue,
    train: Sequence[Record],
    settings: CatalogueSettings,
    candidate: Candidate,
    embed: Callable[[Sequence[str]], torch.Tensor],
    *,
    seed: int,
) -> dict[str, float]:
    """Top-1 and top-3 on each fold's held-out written prompts, the head trained on everything else."""
    folds = prompt_folds(catalogue, settings.folds, seed)
    ranked_all, truth = [], []
    for f, held in enumerate(folds):
        rest = {label: [p for g, part in enumerate(folds) if g != f for p in part[label]] for label in catalogue.labels}
        examples = slot_examples(slot, catalogue, train, settings, tate_share=candidate.tate_share, prompts=rest)
        head, _ = _train_catalogue_head(examples, embed, catalogue.labels, settings, candidate, seed)
        texts = [p for label in catalogue.labels for p in held[label]]
        ranked_all += ml_heads.predict(head, embed(texts), k=3)
        truth += [[label] for label in catalogue.labels for _ in held[label]]
    return {
        "top1": ml_heads.top_k_accuracy(ranked_all, truth, 1),
        "top3": ml_heads.top_k_accuracy(ranked_all, truth, 3),
    }


# -- training everything --------------------------------------------------------------------------


@dataclass
class TrainedHead:
    head: Head
    metrics: dict
    history: dict = field(default_factory=dict)
    baseline: lstm.LSTMClassifier | None = None


def train_all(
    tate_path: Path,
    data_dir: Path,
    encode,
    *,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    baseline: bool = True,
    cache_dir: Path | None = None,
    settings: TrainingSettings | None = None,
) -> dict[str, TrainedHead]:
    """The subject, movement and mood heads ("subject", "movement", "mood"), each with its figures.

    `encode` is a function of texts -> (N, 384) unit vectors, or an object with ``.encode`` (SentenceEncoder).
    With `cache_dir`, embeddings are kept there per encoder, so a second run embeds nothing. A slot whose
    labels file is missing from `data_dir` is left out. The movement and mood figures on held-out prompts
    need data_dir/eval_prompts.jsonl; nothing else reads it.
    """
    settings = settings or TrainingSettings()
    say = progress or (lambda message: None)
    started = time.monotonic()
    encode = as_encode(encode)
    cache = EmbeddingCache(cache_dir, encoder_fingerprint(encode))

    def embed(texts: Sequence[str]) -> torch.Tensor:
        return cache.embed(texts, encode, progress=say)

    parts = tate.by_part(tate.read_records(Path(tate_path)))
    say(f"Tate: {', '.join(f'{len(v)} {k}' for k, v in parts.items())} records ({tate.SPLIT_RULE})")
    out: dict[str, TrainedHead] = {"subject": _train_subject(parts, embed, settings, seed, baseline, say)}
    for slot in ("movement", "mood"):
        slot_settings: CatalogueSettings = getattr(settings, slot)
        path = Path(data_dir) / slot_settings.file
        if not path.exists():
            say(f"{slot}: no {path}, so no {slot} head")
            continue
        out[slot] = _train_catalogue(
            slot,
            tate.read_catalogue(path),
            parts["train"],
            embed,
            slot_settings,
            settings.baseline,
            seed,
            baseline,
            say,
            settings.train_threads,
        )
    measured = evaluate(
        {slot: t.head for slot, t in out.items()},
        tate_path,
        data_dir,
        embed,
        parts=parts,
        baselines={slot: t.baseline for slot, t in out.items() if t.baseline is not None},
    )
    for slot, trained in out.items():
        figures = dict(measured.get(slot, {}))
        base = figures.pop("baseline", None)
        trained.metrics.update(figures)
        if base is not None:
            trained.metrics["baseline"] = {**trained.metrics.get("baseline", {}), **base}
    minutes = (time.monotonic() - started) / 60
    for slot, trained in out.items():
        trained.metrics["train_minutes"] = round(minutes, 2)
        say(f"{slot}: {json.dumps(trained.metrics, sort_keys=True)}")
    return out


def _train_subject(parts, embed, settings: TrainingSettings, seed: int, baseline: bool, say) -> TrainedHead:
    s = settings.subject
    tried: dict[str, float] = {}
    for n, (level, min_support) in enumerate(s.levels):
        data = subject_data(parts, level, min_support)
        say(f"subject: level {level}, {len(data.labels)} terms, {len(data.texts['train'])} training titles")
        X, Xv = embed(data.texts["train"]), embed(data.texts["validation"])
        with threads(settings.train_threads):
            head, history = ml_heads.train_head(
                X,
                data.Y["train"],
                labels=data.labels,
                multi_label=True,
                X_val=Xv,
                Y_val=data.Y["validation"],
                epochs=s.epochs,
                lr=s.lr,
                weight_decay=s.weight_decay,
                seed=seed,
                hidden=s.hidden,
                dropout=s.dropout,
                batch_size=s.batch_size,
            )
        tried[f"level{level}"] = round(history["val_micro_f1"], 4)
        say(f"subject: level {level} validation micro-F1 {history['val_micro_f1']:.3f} (threshold {head.threshold})")
        if history["val_micro_f1"] >= s.target_micro_f1 or n == len(s.levels) - 1:
            break
    metrics = {
        "subject_level": level,
        "subject_labels": len(data.labels),
        "subject_threshold": head.threshold,
        "subject_micro_f1_validation": round(history["val_micro_f1"], 4),
        "subject_micro_f1_validation_by_level": tried,
        "subject_best_epoch": history["best_epoch"],
        "train_size": len(data.texts["train"]),
        "split": tate.SPLIT_RULE,
        "head": {"hidden": s.hidden, "dropout": s.dropout, "epochs": s.epochs},
    }
    model = None
    if baseline:
        model, metrics["baseline"] = _subject_lstm(data, settings, seed, say)
    return TrainedHead(head, metrics, history, model)


def _train_catalogue(
    slot: str,
    catalogue: Catalogue,
    train: Sequence[Record],
    embed,
    settings: CatalogueSettings,
    baseline_settings: BaselineSettings,
    seed: int,
    baseline: bool,
    say,
    n_threads: int,
) -> TrainedHead:
    # Embedded here, not per fold: the folds share every text
    embed(slot_examples(slot, catalogue, train, settings, tate_share=1.0).texts)
    scores = []
    with threads(n_threads):
        for candidate in settings.candidates:
            cv = cross_validate(slot, catalogue, train, settings, candidate, embed, seed=seed)
            scores.append((cv["top1"], cv["top3"], candidate))
            say(
                f"{slot}: {settings.folds}-fold on the written prompts, {asdict(candidate)}: "
                f"top-1 {cv['top1']:.3f}, top-3 {cv['top3']:.3f}"
            )
        top1, top3, best = max(scores, key=lambda s: (round(s[0], 3), round(s[1], 3), -settings.candidates.index(s[2])))
        examples = slot_examples(slot, catalogue, train, settings, tate_share=best.tate_share)
        head, history = _train_catalogue_head(examples, embed, catalogue.labels, settings, best, seed)
    sources = Counter(examples.source)
    metrics = {
        f"{slot}_top1_cv": round(top1, 4),
        f"{slot}_top3_cv": round(top3, 4),
        "choice": asdict(best),
        "cv": [{**asdict(c), "top1": round(a, 4), "top3": round(b, 4)} for a, b, c in scores],
        "train_size": len(examples),
        "sources": dict(sorted(sources.items())),
        "split": tate.SPLIT_RULE,
    }
    model = None
    if baseline:
        model = _catalogue_lstm(slot, examples, catalogue.labels, baseline_settings, seed, say, n_threads)
    return TrainedHead(head, metrics, history, model)


def _subject_lstm(
    data: SubjectData,
    settings: TrainingSettings,
    seed: int,
    say,
) -> tuple[lstm.LSTMClassifier, dict]:
    say("subject: training the LSTM baseline")
    with threads(settings.train_threads):
        model, history = lstm.train_lstm(
            data.texts["train"],
            data.Y["train"],
            labels=data.labels,
            multi_label=True,
            texts_val=data.texts["validation"],
            Y_val=data.Y["validation"],
            epochs=settings.baseline.subject_epochs,
            lr=settings.baseline.lr,
            seed=seed,
            progress=lambda e, n, loss: say(f"subject LSTM: epoch {e}/{n}, validation loss {loss:.3f}"),
        )
    return model, {
        "subject_threshold": model.threshold,
        "vocabulary": history["vocabulary"],
        "subject_micro_f1_validation": round(history["val_micro_f1"], 4),
    }


def _catalogue_lstm(
    slot: str, examples: Examples, labels: Sequence[str], settings: BaselineSettings, seed: int, say, n_threads: int
) -> lstm.LSTMClassifier:
    say(f"{slot}: training the LSTM baseline")
    with threads(n_threads):
        # Every word of the few hundred written examples: at min_count 2 most of a prompt would be <unk>
        model, _ = lstm.train_lstm(
            examples.texts,
            torch.tensor(examples.y),
            labels=labels,
            multi_label=False,
            texts_val=None,
            Y_val=None,
            sample_weight=torch.tensor(examples.weight),
            vocabulary=lstm.build_vocabulary(examples.texts, min_count=1),
            epochs=settings.catalogue_epochs,
            lr=settings.lr,
            seed=seed,
            batch_size=64,
        )
    return model


def evaluate_baseline(
    tate_path: Path,
    data_dir: Path,
    *,
    seed: int = 0,
    settings: TrainingSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Train the LSTM baselines only (no encoder needed) and measure them as `evaluate` does: one flat dict
    with the heads' metric names, and `p50_ms`, the median time of one idea through the movement LSTM.

    Its movement and mood examples take Tate at the first cross-validation candidate's share: choosing
    among candidates needs the heads' embeddings.
    """
    settings = settings or TrainingSettings()
    say = progress or (lambda message: None)
    parts = tate.by_part(tate.read_records(Path(tate_path)))
    level, min_support = settings.subject.levels[0]
    models = {"subject": _subject_lstm(subject_data(parts, level, min_support), settings, seed, say)[0]}
    for slot in ("movement", "mood"):
        slot_settings: CatalogueSettings = getattr(settings, slot)
        path = Path(data_dir) / slot_settings.file
        if path.exists():
            catalogue = tate.read_catalogue(path)
            examples = slot_examples(
                slot, catalogue, parts["train"], slot_settings, tate_share=slot_settings.candidates[0].tate_share
            )
            models[slot] = _catalogue_lstm(
                slot, examples, catalogue.labels, settings.baseline, seed, say, settings.train_threads
            )
    measured = evaluate({}, tate_path, data_dir, None, baselines=models, parts=parts)
    flat = {k: v for slot in measured.values() for k, v in slot.get("baseline", {}).items()}
    if "movement" in models:
        times = []
        for _ in range(20):
            start = time.perf_counter()
            lstm.predict(models["movement"], ["a lighthouse in a storm at dusk"], k=3)
            times.append(time.perf_counter() - start)
        flat["p50_ms"] = 1000 * sorted(times)[len(times) // 2]
    return flat


# -- measuring ------------------------------------------------------------------------------------


def evaluate(
    heads: Mapping[str, Head],
    tate_path: Path,
    data_dir: Path,
    encode,
    *,
    baselines: Mapping[str, lstm.LSTMClassifier] | None = None,
    cache_dir: Path | None = None,
    parts: Mapping[str, Sequence[Record]] | None = None,
) -> dict[str, dict]:
    """Held-out figures of trained heads (and LSTM baselines), by slot.

    subject: micro-F1 of the thresholded set and precision@3 on the Tate test split's titles, and the
    micro-F1 on those of its titles no training record has (Turner's 538 "Mountains" are in every part).
    movement, mood: top-1 / top-3 on data_dir/eval_prompts.jsonl when it exists (a hit: any accepted label),
    and for movements top-3 on the Tate test split's titles too (a weak signal: titles rarely name a style).
    """
    baselines = baselines or {}
    embed: Encode | None = None
    if heads:
        encode = as_encode(encode)
        if cache_dir is not None:
            cache = EmbeddingCache(cache_dir, encoder_fingerprint(encode))
            embed = lambda texts: cache.embed(texts, encode)  # noqa: E731
        else:
            embed = encode
    parts = parts or tate.by_part(tate.read_records(Path(tate_path)))
    out: dict[str, dict] = {}

    def scored(slot: str, texts: Sequence[str]) -> dict[str, tuple[list, list | None]]:
        """name ("head", "baseline") -> (ranked top 3, the thresholded set for multi-label)."""
        models: dict[str, tuple[list, list | None]] = {}
        if slot in heads:
            head = heads[slot]
            assert embed is not None  # set above whenever there are heads
            X = embed(list(texts))
            models["head"] = (
                ml_heads.predict(head, X, k=3),
                ml_heads.predict_set(head, X) if head.multi_label else None,
            )
        if slot in baselines:
            m = baselines[slot]
            models["baseline"] = (lstm.predict(m, texts, k=3), lstm.predict_set(m, texts) if m.multi_label else None)
        return models

    def put(slot: str, name: str, values: dict) -> None:
        target = out.setdefault(slot, {})
        (target.setdefault("baseline", {}) if name == "baseline" else target).update(
            {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}
        )

    if "subject" in heads or "subject" in baselines:
        labels = (heads.get("subject") or baselines["subject"]).labels
        level = subject_level_of(labels, parts["train"])
        train_texts = {r.text for r in parts["train"]}
        test = [r for r in parts["test"] if r.text and r.subjects[level]]
        truth = [tate.subject_targets(r, level, labels) for r in test]
        unseen = [i for i, r in enumerate(test) if r.text not in train_texts]
        for name, (ranked, chosen) in scored("subject", [r.text for r in test]).items():
            assert chosen is not None  # subject models are multi-label: they answer with a thresholded set
            put(
                "subject",
                name,
                {
                    "subject_micro_f1": ml_heads.micro_f1(chosen, truth),
                    "subject_precision_at_3": ml_heads.precision_at_k(ranked, truth, 3),
                    "subject_micro_f1_unseen_titles": ml_heads.micro_f1(
                        [chosen[i] for i in unseen], [truth[i] for i in unseen]
                    ),
                    "test_size": len(test),
                    "test_unseen_titles": len(unseen),
                },
            )
    eval_path = Path(data_dir) / "eval_prompts.jsonl"
    prompts = tate.read_eval_prompts(eval_path) if eval_path.exists() else []
    for slot in ("movement", "mood"):
        if slot not in heads and slot not in baselines:
            continue
        if prompts:
            accept = [p.movements if slot == "movement" else p.moods for p in prompts]
            for name, (ranked, _) in scored(slot, [p.text for p in prompts]).items():
                put(
                    slot,
                    name,
                    {
                        f"{slot}_top1_prompts": ml_heads.top_k_accuracy(ranked, accept, 1),
                        f"{slot}_top3_prompts": ml_heads.top_k_accuracy(ranked, accept, 3),
                        "eval_prompts": len(prompts),
                    },
                )
        catalogue_path = Path(data_dir) / "movements.jsonl"
        if slot == "movement" and catalogue_path.exists():
            rows = tate_movement_rows(parts["test"], tate.read_catalogue(catalogue_path))
            if rows:
                for name, (ranked, _) in scored(slot, [t for t, _ in rows]).items():
                    put(
                        slot,
                        name,
                        {
                            "movement_top3_tate_test": ml_heads.top_k_accuracy(ranked, [ls for _, ls in rows], 3),
                            "tate_test_size": len(rows),
                        },
                    )
    return out
