"""Reading, converting and writing pictures, and moving them in and out of tensors.

Every input the engine accepts goes through ``load_image``: one place that honours EXIF
orientation, flattens alpha onto white, converts CMYK, 16-bit, greyscale and palette images,
and turns every way a file can be bad into a ``StyleError`` a person can act on.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import StyleError

ImageSource = str | os.PathLike | bytes | BinaryIO | Image.Image

MIN_SIDE = 32
MAX_PIXELS = 40_000_000  # 40 megapixels, well above any camera photo an artist uploads


def load_image(source: ImageSource, *, what: str = "image", max_pixels: int = MAX_PIXELS) -> Image.Image:
    """An RGB image, upright, from a path, bytes, a file object or a PIL image."""
    if isinstance(source, Image.Image):
        img = source
    else:
        img = _open(source, what)
        width, height = img.size
        if width * height > max_pixels:  # checked from the header, before any pixel is decoded
            raise StyleError(
                f"The {what} is {width}x{height} ({width * height / 1e6:.0f} megapixels); "
                f"the limit is {max_pixels / 1e6:.0f} megapixels. Please resize it and try again."
            )
        try:
            img.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise StyleError(f"The {what} is damaged or cut short and cannot be read ({exc}).") from None
    width, height = img.size
    if min(width, height) < MIN_SIDE:
        raise StyleError(f"The {what} is only {width}x{height} pixels; both sides need at least {MIN_SIDE} pixels.")
    return _to_rgb(ImageOps.exif_transpose(img))


def _open(source: str | os.PathLike | bytes | BinaryIO, what: str) -> Image.Image:  # load_image uses a PIL image as is
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice its limit refuses) on huge images; we check ourselves.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(source)
    except FileNotFoundError:
        raise StyleError(f"The {what} file {source} does not exist.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise StyleError(
            f"The {what} declares more pixels than the {MAX_PIXELS / 1e6:.0f}-megapixel limit "
            "(a decompression bomb?). Please upload a smaller picture."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise StyleError(f"The {what} is not a picture this studio can read (use JPEG, PNG or WebP).") from None


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float greyscale: stretch the used range to 8 bits rather than clip it
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "RGBa", "La", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB")  # CMYK, YCbCr, L, 1, P and 48-bit RGB all land here


def resize_long_side(img: Image.Image, side: int, *, multiple: int = 1) -> Image.Image:
    """Scale so the longer side is `side` (each side rounded to `multiple`)."""
    scale = side / max(img.size)
    width = max(multiple, round(img.width * scale / multiple) * multiple)
    height = max(multiple, round(img.height * scale / multiple) * multiple)
    if (width, height) == img.size:
        return img
    return img.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def to_tensor(img: Image.Image) -> torch.Tensor:
    """RGB PIL image -> (1, 3, H, W) float32 in 0..1."""
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)[None].float().div_(255.0)


def to_image(x: torch.Tensor) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) tensor in 0..1 -> RGB PIL image."""
    x = x.detach().float().cpu()
    x = x[0] if x.dim() == 4 else x
    arr = x.clamp(0, 1).mul(255.0).add_(0.5).to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(arr, "RGB")


def resize_tensor(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Resize (N, C, H, W) to (height, width): antialiased when shrinking, bicubic when growing."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrinking = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(
        x, size=size, mode="bilinear" if shrinking else "bicubic", antialias=shrinking, align_corners=False
    )


def fit_long_side(x: torch.Tensor, side: int) -> torch.Tensor:
    """Resize (N, C, H, W) so that its longer side is `side`, keeping the aspect ratio."""
    h, w = x.shape[-2:]
    scale = side / max(h, w)
    return resize_tensor(x, (max(1, round(h * scale)), max(1, round(w * scale))))


# ITU-R BT.601 (JPEG) luma weights
_LUMA = torch.tensor([0.299, 0.587, 0.114])


def luminance(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) -> (N, 1, H, W)."""
    return (x * _LUMA.to(x)[None, :, None, None]).sum(dim=1, keepdim=True)


def keep_colors(stylized: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """The stylized picture's light and shade in the photo's colours (luminance transfer)."""
    # Shifting every channel by the luminance difference keeps the photo's chroma exactly.
    return (photo + (luminance(stylized) - luminance(photo))).clamp(0, 1)


_RGB_TO_XYZ = torch.tensor(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_XYZ_TO_RGB = torch.linalg.inv(_RGB_TO_XYZ)
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])  # D65


def srgb_to_lab(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) sRGB in 0..1 -> CIELAB (D65): L in 0..100, a and b about -100..100."""
    x = x.float().clamp(0, 1)
    linear = torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    xyz = torch.einsum("ij,njhw->nihw", _RGB_TO_XYZ.to(x), linear) / _WHITE.to(x)[None, :, None, None]
    f = torch.where(xyz > (6 / 29) ** 3, xyz.clamp_min(1e-12) ** (1 / 3), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], dim=1)


def lab_to_srgb(lab: torch.Tensor) -> torch.Tensor:
    """CIELAB (D65) -> (N, 3, H, W) sRGB in 0..1; colours outside sRGB are clipped."""
    fy = (lab[:, 0] + 16) / 116
    f = torch.stack([fy + lab[:, 1] / 500, fy, fy - lab[:, 2] / 200], dim=1)
    xyz = torch.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE.to(lab)[None, :, None, None]
    linear = torch.einsum("ij,njhw->nihw", _XYZ_TO_RGB.to(lab), xyz).clamp(0, 1)
    return torch.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear.clamp_min(1e-12) ** (1 / 2.4) - 0.055)


@dataclass(frozen=True)
class Palette:
    """A picture's colours as a Gaussian in CIELAB: the mean (3,) and covariance (3, 3)."""

    mean: torch.Tensor
    cov: torch.Tensor

    @classmethod
    def of(cls, img: torch.Tensor) -> Palette:
        return cls.of_colours(srgb_to_lab(img)[0].reshape(3, -1).double())

    @classmethod
    def of_colours(cls, lab: torch.Tensor) -> Palette:
        """From colours as (3, N) CIELAB values."""
        return cls(lab.mean(dim=1), torch.cov(lab))

    @classmethod
    def mix(cls, parts: list[tuple[Palette, float]]) -> Palette:
        """The palette of a blend: the moments of the weighted mixture."""
        total = sum(w for _, w in parts)
        mean = sum(w * p.mean for p, w in parts) / total
        second = sum(w * (p.cov + torch.outer(p.mean, p.mean)) for p, w in parts) / total
        # sum() starts from the int 0; with at least one part (none divides by zero above) both are tensors
        assert isinstance(mean, torch.Tensor) and isinstance(second, torch.Tensor)
        return cls(mean, second - torch.outer(mean, mean))


def _sqrtm(c: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(c)
    return vectors @ torch.diag(values.clamp_min(0).sqrt()) @ vectors.T


def match_palette(img: torch.Tensor, palette: Palette) -> torch.Tensor:
    """img's colours moved onto `palette` by the linear optimal-transport map between the two Gaussians.

    The Monge-Kantorovich solution (Pitié and Kokaram 2007): the smallest change of every colour
    that gives the picture the palette's mean and covariance, so light and shade, and the order of
    the colours, stay where they were.
    """
    lab = srgb_to_lab(img)
    flat = lab[0].reshape(3, -1).double()
    own = Palette.of_colours(flat)
    mean, cov = own.mean, own.cov
    ridge = 1e-2 * torch.eye(3, dtype=cov.dtype, device=cov.device)  # a flat picture has no spread to map
    root = _sqrtm(cov + ridge)
    inverse = torch.linalg.inv(root)
    transport = inverse @ _sqrtm(root @ (palette.cov.to(cov) + ridge) @ root) @ inverse
    moved = transport @ (flat - mean[:, None]) + palette.mean.to(mean)[:, None]
    return lab_to_srgb(moved.to(lab.dtype).reshape_as(lab[0])[None])


def _box(x: torch.Tensor, radius: int) -> torch.Tensor:
    pad = min(radius, x.shape[-2] - 1, x.shape[-1] - 1)
    return F.avg_pool2d(F.pad(x, (pad,) * 4, mode="replicate"), 2 * pad + 1, stride=1)


def guided_upsample(painted: torch.Tensor, photo: torch.Tensor, *, radius: int = 2, eps: float = 1e-4) -> torch.Tensor:
    """Enlarge a painting of the photo to the photo's size, with the photo's own edges and detail.

    painted (1, 3, h, w) is a painting of photo (1, 3, H, W) at a smaller size. Within each
    small window of the painting a guided filter (He, Sun and Tang 2013) fits every channel as a
    linear function of the photo's luminance; its slope says how strongly the painting follows
    the photo's light and shade there. The photo's luminance detail above the painting's scale is
    added with that slope: a contour the painting follows comes back sharp, in the painting's
    colours, and where the painting ignores the photo (a flat painted sky, a stroke across a
    texture) nothing is added. No detail is invented and the painting's strokes are kept as
    painted. eps is the luminance variance below which a window counts as flat (noise, not edges).
    """
    h, w = painted.shape[-2:]
    big = photo.shape[-2:]
    guide = luminance(photo.float())
    small = resize_tensor(guide, (h, w))
    mean_g, mean_p = _box(small, radius), _box(painted, radius)
    cov = _box(small * painted, radius) - mean_g * mean_p
    var = _box(small * small, radius) - mean_g * mean_g
    slope = _box(cov / (var + eps), radius)  # (1, 3, h, w)
    slope = F.interpolate(slope, size=big, mode="bilinear", align_corners=False)
    detail = guide - resize_tensor(small, big)
    return resize_tensor(painted, big) + slope * detail


def save_image(img: Image.Image, path: str | os.PathLike, **options) -> Path:
    """Write atomically: the file appears complete or not at all."""
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise StyleError(f"Cannot save as {path.suffix or 'a file without an extension'}; use .png, .jpg or .webp.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            img.save(fh, format=fmt, **options)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
