"""Weights files: written whole or not at all, read only when their sha256 is the one expected.

Safetensors. Metadata holds only what the network needs to be built (its label list, its config,
its tokenizer), never where it came from: the same network always makes the same bytes, so an equal
sha256 means an equal network (provenance is recorded by the caller, not in the file).
"""

from __future__ import annotations

import hashlib
import json
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


def save_state(state: dict[str, torch.Tensor], target: Path, metadata: dict[str, str] | None = None) -> str:
    """Write tensors as safetensors; the file appears whole or not at all. Returns its sha256."""
    from safetensors.torch import save_file

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    os.close(fd)
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, tmp, metadata=_pack(metadata))
        sha = file_sha256(Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return sha


def load_state(path: Path, sha256: str) -> dict[str, torch.Tensor]:
    """A weights file's tensors, after checking the file is the one its sha256 names."""
    from safetensors.torch import load_file

    check_sha256(path, sha256)
    return load_file(str(path))


def load_state_with_metadata(path: Path, sha256: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and the metadata of a checked weights file."""
    from safetensors import safe_open

    check_sha256(path, sha256)
    with safe_open(str(path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
        return tensors, _unpack(f.metadata())


def read_metadata(path: Path) -> dict[str, str]:
    """A safetensors file's metadata, without reading its tensors."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return _unpack(f.metadata())


# safetensors writes its metadata map in no fixed order, which would give one network many sha256s: the
# metadata goes in as one sorted JSON string under one key instead.
_METADATA_KEY = "artstudio"


def _pack(metadata: dict[str, str] | None) -> dict[str, str] | None:
    return {_METADATA_KEY: json.dumps(metadata, sort_keys=True, ensure_ascii=False)} if metadata else None


def _unpack(raw: dict[str, str] | None) -> dict[str, str]:
    raw = dict(raw or {})
    return json.loads(raw[_METADATA_KEY]) if _METADATA_KEY in raw else raw


def check_sha256(path: Path, sha256: str) -> None:
    try:
        actual = file_sha256(Path(path))
    except FileNotFoundError:
        raise StyleError(f"The weights file {path} is missing; re-import the model version.") from None
    if actual != sha256:
        raise StyleError(f"The weights file {path} does not match its recorded sha256; re-import the model version.")
