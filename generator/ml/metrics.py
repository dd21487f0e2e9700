"""Numbers for the quality benchmark: style distance, content distance, SSIM, sharpness.

Every function takes images as (1, 3, H, W) float tensors in 0..1 (RGB), on any device, and
returns a plain float. Callers with PIL images convert first; keeping one input type keeps the
functions small and lets the quality mode reuse ``gram`` on its own activations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .imaging import fit_long_side, luminance, resize_tensor
from .nets.efficientnet import EfficientNetLite0


def gram(f: torch.Tensor) -> torch.Tensor:
    """Normalised Gram matrix: (N, C, H, W) -> (N, C, C), divided by C*H*W.

    Dividing by the positions makes it independent of image size; dividing by C keeps layers of
    different widths on comparable scales when their distances are averaged.
    """
    n, c, h, w = f.shape
    flat = f.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


@torch.no_grad()
def gram_distance(
    a: torch.Tensor, b: torch.Tensor, features: EfficientNetLite0, *, side: int | None = 512
) -> float:
    """Style distance: mean over the net's feature layers of ||gram(a) - gram(b)||_F.

    a and b may differ in size (an output against its painting). Both are first resized to a
    longest side of ``side`` so that brush strokes are compared at the same relative scale and
    numbers from outputs of different sizes are comparable; ``side=None`` uses them as given.
    """
    if side is not None:
        a, b = fit_long_side(a, side), fit_long_side(b, side)
    dists = [
        torch.linalg.matrix_norm(gram(fa) - gram(fb)).mean()
        for fa, fb in zip(features.features(a), features.features(b), strict=True)
    ]
    return float(torch.stack(dists).mean())


@torch.no_grad()
def content_distance(
    a: torch.Tensor, b: torch.Tensor, features: EfficientNetLite0, *, layer: int = 2
) -> float:
    """Mean squared feature difference at a mid layer (stage 3, 40 channels at 1/8 size).

    b is resized to a's size first, so an output can be compared with its (larger) photo.
    """
    if b.shape[-2:] != a.shape[-2:]:
        b = resize_tensor(b, a.shape[-2:])
    fa = features.features(a, depth=layer + 1)[layer]
    fb = features.features(b, depth=layer + 1)[layer]
    return float(F.mse_loss(fa, fb))


def _gaussian_window(size: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    coords = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).view(1, 1, size, size)


@torch.no_grad()
def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """SSIM (Wang et al. 2004) of the luminance: 11x11 gaussian window, sigma 1.5, K=(0.01, 0.03).

    Images must be the same size; the mean is over valid windows only (no padding), as in the
    reference implementation. 1.0 means identical.
    """
    if a.shape != b.shape:
        raise ValueError(f"ssim needs images of one size, got {tuple(a.shape)} and {tuple(b.shape)}")
    x, y = luminance(a.float()), luminance(b.float())
    win = _gaussian_window(11, 1.5, x)
    c1, c2 = 0.01**2, 0.03**2  # data range is 1.0

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, win)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


@torch.no_grad()
def sharpness(img: torch.Tensor) -> float:
    """Variance of the 4-neighbour Laplacian of the luminance, at full size.

    Luminance is scaled to 0..255 first, so values match the usual OpenCV "variance of the
    Laplacian" blur measure: a few hundred or more for a crisp photo, tens for a blurred one.
    """
    y = luminance(img.float()) * 255.0
    kernel = y.new_tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
    return float(F.conv2d(y, kernel).var())
