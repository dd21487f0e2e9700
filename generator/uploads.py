"""Uploads, from the first byte to a checked picture.

`TruncatingUploadHandler` keeps at most ARTSTUDIO_MAX_UPLOAD_BYTES + 1 bytes of any file
(ARTSTUDIO_MAX_MODEL_BYTES + 1 for a staff member's weights upload in the admin): without it a huge upload
is spooled to a temporary file in full before the studio can refuse it, and the one byte past the limit
lets `check_image` say "larger than the limit" clearly. `check_image` then decodes every pixel and
re-encodes the picture before anything is written.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin, UnidentifiedImageError

from generator.ml.options import STUDIO_SIDES

MODEL_FIELD = "weights_file"  # the admin's model upload field: weights are bigger than pictures


class TruncatingUploadHandler(FileUploadHandler):
    def _limit(self) -> int:
        user = getattr(self.request, "user", None)
        if self.field_name == MODEL_FIELD and user is not None and user.is_staff:
            return settings.ARTSTUDIO_MAX_MODEL_BYTES
        return settings.ARTSTUDIO_MAX_UPLOAD_BYTES

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        keep = self._limit() + 1 - start
        return raw_data[:keep] if keep > 0 else None  # None: later handlers never see the rest

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) builds the file


# By content, never by file name. A camera's multi-picture JPEG (MPO) is a JPEG with more pictures behind
# the first; WebP is kept as lossless PNG, so what is stored is exactly what was decoded.
STORED_AS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "PNG"}
SUFFIXES = {"JPEG": ".jpg", "PNG": ".png"}


# The longest picture the engine can paint: at the smallest output size its short side must still reach the
# engine's minimum (512 / 32 = 16:1).
MAX_ASPECT = STUDIO_SIDES[0] // settings.ARTSTUDIO_MIN_SIDE


@dataclass(frozen=True)
class CheckedImage:
    data: bytes  # re-encoded: pixels only, upright, no metadata but the colour profile
    suffix: str  # ".jpg" | ".png"
    width: int
    height: int


def check_image(upload: File, *, field: str) -> CheckedImage:
    """Read and fully decode an upload, and re-encode it; raise ValidationError({field: message}) on
    anything wrong, before anything is written.

    Every pixel is decoded here so a truncated file is refused now, not in the worker. The sizes are
    checked from the header first, so a decompression bomb (or a 40×100000 strip) is never decoded.
    What is kept is a new file made from the pixels alone: the photo's EXIF (GPS position, camera, name), comments and
    anything hidden after the picture (a ZIP in a JPEG+ZIP polyglot) are gone.
    """
    max_bytes = settings.ARTSTUDIO_MAX_UPLOAD_BYTES
    max_pixels = settings.ARTSTUDIO_MAX_PIXELS

    def refuse(message: str) -> ValidationError:
        return ValidationError({field: message})

    too_big = _("The file is larger than the %(limit)s MB limit.") % {"limit": f"{max_bytes / 2**20:.0f}"}
    if upload.size is not None and upload.size > max_bytes:  # uploads.py keeps at most one byte more
        raise refuse(too_big)
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise refuse(too_big)
    if not data:
        raise refuse(_("The file is empty. Please choose the picture again."))
    not_a_picture = _("This file is not a picture the studio can read. Please upload a JPEG, PNG or WebP image.")
    try:
        with warnings.catch_warnings():
            # Pillow warns about (and past twice its limit refuses) huge images: both mean "bomb" here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in STORED_AS:
                    raise refuse(
                        _(
                            "The studio reads JPEG, PNG and WebP pictures; this one is %(format)s. Please "
                            "save it as JPEG or PNG and upload it again."
                        )
                        % {"format": img.format}
                    )
                width, height = img.size
                if width * height > max_pixels:
                    raise refuse(
                        _(
                            "The picture is %(w)s×%(h)s pixels (%(mp)s megapixels); the limit is %(limit)s "
                            "megapixels. Please resize it and try again."
                        )
                        % {
                            "w": width,
                            "h": height,
                            "mp": f"{width * height / 1e6:.0f}",
                            "limit": f"{max_pixels / 1e6:.0f}",
                        }
                    )
                if min(width, height) < settings.ARTSTUDIO_MIN_SIDE:
                    raise refuse(
                        _("The picture is only %(w)s×%(h)s pixels; both sides need at least %(min)s pixels.")
                        % {"w": width, "h": height, "min": settings.ARTSTUDIO_MIN_SIDE}
                    )
                if max(width, height) > MAX_ASPECT * min(width, height):
                    raise refuse(
                        _(
                            "The picture is %(w)s×%(h)s pixels, more than %(ratio)s times as long as it is "
                            "wide; the studio paints pictures up to %(ratio)s:1. Please crop it and try again."
                        )
                        % {"w": width, "h": height, "ratio": MAX_ASPECT}
                    )
                img.load()  # decodes every byte: a truncated or corrupt file raises here
                stored = STORED_AS[img.format]
                encoded, width, height = _reencode(img, stored)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refuse(
            _(
                "The picture declares far more pixels than the %(limit)s-megapixel limit "
                "(a decompression bomb?). Please upload a smaller picture."
            )
            % {"limit": f"{max_pixels / 1e6:.0f}"}
        ) from None
    except UnidentifiedImageError:
        raise refuse(not_a_picture) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise refuse(_("The picture is damaged or cut short and cannot be read. Please upload it again.")) from None
    return CheckedImage(data=encoded, suffix=SUFFIXES[stored], width=width, height=height)


def _reencode(img: Image.Image, stored: str) -> tuple[bytes, int, int]:
    """The decoded picture, upright, as a new JPEG or PNG; only its colour profile is carried over.

    EXIF orientation is applied to the pixels (the new file has no EXIF to say it). An animated picture
    keeps its first frame. A CMYK JPEG becomes RGB, through its profile when it has one.
    """
    icc = img.info.get("icc_profile")
    sampling = JpegImagePlugin.get_sampling(img) if img.format in ("JPEG", "MPO") else -1
    upright = ImageOps.exif_transpose(img)
    # Pillow writes some of .info back when saving (a JPEG's comment, for one): keep only what the pixels need
    upright.info = {k: v for k, v in upright.info.items() if k == "transparency"}
    if upright.mode == "CMYK":
        upright, icc = _cmyk_to_rgb(upright, icc), None
    out = io.BytesIO()
    if stored == "JPEG":
        if upright.mode not in ("L", "RGB"):
            upright = upright.convert("RGB")
        # quality 95 at the source's chroma subsampling: a re-encode no one sees (4:4:4 when unknown)
        upright.save(out, format="JPEG", quality=95, subsampling=max(sampling, 0), icc_profile=icc)
    else:
        # fast deflate: a 40-megapixel PNG compresses in about a second instead of ten
        upright.save(out, format="PNG", compress_level=1, icc_profile=icc)
    return out.getvalue(), upright.width, upright.height


def _cmyk_to_rgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        try:
            converted = ImageCms.profileToProfile(
                img, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:  # None only when converting in place, which this is not
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: Pillow's plain conversion below
    return img.convert("RGB")


def stored_image(field) -> CheckedImage:
    """A picture the studio checked and stored before (a job's photo, a held upload), as check_image returns
    one: read as it is, never encoded again (a remix of a remix loses nothing)."""
    with field.open("rb") as handle:  # a FieldFile, or a storage's File
        data = handle.read()
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
        suffix = SUFFIXES[STORED_AS[str(img.format)]]
    return CheckedImage(data=data, suffix=suffix, width=width, height=height)
