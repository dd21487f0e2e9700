"""Where the engine gets its networks: built once per process, cached by (name, sha256, device).

A Celery worker calls ``preload()`` in each child process (``worker_process_init``) so the first
job pays no loading cost; the web process never imports this module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import weights
from .errors import StyleError


@dataclass(frozen=True)
class ModelRef:
    """The exact weights a result came from."""

    name: str
    sha256: str


def _builders() -> dict[str, Callable[[], nn.Module]]:
    from .nets.efficientnet import EfficientNetLite0
    from .nets.magenta import StylePredictor, StyleTransformer
    from .nets.multistyle import MultiStyleNet

    return {
        "magenta_predictor": StylePredictor,
        "magenta_transformer": StyleTransformer,
        "multistyle26": MultiStyleNet,
        "efficientnet_lite0": EfficientNetLite0,
    }


_cache: dict[tuple[str, str, str], nn.Module] = {}
_lock = threading.Lock()


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' picks CUDA when this process can see a GPU; 'cuda' without one is an error."""
    if device not in ("auto", "cpu", "cuda"):
        raise StyleError(f"Unknown device {device!r}; use auto, cpu or cuda.")
    if device == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if device == "cuda":
        raise StyleError("A CUDA GPU was asked for, but this machine has none; use device 'cpu' or 'auto'.")
    return torch.device("cpu")


def get(name: str, device: torch.device, *, directory: Path | None = None) -> tuple[nn.Module, ModelRef]:
    """The named network on `device`, in eval mode, loaded once per process."""
    sha = weights.entry(name, directory)["sha256"]
    key = (name, sha, str(device))
    with _lock:
        model = _cache.get(key)
        if model is None:
            # Built outside inference mode even when the first caller is in it: its parameters
            # must stay ordinary tensors, usable where gradients flow to an input (quality mode).
            with torch.inference_mode(False):
                state, sha = weights.load_state(name, directory)
                model = _builders()[name]()
                model.load_state_dict(state)
                # channels_last makes the convolutions 1.5x faster on the CPU as well as the GPU
                model = model.requires_grad_(False).eval().to(device, memory_format=torch.channels_last)
            _cache[key] = model
    return model, ModelRef(name, key[1])


def preload(device: str = "auto", names: tuple[str, ...] = ("multistyle26", "magenta_predictor",
                                                             "magenta_transformer")) -> None:
    dev = resolve_device(device)
    for name in names:
        get(name, dev)


def clear() -> None:
    with _lock:
        _cache.clear()
