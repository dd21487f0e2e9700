"""The assistant's training runs, each ending as a registered model version (source "training"): the
classifier heads, and the text generator fine-tuned to title works.

The heads learn from the active sentence encoder's embeddings, so a new encoder means training
again; each version's metrics record the encoder it was trained on.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction

from assistant import services
from generator.models import ModelVersion
from generator.services import model_version_activate

DATA_DIR = Path(__file__).resolve().parent / "data"


def tate_path(given: Path | None = None) -> Path:
    """The Tate data to train on: `given`, or the studio's copy; NotInstalled when it is not there."""
    tate = Path(given or settings.ARTSTUDIO_TATE_PATH)
    if not tate.exists():
        raise services.NotInstalled(f"The Tate data is not at {tate}; pass --tate PATH (artworks.jsonl.gz).")
    return tate


def train_and_register(
    *,
    tate: Path | None = None,
    baseline: bool = True,
    activate: bool = False,
    seed: int = 0,
    ship: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> list[ModelVersion]:
    """Train every head on the fixed split; each becomes a ready version (active too, if asked).

    `ship` also writes the files where the studio's first start imports them from (for developers:
    that is how the committed heads in assistant/ml/assets/heads/ were made).
    """
    from assistant.ml import training
    from generator.ml.files import save_state

    helper, versions = services.assistant(settings.ARTSTUDIO_DEVICE)
    encoder_version = next(v for v in versions if v.kind == services.ENCODER)
    tate = tate_path(tate)
    cache = Path(settings.DATA_DIR) / "cache" / "embeddings"
    trained = training.train_all(
        tate, DATA_DIR, helper.encoder, cache_dir=cache, seed=seed, baseline=baseline, progress=progress
    )
    made = []
    with tempfile.TemporaryDirectory() as scratch:
        for slot, result in trained.items():
            metrics = {**result.metrics, "encoder_sha256": encoder_version.sha256, "seed": seed}
            state, metadata = result.head.to_state()
            path = Path(scratch) / f"{slot}.safetensors"
            sha = save_state(state, path, {**metadata, "metrics": json.dumps(metrics, sort_keys=True)})
            if ship:
                from generator.ml.weights import HEADS_DIR

                HEADS_DIR.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, HEADS_DIR / f"{slot}.safetensors")
            made.append(
                register_trained(
                    ModelVersion(
                        kind=services.HEAD,
                        slot=slot,
                        sha256=sha,
                        metrics=metrics,
                        licence="CC0-1.0",
                        label=f"Classifier head {slot} (trained)",
                        credit="Trained on Tate collection metadata (CC0) and the studio's prompts",
                        notes=f"manage.py assistant train --seed {seed}",
                    ),
                    path,
                    activate,
                )
            )
    return made


def finetune_titles_and_register(
    *,
    tate: Path | None = None,
    pairs: int = 2000,
    held_out: int = 100,
    steps: int = 300,
    lr: float = 5e-5,
    batch_size: int = 8,
    seed: int = 0,
    activate: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> ModelVersion:
    """Fine-tune the active text generator to title works from their subjects (Tate: subjects -> title).

    It learns from `pairs` works of the training part and is judged on `held_out` works of the test
    part: by the loss it lowers (reported as such) and, independently, by how near its titles come to
    the real ones in the sentence encoder's reading (`title_tuning.judge_titles`), before and after. The
    result is a new ready version of the text generator (active too, if asked); the one it started
    from is untouched.
    """
    import random

    import torch

    from assistant.ml import tate as ml_tate
    from assistant.ml import title_tuning
    from assistant.ml import writer as ml_writer
    from generator import registry
    from generator.ml.loading import resolve_device

    if pairs < 1 or held_out < 2 or steps < 1:
        raise ValueError("Fine-tuning needs at least 1 pair, 2 held-out works and 1 step.")
    helper, _versions = services.assistant(settings.ARTSTUDIO_DEVICE)
    base = services.writer_version()  # read into a copy of its own below; the shared one is never loaded
    tate = tate_path(tate)
    parts = ml_tate.by_part(ml_tate.read_records(tate))
    rng = random.Random(seed)
    train = ml_tate.title_pairs(parts["train"])
    judged = ml_tate.title_pairs(parts["test"])
    train, judged = rng.sample(train, min(pairs, len(train))), rng.sample(judged, min(held_out, len(judged)))
    progress(f"{len(train)} training titles, {len(judged)} held-out titles (Tate {ml_tate.SPLIT_RULE})")

    # a copy of the active writer (the process's shared one stays as it is), outside inference mode: it learns
    own = ml_writer.Writer.from_file(registry.local_path(base), base.sha256, resolve_device(settings.ARTSTUDIO_DEVICE))

    def judge() -> dict:
        with torch.inference_mode():
            return title_tuning.judge_titles(own, judged, helper.encoder.encode)

    before = judge()
    progress(
        f"before: title similarity {before['title_similarity']:.3f} "
        f"(another work's title: {before['title_similarity_other_work']:.3f})"
    )
    report = title_tuning.finetune_titles(
        own,
        train,
        held_out=judged,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        progress=lambda step, total, loss: (
            progress(f"step {step}/{total} loss {loss:.3f}") if step % 10 == 0 or step == total else None
        ),
    )
    after = judge()
    progress(
        f"after: title similarity {after['title_similarity']:.3f} "
        f"(another work's title: {after['title_similarity_other_work']:.3f})"
    )
    metrics = {
        **report,
        "base_version": base.pk,
        "base_sha256": base.sha256,
        "seed": seed,
        "lr": lr,
        "judged_by": "sentence-encoder cosine of written and real held-out titles (not the loss trained on)",
        "before": {k: v for k, v in before.items() if k != "examples"},
        "after": {k: v for k, v in after.items() if k != "examples"},
        "examples": after["examples"],
    }
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "writer.safetensors"
        sha = ml_writer.save(own, path)
        return register_trained(
            ModelVersion(
                kind=services.WRITER,
                sha256=sha,
                metrics=metrics,
                licence=base.licence,
                label=f"{base.label} + titles from Tate subjects",
                credit=f"{base.credit}; fine-tuned on Tate collection metadata (CC0)",
                notes=f"manage.py assistant finetune-titles --pairs {pairs} --steps {steps} --seed {seed}, "
                f"from version {base.pk}",
            ),
            path,
            activate,
        )


def register_trained(version: ModelVersion, path: Path, activate: bool) -> ModelVersion:
    """Keep a trained file as a ready version of source "training" (and activate it, if asked)."""
    version.source, version.status = ModelVersion.Source.TRAINING, ModelVersion.Status.READY
    try:
        with transaction.atomic(), open(path, "rb") as f:
            version.weights.save(path.name, File(f), save=False)
            version.size = version.weights.size
            version.save()
    except Exception:
        if version.weights:  # no row, so no file either
            version.weights.delete(save=False)
        raise
    return model_version_activate(version=version) if activate else version
