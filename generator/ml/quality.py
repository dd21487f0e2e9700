"""The quality mode: polish a fast stylisation by optimising it against the painting.

The fast networks paint in one pass but smear the painting's texture. Here the fast result is
the starting point of a short optimisation (Gatys et al. 2016) under EfficientNet-Lite0: match
the painting's Gram matrices over several layers, keep the photo's features (content) and stay
near the fast result, so its colours and layout survive.

It runs coarse to fine. Each level optimises a residual added to the fast result resized to
that level; the residual is carried up to the next level, where the fast result's own finer
detail is added back. Only the residual is ever upsampled, so the output keeps the edges of the
full-size fast result even when the finest level optimised is smaller than the output.
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


@dataclass(frozen=True)
class QualityConfig:
    # Indices into EfficientNetLite0.features(): stages 1, 2, 3, 4 (16/24/40/80 channels at
    # 1/2..1/16 size). Stage 6 adds cost and, at 1/32 size, mostly layout rather than texture.
    style_layers: tuple[int, ...] = (0, 1, 2, 3)
    content_layer: int = 3  # stage 4: object shapes without the photo's fine texture
    lr: float = 0.02  # Adam on pixels in 0..1
    max_side: int = 768  # the finest level optimised, whatever the output size (CPU budget)
    min_side: int = 64  # below this the net's 1/16 layers are a pixel or two: skip such levels
    # Share of the steps each level gets, coarse first. Coarse steps are cheap and set the
    # large strokes; the fine level mostly sharpens them.
    level_shares: tuple[float, ...] = (0.45, 0.35, 0.2)


def _level_sizes(h: int, w: int, *, levels: int, cfg: QualityConfig) -> list[tuple[int, int]]:
    """Sizes to optimise at, coarse to fine: halving from min(output, max_side)."""
    top = min(1.0, cfg.max_side / max(h, w))
    sizes = []
    for i in reversed(range(levels)):
        s = top / 2**i
        size = (max(1, round(h * s)), max(1, round(w * s)))
        if max(size) >= cfg.min_side or i == 0:
            sizes.append(size)
    return sizes


def _split_steps(steps: int, n: int, shares: tuple[float, ...]) -> list[int]:
    """``steps`` split over n levels by the last n shares (renormalised), summing to steps."""
    w = list(shares[-n:]) if n <= len(shares) else [1.0] * n
    counts = [int(steps * x / sum(w)) for x in w]
    counts[0] += steps - sum(counts)
    return counts


def refine(
    *,
    content: torch.Tensor,
    init: torch.Tensor,
    style: torch.Tensor,
    features: EfficientNetLite0,
    steps: int = 120,
    levels: int = 3,
    content_weight: float = 1.0,
    init_weight: float = 5.0,
    progress: Callable[[float, torch.Tensor], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    preview_every: int = 10,
    cfg: QualityConfig | None = None,
) -> torch.Tensor:
    """Improve a fast stylisation's texture; returns (1, 3, H, W) in 0..1, the shape of init.

    content, init: (1, 3, H, W) in 0..1 at output size (the photo and the fast result).
    style: (1, 3, h, w) in 0..1, the painting at any size.
    steps: Adam steps over all levels together. levels: how many sizes, halving each time.
    content_weight: pull towards the photo's stage-4 features; init_weight: pull towards the
    fast result's pixels. Both are relative to the style loss, which is 1 per layer when the
    image's Gram matrices are as far from the painting's as a blank image's.
    progress(fraction, image): every ``preview_every`` steps and once with 1.0 at the end;
    image is the current result at output size, detached.
    cancel(): polled every step; True raises ``Cancelled``.
    """
    cfg = cfg or QualityConfig()
    if init.shape != content.shape or init.dim() != 4 or init.shape[:2] != (1, 3):
        raise ValueError(f"content and init must both be (1, 3, H, W), got {tuple(content.shape)}"
                         f" and {tuple(init.shape)}")
    # The net is a fixed measuring stick: batch-norm statistics must not move, and no gradient
    # is needed for its weights, only for the image.
    features.eval().requires_grad_(False)
    device = init.device
    h, w = init.shape[-2:]
    init, content, style = init.float(), content.to(device).float(), style.to(device).float()
    sizes = _level_sizes(h, w, levels=levels, cfg=cfg)
    counts = _split_steps(steps, len(sizes), cfg.level_shares)
    depth = max(*cfg.style_layers, cfg.content_layer) + 1

    def compose(residual: torch.Tensor) -> torch.Tensor:
        return (init + resize_tensor(residual, (h, w))).clamp(0, 1)

    residual = torch.zeros(1, 3, *sizes[0], device=device)
    done = 0
    with torch.enable_grad():
        for size, count in zip(sizes, counts, strict=True):
            base = resize_tensor(init, size)  # (1, 3, h_l, w_l)
            residual = resize_tensor(residual, size).detach().requires_grad_(True)
            with torch.no_grad():
                # The painting at the same longest side as this level: strokes keep the same
                # size relative to the picture at every level.
                style_feats = features.features(fit_long_side(style, max(size)), depth=depth)
                targets = [gram(style_feats[i]) for i in cfg.style_layers]
                # Scale each layer's loss to 1 for a blank (zero-Gram) image: layers of very
                # different magnitudes then count alike.
                norms = [t.square().sum().clamp_min(1e-12) for t in targets]
                photo = features.features(resize_tensor(content, size), depth=depth)[cfg.content_layer]
                photo_norm = photo.square().mean().clamp_min(1e-12)
            opt = torch.optim.Adam([residual], lr=cfg.lr)
            for _ in range(count):
                if cancel is not None and cancel():
                    raise Cancelled("quality refinement cancelled")
                x = base + residual
                feats = features.features(x, depth=depth)
                style_loss = sum(
                    (gram(feats[i]) - t).square().sum() / n
                    for i, t, n in zip(cfg.style_layers, targets, norms, strict=True)
                )
                content_loss = F.mse_loss(feats[cfg.content_layer], photo) / photo_norm
                init_loss = residual.square().mean() * 100  # 0.1 mean drift costs 1
                loss = style_loss + content_weight * content_loss + init_weight * init_loss
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                with torch.no_grad():
                    # Keep base + residual a valid image without a clamp in the graph, whose
                    # zero gradient would strand pixels at 0 or 1.
                    residual.copy_((base + residual).clamp(0, 1) - base)
                done += 1
                if progress is not None and done % preview_every == 0 and done < steps:
                    with torch.no_grad():
                        progress(done / steps, compose(residual))
    out = compose(residual.detach())
    if progress is not None:
        progress(1.0, out)
    return out
