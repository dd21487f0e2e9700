"""One weights folder for the whole test run, so the engine imports its weights once."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def data_dir_sharing_weights(directory: Path) -> Path:
    """Make `directory` an ARTSTUDIO_DATA_DIR whose weights/ is the one tests/ml uses: weights import once."""
    shared = Path(os.environ.get("ARTSTUDIO_DATA_DIR", REPO / "var")) / "weights"
    shared.mkdir(parents=True, exist_ok=True)
    (directory / "weights").symlink_to(shared, target_is_directory=True)
    return directory
