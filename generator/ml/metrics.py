"""Numbers for the quality benchmark: style distance, content distance, SSIM, sharpness.

Every function takes images as (1, 3, H, W) float tensors in 0..1 (RGB), on any device, and
returns a plain float. Callers with PIL images convert first; keeping one input type keeps the
functions small and lets the quality mode reuse ``gram`` on its own activations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .imaging import fit_long_side, luminance, resize_tensor, srgb_to_lab
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
def gram_distance(a: torch.Tensor, b: torch.Tensor, features: EfficientNetLite0, *, side: int | None = 512) -> float:
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
def content_distance(a: torch.Tensor, b: torch.Tensor, features: EfficientNetLite0, *, layer: int = 2) -> float:
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


# -- measures the engine never optimises (bench/quality.py) ---------------------------------------

FINE_BAND = (0.15, 0.5)  # cycles per pixel: 1-2 px squiggles, the crackle an upscaled network invents
COARSE_BAND = (0.01, 0.05)  # 20-100 px: the picture's strokes and shapes


def _band_power(plane: torch.Tensor, bands: list[tuple[float, float]]) -> list[torch.Tensor]:
    """A (H, W) plane's spectral power in each band of radial frequency (cycles/px), Hann-windowed."""
    plane = plane - plane.mean()
    h, w = plane.shape
    window = torch.outer(
        torch.hann_window(h, periodic=False, dtype=plane.dtype, device=plane.device),
        torch.hann_window(w, periodic=False, dtype=plane.dtype, device=plane.device),
    )
    power = torch.fft.rfft2(plane * window).abs().square()
    fy = torch.fft.fftfreq(h, device=plane.device)[:, None]
    fx = torch.fft.rfftfreq(w, device=plane.device)[None, :]
    radius = torch.sqrt(fy * fy + fx * fx)
    return [power[(radius >= lo) & (radius < hi)].sum().clamp_min(1e-12) for lo, hi in bands]


@torch.no_grad()
def fine_share(img: torch.Tensor) -> float:
    """log10 of the luminance's spectral power at 0.15-0.5 cycles/px over its power at 0.01-0.05.

    How much of a picture's contrast sits in its finest detail, independent of its overall
    contrast. Compare two pictures at the same size (``fine_share_against``): the number moves
    with the scale at which a picture is looked at.
    """
    fine, coarse = _band_power(luminance(img.float())[0, 0], [FINE_BAND, COARSE_BAND])
    return float(torch.log10(fine / coarse))


SPECKLE_BAND = (0.25, 0.5)  # cycles per pixel: single pixels and pairs


@torch.no_grad()
def colour_speckle(img: torch.Tensor) -> float:
    """log10 of the pixel-scale (0.25-0.5 cycles/px) power in CIELAB a*, b* over that in L*.

    A painting's finest detail is light and shade (bristle marks, canvas, paint ridges); pixels
    that turn red or green alone in a flat sky put the power in the colour planes instead. A
    photo or a painting is near -1 or below; a picture optimised pixel by pixel in RGB rises
    towards 0 and above.
    """
    lab = srgb_to_lab(img.float())[0]
    (light,) = _band_power(lab[0], [SPECKLE_BAND])
    colour = sum(_band_power(lab[i], [SPECKLE_BAND])[0] for i in (1, 2))
    return float(torch.log10(colour / light))


@torch.no_grad()
def fine_share_against(result: torch.Tensor, reference: torch.Tensor) -> float:
    """fine_share(result) - fine_share(reference), with the reference brought to the result's size.

    Detail is judged at print size: a painting enlarged to the result's size holds no finer
    detail than it has, so whatever fine texture a picture holds beyond that was invented (or
    came from the photo). 0 means the reference's share of fine detail; +1 ten times its share.
    """
    return fine_share(result) - fine_share(resize_tensor(reference, tuple(result.shape[-2:])))


def _lab_samples(img: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """Up to n pixels of img in CIELAB, (n, 3), drawn without replacement."""
    lab = srgb_to_lab(img)[0].reshape(3, -1).T
    if lab.shape[0] <= n:
        return lab
    return lab[torch.randperm(lab.shape[0], generator=generator, device="cpu")[:n].to(lab.device)]


@torch.no_grad()
def palette_distance(
    a: torch.Tensor, b: torch.Tensor, *, samples: int = 65536, directions: int = 64, seed: int = 0
) -> float:
    """Sliced Wasserstein-1 distance between the colours of two pictures in CIELAB (about ΔE units).

    Every pixel is a point in Lab; the distance is the mean, over random directions, of the
    1-D optimal-transport distance between the two clouds projected on that direction. It
    looks at the whole palette (how much of each colour), not the layout: 0 for the same
    colours in any arrangement, a few units for a near match, 10 or more for a cast.
    """
    g = torch.Generator().manual_seed(seed)
    pa, pb = _lab_samples(a, samples, g), _lab_samples(b, samples, g)
    d = torch.randn(3, directions, generator=g).to(pa)
    d = d / d.norm(dim=0, keepdim=True)
    qs = torch.linspace(0, 1, 1024, device=pa.device)
    qa, qb = torch.quantile(pa @ d, qs, dim=0), torch.quantile(pb @ d, qs, dim=0)
    return float((qa - qb).abs().mean())


@torch.no_grad()
def stray_colours(
    result: torch.Tensor, *sources: torch.Tensor, far: float = 10.0, samples: int = 8192, seed: int = 0
) -> float:
    """Share of the result's pixels whose colour is in none of the sources (ΔE76 > `far` to all).

    A cast shows here as a large share: colours that neither the painting nor the photo holds.
    """
    g = torch.Generator().manual_seed(seed)
    mine = _lab_samples(result, samples, g)
    theirs = torch.cat([_lab_samples(s, samples, g) for s in sources])
    nearest = torch.cat([torch.cdist(chunk, theirs).amin(dim=1) for chunk in mine.split(1024)])
    return float((nearest > far).float().mean())


BLOT_SIDE = 64  # blots are a large share of the picture: seen at this long side, brush strokes average away
FLAT_STEP = 2.3  # ΔE76 between neighbours below which the photo is flat there (about one just-noticeable step)
BLOT_DELTA = 10.0  # ΔE76 from what the photo's colour there predicts: a patch of plainly another colour


@torch.no_grad()
def blotches(result: torch.Tensor, photo: torch.Tensor, *, side: int = BLOT_SIDE) -> float:
    """Share of the photo's flat regions (a clear sky, a wall, still water) that the picture blots: 0 when they
    stay as even as they were, 1 when all of it is a patch of another colour.

    Both are seen at `side` px. The photo is flat where each pixel is within about one just-noticeable step of
    its neighbours. There, the picture's colours are fitted as an affine function of the photo's (a style may
    recolour a sky and keep its gradient from the horizon up); a pixel blots where it is more than
    BLOT_DELTA from that fit. The fit is made twice, the second time without the first fit's blots, so a large
    blot does not drag the fit towards itself. A photo with next to no flat region has nothing to blot: 0.
    """
    photo, result = photo.detach().float().cpu(), result.detach().float().cpu()  # 64 px: the CPU's work, any device
    lab_p = srgb_to_lab(fit_long_side(photo, side))[0]
    lab_r = srgb_to_lab(resize_tensor(result, tuple(lab_p.shape[-2:])))[0]
    padded = F.pad(lab_p[None], (1, 1, 1, 1), mode="replicate")[0]
    h, w = lab_p.shape[-2:]
    steps = torch.stack(
        [
            (padded[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] - lab_p).norm(dim=0)
            for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1))
        ]
    )
    flat = steps.amax(dim=0) < FLAT_STEP
    if flat.float().mean() < 0.05:
        return 0.0
    x = torch.cat([lab_p[:, flat].T, torch.ones(int(flat.sum()), 1)], dim=1)  # (n, 4): L, a, b, 1
    y = lab_r[:, flat].T  # (n, 3)
    used = torch.ones(len(y), dtype=torch.bool)
    for _ in range(2):
        fit = torch.linalg.lstsq(x[used], y[used]).solution
        off = _spread((y - x @ fit).T, flat)  # texture's residuals cancel out; a patch's add up
        used = off <= BLOT_DELTA
        if int(used.sum()) < 8:  # next to nothing fits: the whole flat region is blotted
            break
    return float((off > BLOT_DELTA).float().mean())


def _spread(residual: torch.Tensor, flat: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """The residuals (3, n) of the flat pixels, averaged with their flat neighbours (a Gaussian of `sigma` px,
    normalised over the flat pixels only), as one distance each (n,)."""
    h, w = flat.shape
    plane = torch.zeros(4, h, w)
    plane[:3, flat] = residual
    plane[3, flat] = 1.0
    kernel = _gaussian_window(7, sigma, plane).expand(4, 1, 7, 7)
    smooth = F.conv2d(plane[None], kernel, padding=3, groups=4)[0]
    return (smooth[:3, flat] / smooth[3, flat].clamp_min(1e-6)).norm(dim=0)
