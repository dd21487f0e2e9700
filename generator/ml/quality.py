"""The quality mode: paint the painting's own strokes into a fast stylisation by optimisation.

The fast networks paint in one pass; their strokes are the network's, not the painting's. Here the
fast result is the starting point of a short optimisation (Gatys et al. 2016) under
EfficientNet-Lite0: match the painting's Gram matrices over four stages and keep the photo's
stage-4 features (object shapes), so the layout survives and the texture becomes the painting's.

What keeps it a painting and not noise:
- Brightness and colour change at different scales. The change to the picture is a brightness
  residual at the level's size plus a colour residual at a quarter of it (YCbCr, BT.601), so strokes
  are the painting's but no pixel can turn red or green alone: optimising RGB pixels directly fills
  flat skies with colour speckle.
- It runs coarse to fine, at most at 512 px on the long side (``QualityConfig.top_side``), with the
  painting resized to the same long side at every level, so strokes keep the painting's size
  relative to the picture. The residual is then enlarged onto the full-size fast result, whose own
  contours stay sharp. A level at 1024 px paints the network's pixel-scale grain instead of finer
  strokes (measured on the shipped pairs: the fine-detail share rose from +0.3 to +0.9 above the
  painting's, and flat areas turned grainy at 1:1).
- The plain Gram matrices of the stage outputs, not softmax-smoothed ones. The softmax of Wang et
  al. 2021 ("Rethinking and Improving the Robustness of Image Style Transfer") fixes ResNets, but a
  softmax over positions forgets each channel's mean: on EfficientNet-Lite0 the colours ran into
  rainbows (palette distance 3.5 -> 10.4, stray colours 0.1 % -> 42 %, chelsea x starry_night).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .errors import Cancelled
from .imaging import fit_long_side, resize_tensor
from .metrics import gram
from .nets.efficientnet import EfficientNetLite0

# YCbCr (BT.601, the weights of ``imaging.luminance``) -> RGB; rows are R, G, B.
_YCC_TO_RGB = torch.tensor([[1.0, 0.0, 1.402], [1.0, -0.344136, -0.714136], [1.0, 1.772, 0.0]])


@dataclass(frozen=True)
class QualityConfig:
    # Indices into EfficientNetLite0.features(): stages 1, 2, 3, 4 (16/24/40/80 channels at
    # 1/2..1/16 size). Stage 6 adds cost and, at 1/32 size, mostly layout rather than texture.
    style_layers: tuple[int, ...] = (0, 1, 2, 3)
    content_layer: int = 3  # stage 4: object shapes without the photo's fine texture
    lr: float = 0.02  # Adam on the residuals, in 0..1 units
    top_side: int = 512  # the finest level optimised, whatever the output size (see the module's docstring)
    levels: int = 2  # sizes, halving from top_side
    min_side: int = 64  # below this the net's 1/16 layers are a pixel or two: skip such levels
    chroma_scale: int = 4  # the colour residual is this many times coarser than the brightness one
    # Mirrored margin the net sees around every picture: with the net's own zero padding the
    # optimisation paints a band of stray colours along the edges, where nothing holds them.
    margin: int = 16


def _level_sizes(h: int, w: int, cfg: QualityConfig) -> list[tuple[int, int]]:
    """Sizes to optimise at, coarse to fine: halving from min(output, top_side)."""
    top = min(1.0, cfg.top_side / max(h, w))
    sizes = []
    for i in reversed(range(cfg.levels)):
        s = top / 2**i
        size = (max(1, round(h * s)), max(1, round(w * s)))
        if max(size) >= cfg.min_side or i == 0:
            sizes.append(size)
    return sizes


class _Residual:
    """A change to the picture: brightness at the level's size, colour (Cb, Cr) coarser."""

    luma: torch.Tensor  # (1, 1, h, w)
    chroma: torch.Tensor  # (1, 2, h/4, w/4)

    def __init__(
        self, size: tuple[int, int], chroma_scale: int, *, device: torch.device, like: _Residual | None = None
    ):
        self.size = size
        coarse = (max(1, size[0] // chroma_scale), max(1, size[1] // chroma_scale))
        if like is None:
            luma = torch.zeros(1, 1, *size, device=device)
            chroma = torch.zeros(1, 2, *coarse, device=device)
        else:  # carried up from the level below
            luma = resize_tensor(like.luma.detach(), size)
            chroma = resize_tensor(like.chroma.detach(), coarse)
        self.luma = luma.clone().requires_grad_(True)  # (1, 1, h, w)
        self.chroma = chroma.clone().requires_grad_(True)  # (1, 2, h/4, w/4)

    def parameters(self) -> list[torch.Tensor]:
        return [self.luma, self.chroma]

    def rgb(self, size: tuple[int, int] | None = None) -> torch.Tensor:
        """(1, 3, H, W) at `size` (default: the level's)."""
        size = size or self.size
        ycc = torch.cat(
            [
                resize_tensor(self.luma, size),
                F.interpolate(self.chroma, size=size, mode="bilinear", align_corners=False),
            ],
            dim=1,
        )
        return torch.einsum("ij,njhw->nihw", _YCC_TO_RGB.to(ycc), ycc)


def refine(
    *,
    content: torch.Tensor,
    init: torch.Tensor,
    style: torch.Tensor,
    features: EfficientNetLite0,
    steps: int = 160,
    content_weight: float = 1.0,
    progress: Callable[[float, torch.Tensor], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    preview_every: int = 10,
    cfg: QualityConfig | None = None,
) -> torch.Tensor:
    """The fast result with the painting's strokes; returns (1, 3, H, W) in 0..1, the shape of init.

    content, init: (1, 3, H, W) in 0..1 at output size (the photo and the fast result).
    style: (1, 3, h, w) in 0..1, the painting at any size.
    steps: Adam steps, split evenly over the levels.
    content_weight: the pull towards the photo's stage-4 features, relative to the style loss,
    which is 1 per layer when the picture's Gram matrices are as far from the painting's as a blank
    picture's.
    progress(fraction, image): every ``preview_every`` steps and once with 1.0 at the end;
    image is the current result at output size, detached.
    cancel(): polled every step; True raises ``Cancelled``.
    """
    cfg = cfg or QualityConfig()
    if init.shape != content.shape or init.dim() != 4 or init.shape[:2] != (1, 3):
        raise ValueError(
            f"content and init must both be (1, 3, H, W), got {tuple(content.shape)} and {tuple(init.shape)}"
        )
    # The net is a fixed measuring stick: batch-norm statistics must not move, and no gradient
    # is needed for its weights, only for the picture.
    features.eval().requires_grad_(False)
    device = init.device
    h, w = init.shape[-2:]
    init, content, style = init.float(), content.to(device).float(), style.to(device).float()
    sizes = _level_sizes(h, w, cfg)
    counts = [steps // len(sizes)] * len(sizes)
    counts[-1] += steps - sum(counts)
    depth = max(*cfg.style_layers, cfg.content_layer) + 1

    def measured(x: torch.Tensor) -> list[torch.Tensor]:
        m = min(cfg.margin, x.shape[-2] - 1, x.shape[-1] - 1)
        return features.features(F.pad(x, (m, m, m, m), mode="reflect"), depth=depth)

    def compose(residual: _Residual) -> torch.Tensor:
        return (init + residual.rgb((h, w))).clamp(0, 1)

    residual = None
    done = 0
    with torch.enable_grad():
        for size, count in zip(sizes, counts, strict=True):
            base = resize_tensor(init, size)  # (1, 3, h_l, w_l)
            residual = _Residual(size, cfg.chroma_scale, device=device, like=residual)
            with torch.no_grad():
                # The painting at the same longest side as this level: strokes keep the same
                # size relative to the picture at every level.
                style_feats = measured(fit_long_side(style, max(size)))
                targets = [gram(style_feats[i]) for i in cfg.style_layers]
                # Scale each layer's loss to 1 for a blank (zero-Gram) picture: layers of very
                # different magnitudes then count alike.
                norms = [t.square().sum().clamp_min(1e-12) for t in targets]
                photo = measured(resize_tensor(content, size))[cfg.content_layer]
                photo_norm = photo.square().mean().clamp_min(1e-12)
            opt = torch.optim.Adam(residual.parameters(), lr=cfg.lr)
            for _ in range(count):
                if cancel is not None and cancel():
                    raise Cancelled("quality refinement cancelled")
                # A pixel pushed past 0 or 1 stops there (the clamp passes no gradient): in
                # practice the painting's darkest and lightest strokes.
                feats = measured((base + residual.rgb()).clamp(0, 1))
                style_loss = sum(
                    (gram(feats[i]) - t).square().sum() / n
                    for i, t, n in zip(cfg.style_layers, targets, norms, strict=True)
                )
                content_loss = F.mse_loss(feats[cfg.content_layer], photo) / photo_norm
                loss = style_loss + content_weight * content_loss
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                done += 1
                if progress is not None and done % preview_every == 0 and done < steps:
                    with torch.no_grad():
                        progress(done / steps, compose(residual))
    assert residual is not None  # _level_sizes gives at least one level
    with torch.no_grad():
        out = compose(residual)
    if progress is not None:
        progress(1.0, out)
    return out
