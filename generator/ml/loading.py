"""Networks built from explicit weights files, once per process, cached by (kind, sha256, device).

The engine never looks weights up by itself: its caller (the studio's model registry, the
command line, a test) hands it a ``ModelSet``, a mapping from (kind, slot) to a file and the
sha256 that file must have. A new version is a new sha, so it loads next to the old one and a
job already running keeps the network it started with.
"""

from __future__ import annotations

import importlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from torch import nn

from . import kinds
from .errors import StyleError
from .files import load_state, load_state_with_metadata

CACHE_SIZE = 24  # networks kept per process; old versions fall out after a few activations


@dataclass(frozen=True)
class Weights:
    """One network's weights: a safetensors file and the sha256 it must have."""

    kind: str
    path: Path
    sha256: str
    slot: str = ""  # which network of a slotted kind (a single-style network's style)


@dataclass(frozen=True)
class ModelRef:
    """The exact weights a result came from."""

    kind: str
    sha256: str
    slot: str = ""


@dataclass(frozen=True)
class ModelSet(Mapping):
    """The networks one run may use, by (kind, slot); asking for any other is an error."""

    weights: Mapping[tuple[str, str], Weights] = field(default_factory=dict)

    @classmethod
    def of(cls, items: Iterable[Weights]) -> ModelSet:
        return cls({(w.kind, w.slot): w for w in items})

    def __getitem__(self, key: tuple[str, str]) -> Weights:
        return self.weights[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.weights)

    def __len__(self) -> int:
        return len(self.weights)

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, w.sha256) for k, w in self.weights.items())))

    def get_net(self, kind: str, device: torch.device, slot: str = "") -> tuple[nn.Module, ModelRef]:
        """The network on `device`, in eval mode, and the reference to record with the result."""
        found = self.weights.get((kind, slot))
        if found is None:
            label = kinds.get(kind).label.lower() + (f" “{slot}”" if slot else "")
            raise StyleError(f"No {label} is available to this job; an admin needs to activate one.")
        return load(found, device), ModelRef(kind, found.sha256, slot)


def network_class(kind: str) -> type[nn.Module]:
    module, _, name = kinds.get(kind).network.partition(":")
    return getattr(importlib.import_module(module), name)


def build(kind: str, state: Mapping[str, torch.Tensor] | None = None) -> nn.Module:
    """A freshly initialised network of the kind's architecture; shaped for `state` where the kind's shape is read
    from its weights (the 26-style network's number of styles)."""
    cls = network_class(kind)
    config_for = getattr(cls, "config_for", None)
    return cls(config_for(state)) if config_for is not None and state is not None else cls()


def from_file(weights: Weights) -> nn.Module:
    """A new network with these weights, on the CPU and the caller's own (`load` shares one per process)."""
    cls = network_class(weights.kind)
    if hasattr(cls, "from_state"):  # its shape, labels or tokenizer travel in the file's metadata
        return cls.from_state(*load_state_with_metadata(weights.path, weights.sha256))
    model = cls()
    model.load_state_dict(load_state(weights.path, weights.sha256))
    return model


_styles_held: dict[str, int] = {}


def styles_held(weights: Weights) -> int:
    """How many styles a 26-style network's weights hold (the rows of its scales), read from the file's header."""
    if weights.sha256 not in _styles_held:
        with safe_open(str(weights.path), framework="pt") as f:
            scale = next(k for k in f.keys() if k.endswith(".gamma"))  # noqa: SIM118 (safe_open has no __iter__)
            _styles_held[weights.sha256] = int(f.get_slice(scale).get_shape()[0])
    return _styles_held[weights.sha256]


_cache: OrderedDict[tuple[str, str, str], nn.Module] = OrderedDict()
_lock = threading.Lock()


def load(weights: Weights, device: torch.device) -> nn.Module:
    """The network with these weights on `device`, loaded once per process."""
    key = (weights.kind, weights.sha256, str(device))
    with _lock:
        model = _cache.get(key)
        if model is None:
            # Built outside inference mode even when the first caller is in it: its parameters
            # must stay ordinary tensors, usable where gradients flow to an input (quality mode).
            with torch.inference_mode(False):
                model = from_file(weights).requires_grad_(False).eval()
                # channels_last makes the convolutions 1.5x faster on the CPU as well as the GPU (and
                # leaves the text models, which have no 4-D weights, as they are)
                model = model.to(device, memory_format=torch.channels_last)  # type: ignore[call-overload]  # Module.to accepts both; the stub lacks that overload
            _cache[key] = model
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        _cache.move_to_end(key)
    return model


def loaded() -> list[tuple[str, str, str]]:
    """The (kind, sha256, device) of every network this process holds."""
    with _lock:
        return list(_cache)


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


def preload(models: ModelSet, device: torch.device) -> None:
    for w in models.values():
        load(w, device)


def clear() -> None:
    with _lock:
        _cache.clear()
