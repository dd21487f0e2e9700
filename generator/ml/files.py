"""Weights files: written whole or not at all, read only when their sha256 is the one expected.

Safetensors, with no metadata: the same tensors always make the same bytes, so an equal sha256
means equal weights (where a file came from is recorded by its caller, not in the file).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import torch

from .errors import StyleError


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_state(state: dict[str, torch.Tensor], target: Path) -> str:
    """Write tensors as safetensors; the file appears whole or not at all. Returns its sha256."""
    from safetensors.torch import save_file

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    os.close(fd)
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, tmp)
        sha = file_sha256(Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return sha


def load_state(path: Path, sha256: str) -> dict[str, torch.Tensor]:
    """A weights file's tensors, after checking the file is the one its sha256 names."""
    from safetensors.torch import load_file

    try:
        actual = file_sha256(Path(path))
    except FileNotFoundError:
        raise StyleError(f"The weights file {path} is missing; re-import the model version.") from None
    if actual != sha256:
        raise StyleError(f"The weights file {path} does not match its recorded sha256; re-import the model version.")
    return load_file(str(path))
