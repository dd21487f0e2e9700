"""The baseline: Johnson et al.'s fast-style-transfer network (the architecture of
pytorch/examples' fast_neural_style), written here from the paper's description.

Random weights: the benchmark only times it. 1.68 M parameters.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvLayer(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1):
        super().__init__(nn.ReflectionPad2d(kernel // 2), nn.Conv2d(cin, cout, kernel, stride))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            ConvLayer(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(),
            ConvLayer(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Upsample(nn.Module):
    """Nearest x2 then a convolution: no checkerboard artefacts (as in the reference)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = ConvLayer(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.interpolate(x, scale_factor=2, mode="nearest"))


class TransformerNet(nn.Module):
    """(N, 3, H, W) -> (N, 3, H, W); H and W multiples of 4."""

    def __init__(self):
        super().__init__()

        def down(cin: int, cout: int, kernel: int, stride: int) -> list[nn.Module]:
            return [ConvLayer(cin, cout, kernel, stride), nn.InstanceNorm2d(cout, affine=True), nn.ReLU()]

        self.net = nn.Sequential(
            *down(3, 32, 9, 1),
            *down(32, 64, 3, 2),
            *down(64, 128, 3, 2),  # (N, 128, H/4, W/4)
            *[ResidualBlock(128) for _ in range(5)],
            Upsample(128, 64),
            nn.InstanceNorm2d(64, affine=True),
            nn.ReLU(),
            Upsample(64, 32),
            nn.InstanceNorm2d(32, affine=True),
            nn.ReLU(),
            ConvLayer(32, 3, 9),  # (N, 3, H, W)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
