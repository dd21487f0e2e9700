"""The painting's own fine detail at print size, moved onto a picture by texture transfer.

The paint pass works at the network's own size (384 px at brush 1.0), so a picture printed at 1024 px
or more holds nothing finer than that pass's pixels, enlarged, besides the photo's own edges: soft
strokes, no bristle marks, no canvas. The painting printed as large has them. `painting_detail` cuts
the painting's light and shade finer than the paint pass's scale into patches, and gives each patch of
the picture the painting patch whose coarser light and shade match best, blended with overlapping
windows (texture transfer, Efros and Freeman 2001, "Image Quilting for Texture Synthesis and
Transfer", with luminance as the correspondence). Nothing is made up and no amount is tuned: every mark
is the painting's, at the contrast and size it has when the painting is printed as large as the
picture. A painting smaller than the print holds no detail that fine, and gives none. Light and shade
only: colour that changes from pixel to pixel is speckle.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .imaging import luminance, resize_tensor


@dataclass(frozen=True)
class TextureConfig:
    patch: int = 32  # px at print size: a few bristle marks; patches overlap by a quarter
    grid: int = 8  # a patch's coarse light and shade is matched as grid x grid cells
    choices: int = 8  # a random one of the best few matches, or a flat region repeats one patch in a grid
    candidates: int = 16384  # painting patches searched at most (the cost at 4096 px)
    seed: int = 0  # the same picture and painting give the same marks


def painting_detail(
    picture: torch.Tensor, painting: torch.Tensor, *, paint_side: int, cfg: TextureConfig = TextureConfig()
) -> torch.Tensor:
    """The painting's luminance detail finer than `paint_side`, arranged to follow the picture.

    picture (1, 3, H, W) was painted with its long side at `paint_side` and enlarged; painting
    (1, 3, h, w) is its style. Returns (1, 1, H, W), to add to every channel.
    """
    height, width = picture.shape[-2:]
    scale = max(height, width) / max(painting.shape[-2:])
    printed = luminance(
        resize_tensor(painting.to(picture), (round(painting.shape[-2] * scale), round(painting.shape[-1] * scale)))
    )
    if min(printed.shape[-2:]) < cfg.patch or min(height, width) < cfg.patch:
        return torch.zeros_like(picture[:, :1])
    shrink = paint_side / max(height, width)
    painting_coarse = _coarse(printed, shrink)
    detail = printed - painting_coarse  # what the paint pass cannot hold
    picture_coarse = _coarse(luminance(picture), shrink)

    step = cfg.patch * 3 // 4
    pad_h, pad_w = (_cover(n, cfg.patch, step) for n in (height, width))
    picture_coarse = F.pad(picture_coarse, (0, pad_w, 0, pad_h), mode="replicate")
    wanted = _layouts(picture_coarse, cfg, stride=step)  # (L, grid^2)
    offered = _layouts(painting_coarse, cfg, stride=cfg.patch // 2)  # (M, grid^2)
    marks = F.unfold(detail, cfg.patch, stride=cfg.patch // 2)[0]  # (patch^2, M)

    generator = torch.Generator(device="cpu").manual_seed(cfg.seed)
    if offered.shape[0] > cfg.candidates:
        keep = torch.randperm(offered.shape[0], generator=generator)[: cfg.candidates].to(offered.device)
        offered, marks = offered[keep], marks[:, keep]
    chosen = _best_matches(wanted, offered, choices=min(cfg.choices, offered.shape[0]), generator=generator)

    ramp = torch.hann_window(cfg.patch, periodic=False, device=picture.device, dtype=picture.dtype) + 1e-3
    window = torch.outer(ramp, ramp).reshape(-1, 1)
    size = (height + pad_h, width + pad_w)
    total = F.fold((marks[:, chosen] * window)[None], size, cfg.patch, stride=step)
    weight = F.fold(window.expand(-1, chosen.numel())[None], size, cfg.patch, stride=step)
    return (total / weight)[..., :height, :width]


def _coarse(plane: torch.Tensor, shrink: float) -> torch.Tensor:
    """The plane as the paint pass sees it: shrunk by `shrink` and enlarged again."""
    small = (max(1, round(plane.shape[-2] * shrink)), max(1, round(plane.shape[-1] * shrink)))
    return resize_tensor(resize_tensor(plane, small), tuple(plane.shape[-2:]))


def _cover(length: int, patch: int, step: int) -> int:
    """Padding so that patches `step` apart cover `length` (at least one patch long) exactly."""
    return (patch - length) % step


def _layouts(plane: torch.Tensor, cfg: TextureConfig, *, stride: int) -> torch.Tensor:
    """Each patch's light and shade as grid x grid cell means: (patches, grid^2). Brightness counts, not only
    shape: a painting's dark passages are brushed otherwise than its lights, and the picture is already in
    the painting's palette."""
    cell = cfg.patch // cfg.grid
    return F.unfold(F.avg_pool2d(plane, cell), cfg.grid, stride=stride // cell)[0].T


def _best_matches(
    wanted: torch.Tensor, offered: torch.Tensor, *, choices: int, generator: torch.Generator, chunk: int = 1024
) -> torch.Tensor:
    """For each wanted layout, the index of one of the `choices` nearest offered layouts, at random."""
    norms = offered.square().sum(dim=1)
    pick = torch.randint(choices, (wanted.shape[0],), generator=generator).to(wanted.device)
    chosen = torch.empty(wanted.shape[0], dtype=torch.long, device=wanted.device)
    for start in range(0, wanted.shape[0], chunk):
        distance = norms[None, :] - 2 * wanted[start : start + chunk] @ offered.T  # |a-b|^2 less |a|^2
        nearest = distance.topk(choices, dim=1, largest=False).indices
        chosen[start : start + chunk] = nearest.gather(1, pick[start : start + chunk, None])[:, 0]
    return chosen
