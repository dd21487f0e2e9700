"""Checking an uploaded weights file before it may paint: it loads into its kind's network and runs.

An admin's upload (safetensors, or a ``.pt`` / ``.pth`` read with ``weights_only=True``) is read
by ``checkpoints``, fitted strictly into the kind's architecture, and run once on a fixed photo.
What passes is written again as a canonical safetensors file, so a worker only ever loads
safetensors whose sha256 the registry records.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from . import kinds, loading
from .checkpoints import CheckpointError, fit_state_dict, read_state_dict
from .files import save_state
from .imaging import load_image, resize_long_side, to_image, to_tensor
from .loading import Weights
from .nets.efficientnet import EfficientNetLite0
from .nets.multistyle import MultiStyleNet
from .presets import REFERENCE_PHOTO

SMOKE_SIDE = 256  # the fixed photo's long side for the smoke inference; also the preset thumbnail
# A painting network whose picture varies less than this (0..1 units, ~2.5 of 255) paints one flat
# colour: an untrained network does (~0.001), a trained style network's pictures vary by ~0.2.
FLAT = 0.01


@dataclass(frozen=True)
class Validated:
    weights: Weights  # the canonical safetensors file
    parameters: int
    seconds: float  # the smoke inference's wall time on the CPU
    sample: Image.Image | None  # what a painting network made of the fixed photo
    styles: int | None = None  # the 26-style network: how many styles these weights hold (26 and any learned since)


def validate(
    kind: str,
    upload: Path,
    target: Path,
    *,
    max_bytes: int,
    slot: str = "",
    progress: Callable[[str], None] = lambda stage: None,
) -> Validated:
    """Read, fit and smoke-test `upload` as a `kind` network; write it to `target` as safetensors.

    Raises CheckpointError (a StyleError) with a sentence an admin can act on; `target` is
    written only when every check passed.
    """
    spec = kinds.get(kind)
    progress("reading")
    state = read_state_dict(Path(upload), max_bytes=max_bytes)
    progress("fitting")
    net = loading.build(kind, state)
    state = fit_state_dict(net, state, ignore=spec.ignore)
    net.load_state_dict(state)
    net = net.requires_grad_(False).eval()
    progress("smoke test")
    photo = to_tensor(resize_long_side(load_image(REFERENCE_PHOTO), SMOKE_SIDE, multiple=4))
    started = time.perf_counter()
    with torch.inference_mode():
        out = _smoke(kind, spec.smoke, net, photo)
    seconds = time.perf_counter() - started
    sample = _check_output(spec, out, photo)
    progress("saving")
    sha = save_state(state, Path(target))
    styles = net.cfg.num_styles if isinstance(net, MultiStyleNet) else None
    weights = Weights(kind, Path(target), sha, slot)
    return Validated(weights, sum(t.numel() for t in state.values()), seconds, sample, styles)


# What each conditioned painting network is given for the smoke test (the others take None)
_SMOKE_CONDITIONS = {
    "multistyle26": lambda net: torch.eye(net.cfg.num_styles)[:1],  # the first of its styles
    # A fixed random style. Not the zero vector: that is no style at all, and the shipped transformer paints it as
    # one flat colour (std 0.004), so every upload of this kind, the shipped weights included, was refused.
    "magenta_transformer": lambda net: torch.randn(1, 100, generator=torch.Generator().manual_seed(0)),
}


def _smoke(kind: str, how: str, net: torch.nn.Module, photo: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
    if how == "paint":
        condition = _SMOKE_CONDITIONS.get(kind, lambda net: None)(net)
        return net(photo, condition)
    if how == "predict":
        return net(photo)
    if how == "features":
        assert isinstance(net, EfficientNetLite0)  # the one kind smoke-tested by its feature maps
        return net.features(photo)
    raise ValueError(f"unknown smoke test {how!r}")


def _check_output(spec: kinds.Kind, out, photo: torch.Tensor) -> Image.Image | None:
    tensors = out if isinstance(out, list) else [out]
    if not all(bool(torch.isfinite(t).all()) for t in tensors):
        raise CheckpointError(
            f"The {spec.label.lower()} ran, but its output has NaN or infinite values; the weights are broken."
        )
    if spec.smoke != "paint":
        return None
    if out.shape != photo.shape:
        raise CheckpointError(
            f"The {spec.label.lower()} painted a {tuple(out.shape)} picture from a "
            f"{tuple(photo.shape)} photo; the weights do not fit this kind."
        )
    if float(out.clamp(0, 1).std()) < FLAT:
        raise CheckpointError(
            f"The {spec.label.lower()} paints every photo as one flat colour; the weights are untrained or broken."
        )
    return to_image(out)
