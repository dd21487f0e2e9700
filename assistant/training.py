"""Training the classifier heads and registering each as a model version (source "training").

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


def default_tate() -> Path:
    return Path(settings.ARTSTUDIO_TATE_PATH)


def train_and_register(*, tate: Path | None = None, baseline: bool = True, activate: bool = False, seed: int = 0,
                       ship: bool = False, progress: Callable[[str], None] = lambda message: None
                       ) -> list[ModelVersion]:
    """Train every head on the fixed split; each becomes a ready version (active too, if asked).

    `ship` also writes the files where the studio's first start imports them from (for developers:
    that is how the committed heads in assistant/ml/assets/heads/ were made).
    """
    from assistant.ml import training
    from generator.ml.files import save_state

    helper, versions = services.assistant(settings.ARTSTUDIO_DEVICE)
    encoder_version = next(v for v in versions if v.kind == services.ENCODER)
    tate = Path(tate or default_tate())
    if not tate.exists():
        raise services.NotInstalled(f"The Tate data is not at {tate}; pass --tate PATH (artworks.jsonl.gz).")
    cache = Path(settings.DATA_DIR) / "cache" / "embeddings"
    trained = training.train_all(tate, DATA_DIR, helper.encoder, cache_dir=cache, seed=seed, baseline=baseline,
                                 progress=progress)
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
            version = ModelVersion(kind=services.HEAD, slot=slot, sha256=sha, source=ModelVersion.Source.TRAINING,
                                   status=ModelVersion.Status.READY, metrics=metrics, licence="CC0-1.0",
                                   label=f"Classifier head {slot} (trained)",
                                   credit="Trained on Tate collection metadata (CC0) and the studio's prompts",
                                   notes=f"manage.py assistant train --seed {seed}")
            with transaction.atomic(), open(path, "rb") as f:
                version.weights.save(f"{slot}.safetensors", File(f), save=False)
                version.size = version.weights.size
                version.save()
            if activate:
                version = model_version_activate(version=version)
            made.append(version)
    return made
