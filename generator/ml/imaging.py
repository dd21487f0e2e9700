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
MAX_SIDE = 4096  # the longest output side


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
        raise StyleError(
            f"The {what} is only {width}x{height} pixels; both sides need at least {MIN_SIDE} pixels."
        )
    return _to_rgb(ImageOps.exif_transpose(img))


def _open(source: ImageSource, what: str) -> Image.Image:
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


def resize_tensor(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize (N, C, H, W) to (height, width): antialiased when shrinking, bicubic when growing."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrinking = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear" if shrinking else "bicubic",
                         antialias=shrinking, align_corners=False)


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
