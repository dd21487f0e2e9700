"""The single-style network: Johnson et al. 2016, "Perceptual losses for real-time style transfer".

One network per style, the architecture of pytorch/examples' fast_neural_style, so the community's
checkpoints for it load as they are: the module names below give exactly the state-dict keys that
example saves (``conv1.conv2d.weight``, ``in1.weight``, ``res1.conv1.conv2d.weight`` ...).
Those networks were trained on 0..255 pixels; ours take and return 0..1, so ``forward`` rescales.
Instance norms run through ``StyleInstanceNorm`` so tiled painting can share their statistics.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import StyleInstanceNorm, upsample2


class ConvLayer(nn.Module):
    """Reflection padding then a convolution, named ``conv2d`` as in the checkpoints."""

    def __init__(self, cin: int, cout: int, kernel: int, *, stride: int = 1):
        super().__init__()
        self.pad = kernel // 2
        self.conv2d = nn.Conv2d(cin, cout, kernel, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(F.pad(x, (self.pad,) * 4, mode="reflect"))


class UpsampleConvLayer(ConvLayer):
    """Nearest 2x, then a stride-1 convolution: fewer checkerboard artefacts than a transposed conv."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(upsample2(x))


class InstanceNorm(nn.Module):
    """Affine instance norm with the keys of ``nn.InstanceNorm2d(affine=True)``: ``weight``, ``bias``."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.norm = StyleInstanceNorm(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (N, C, H, W); the one style's scale and shift, repeated per sample: (N, C)
        n = x.shape[0]
        return self.norm(x, self.weight[None].expand(n, -1), self.bias[None].expand(n, -1))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.in1 = InstanceNorm(channels)
        self.conv2 = ConvLayer(channels, channels, 3)
        self.in2 = InstanceNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.in2(self.conv2(self.in1(self.conv1(x)).relu_()))


class TransformerNet(nn.Module):
    """Photo (N, 3, H, W) in 0..1 -> painting (N, 3, H, W), unclamped (the engine clamps).

    H and W should be multiples of 4 (the engine only passes those); other sizes at least 5
    pixels work too, the output cropped back to the input's size. The fixed architecture has
    no config: a checkpoint either fits it or is refused (see ``generator.ml.checkpoints``).
    """

    label = "single-style network"  # how messages to an admin name it

    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(3, 32, 9)  # H
        self.in1 = InstanceNorm(32)
        self.conv2 = ConvLayer(32, 64, 3, stride=2)  # H/2
        self.in2 = InstanceNorm(64)
        self.conv3 = ConvLayer(64, 128, 3, stride=2)  # H/4
        self.in3 = InstanceNorm(128)
        self.res1 = ResidualBlock(128)
        self.res2 = ResidualBlock(128)
        self.res3 = ResidualBlock(128)
        self.res4 = ResidualBlock(128)
        self.res5 = ResidualBlock(128)
        self.deconv1 = UpsampleConvLayer(128, 64, 3)  # H/2
        self.in4 = InstanceNorm(64)
        self.deconv2 = UpsampleConvLayer(64, 32, 3)  # H
        self.in5 = InstanceNorm(32)
        self.deconv3 = ConvLayer(32, 3, 9)

    def forward(self, x: torch.Tensor, condition: object = None) -> torch.Tensor:
        # `condition` is there because the engine calls every paint network as net(x, condition);
        # a single-style network has nothing to condition on.
        h, w = x.shape[-2:]
        y = x * 255.0  # the checkpoints were trained on 0..255 pixels
        y = self.in1(self.conv1(y)).relu_()  # (N, 32, H, W)
        y = self.in2(self.conv2(y)).relu_()  # (N, 64, H/2, W/2)
        y = self.in3(self.conv3(y)).relu_()  # (N, 128, H/4, W/4)
        y = self.res5(self.res4(self.res3(self.res2(self.res1(y)))))
        y = self.in4(self.deconv1(y)).relu_()  # (N, 64, H/2, W/2)
        y = self.in5(self.deconv2(y)).relu_()  # (N, 32, H, W)
        y = self.deconv3(y)  # (N, 3, H, W)
        # A stride-2 conv rounds an odd side up, so the upsampled side can exceed the input's.
        return y[..., :h, :w] / 255.0
